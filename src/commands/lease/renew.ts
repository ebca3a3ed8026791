import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION, KoncliCommand } from '../../cli/base-command.js';
import { formatDuration, parseTtlSeconds } from '../../cli/duration.js';
import { defaultHolder, holderFlag, leaseKindFlag, leaseNameArg } from '../../cli/lease-flags.js';
import { openLeases, type LeaseKind } from '../../cli/lease-session.js';
import { validateHolder, validateObjectName } from '../../cli/validate.js';

export default class LeaseRenew extends KoncliCommand {
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
    const holder = validateHolder(flags.holder ?? defaultHolder());
    const durationSeconds = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    const client = await this.kube();
    const ctx = await openLeases(client, flags.kind as LeaseKind);
    const { renewLease } = await import('../../core/lease/renew.js');
    const record = await renewLease(ctx, { name, holder, durationSeconds });
    await this.output.result(
      { lease: name, namespace: client.namespace, holder, outcome: 'renewed', renewals: record.extras.renewals, ttlSeconds: record.holding.durationSeconds, renewTime: record.holding.renewTime },
      () => `renewed lease ${name} as ${holder} for ${formatDuration(record.holding.durationSeconds * 1000)} (renewal ${record.extras.renewals})`,
    );
  }
}
