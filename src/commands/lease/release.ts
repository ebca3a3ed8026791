import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { forceAuthor, forceFlags, ifHoldersFrom } from '../../cli/force-flags.js';
import { holderFlag, holderFrom } from '../../cli/holder.js';
import { LeaseCommand } from '../../cli/lease-command.js';
import { leaseKindFlag, leaseNameArg } from '../../cli/lease-flags.js';
import { validateObjectName } from '../../cli/validate.js';
import { usageError } from '../../core/errors.js';

export default class LeaseRelease extends LeaseCommand {
  static override summary = 'Release a Lease you hold (or break a stuck one with --force)';
  static override description = `Empties holderIdentity (client-go's convention for stepping down); idempotent when the lease is already free or does not exist (exit 0, outcome already-free). Exits 5 (not-held) when someone else holds it, unless --force, which displaces them, prints whom, and records an Event on the Lease naming the Kubernetes user who broke it (as kubectl auth whoami tells) and --reason. With --if-holder X the force breaks it only while X still holds it (exit 5 otherwise, nothing changed). A --force that breaks nothing fails: exit 6 when the lease does not exist, 5 when nobody holds it: the command koncli status prints.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> lease release db-migration --holder $HOSTNAME',
    '<%= config.bin %> lease release db-migration -n jobs --force --if-holder web-7d9f8-x2k4q --reason "pod gone"   # 3 a.m.: break a stuck lease',
  ];
  static override args = { name: leaseNameArg };
  static override flags = {
    holder: holderFlag,
    delete: Flags.boolean({ description: 'delete the Lease (only if it is still as we read it)' }),
    force: Flags.boolean({ description: 'release even though someone else holds it; records an Event' }),
    ...forceFlags,
    kind: leaseKindFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(LeaseRelease);
    const name = validateObjectName(args.name, 'lease');
    const holder = holderFrom(flags.holder);
    const ifHolder = ifHoldersFrom(flags['if-holder']);
    if (ifHolder && !flags.force) throw usageError('--if-holder applies to --force; add --force');
    const { client, ctx } = await this.openLeases(flags.kind);
    const { releaseLease } = await import('../../core/lease/release.js');
    const author = flags.force ? await forceAuthor(client, holder, flags.reason) : undefined;
    const result = await releaseLease(ctx, { name, namespace: client.namespace, holder, delete: flags.delete, force: flags.force, ifHolder, author });
    if (result.eventError) this.output.warn(`could not record the force-release Event: ${result.eventError}`);
    await this.output.result(
      {
        kind: 'lease',
        namespace: client.namespace,
        name,
        lease: name,
        holder,
        outcome: result.outcome,
        state: 'free',
        previousHolder: result.previousHolder || null,
        forced: result.forced,
      },
      () => {
        const displaced = result.forced ? ` (displaced ${result.previousHolder})` : '';
        switch (result.outcome) {
          case 'already-free':
            return `lease ${name} is already free (or does not exist); nothing to release`;
          default:
            return `${result.outcome} lease ${name}${displaced}`;
        }
      },
    );
  }
}
