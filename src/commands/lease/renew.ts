import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { formatDuration, parseTtlSeconds } from '../../cli/duration.js';
import { holderFlag, holderFrom } from '../../cli/holder.js';
import { LeaseCommand } from '../../cli/lease-command.js';
import { leaseKindFlag, leaseNameArg } from '../../cli/lease-flags.js';
import { validateObjectName } from '../../cli/validate.js';

export default class LeaseRenew extends LeaseCommand {
  static override summary = 'Renew a Lease you hold';
  static override description = `Succeeds only for the current holder and counts renewals; exits 4 (lost) when someone else holds the lease, it was released, or it no longer exists.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> lease renew db-migration --holder $HOSTNAME --ttl 2m'];
  static override args = { name: leaseNameArg };
  static override flags = {
    holder: holderFlag,
    ttl: Flags.string({ description: 'new duration (default: keep the current one)' }),
    kind: leaseKindFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(LeaseRenew);
    const name = validateObjectName(args.name, 'lease');
    const holder = holderFrom(flags.holder);
    const durationSeconds = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    const { client, ctx } = await this.openLeases(flags.kind);
    const { renewLease } = await import('../../core/lease/renew.js');
    const record = await renewLease(ctx, { name, holder, durationSeconds });
    await this.output.result(
      {
        kind: 'lease',
        namespace: client.namespace,
        name,
        lease: name,
        holder,
        outcome: 'renewed',
        state: 'held',
        // The writer's own stamp: renewTime (its wall clock) plus the duration.
        expiresAt: record.holding.renewTime ? new Date(Date.parse(record.holding.renewTime) + record.holding.durationSeconds * 1000).toISOString() : null,
        renewals: record.extras.renewals,
        ttlSeconds: record.holding.durationSeconds,
        renewTime: record.holding.renewTime,
      },
      () => `renewed lease ${name} as ${holder} for ${formatDuration(record.holding.durationSeconds * 1000)} (renewal ${record.extras.renewals})`,
    );
  }
}
