import { Args } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { formatDuration } from '../../cli/duration.js';
import { LeaseCommand } from '../../cli/lease-command.js';
import { listingFlags, scopeOf } from '../../cli/kind-listing.js';
import { leaseKindFlag } from '../../cli/lease-flags.js';
import { breakArgs, commandLine } from '../../cli/break-commands.js';
import { validateObjectName } from '../../cli/validate.js';
import { isKind, KoncliError, usageError } from '../../core/errors.js';
import type { LeaseStatus } from '../../core/lease/describe.js';

export default class LeaseStatusCommand extends LeaseCommand {
  /** konductor's `koncli status lease NAME`. */
  static override aliases = ['status:lease'];
  static override summary = 'Show who holds a Lease, and until when (or list all Leases)';
  static override description = `For one lease: holder, phase (Available, Held, Expired), times, expiry on this machine's clock, renewals, transitions, priority, waiters, labels, and whether the holder's Pod still exists. Without NAME: the namespace's leases (-A: all namespaces, without node heartbeats and the control plane's own unless --system) with koncli status's columns: holder, state, expiry, last renewal, whether the holder is alive, waiters, and the command that breaks each stuck one.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> lease status db-migration',
    '<%= config.bin %> lease status -A',
    '<%= config.bin %> lease status db-migration --json',
  ];
  static override args = { name: Args.string({ description: 'Lease name (omit to list)', required: false }) };
  static override flags = {
    ...listingFlags('leases'),
    kind: leaseKindFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(LeaseStatusCommand);
    if (flags['all-namespaces'] && args.name !== undefined) throw usageError('-A lists every lease; pass either NAME or -A');
    const name = args.name === undefined ? undefined : validateObjectName(args.name, 'lease');
    const { client, ctx } = await this.openLeases(flags.kind);
    const { describeLease } = await import('../../core/lease/describe.js');
    const now = () => ctx.clock.now();
    if (name) {
      const record = await this.oneShot(ctx.clock, () => ctx.store.get(name));
      if (!record) throw new KoncliError('not-found', `lease ${name} not found in namespace ${client.namespace}`);
      // Waiters' candidates: one list request; without the right to list, the legacy queue alone.
      const candidates = await this.oneShot(ctx.clock, () => ctx.store.candidates.list(name)).catch((err: unknown) => {
        if (isKind(err, 'forbidden')) return [];
        throw err;
      });
      const status = describeLease(record, ctx.tracker, now(), ctx.clock.wallNow(), candidates);
      const { livenessJudge } = await import('../../kube/liveness.js');
      const live = status.holder ? await livenessJudge(client)(status.holder, status.namespace) : { alive: null, reason: null };
      const breakCommand = status.holder ? breakLeaseCommand(status, flags.kind) : null;
      await this.output.result({ ...status, alive: live.alive, aliveReason: live.reason, breakCommand }, () =>
        describeText(status, { alive: live.alive, reason: live.reason ?? '' }, breakCommand),
      );
      return;
    }
    if (!ctx.store.list) throw new KoncliError('usage', 'listing is not supported for this lease kind; pass a NAME');
    const [{ leaseLister }, { printKindListing }] = await Promise.all([import('../../cli/lock-listers.js'), import('../../cli/kind-listing.js')]);
    await printKindListing(this.output, client, leaseLister(client, flags.kind), scopeOf(flags), 'leases', (read) => this.oneShot(ctx.clock, read));
  }
}

/** The command that breaks the lease while its current holder still holds it (issue 23: what to do, first). */
const breakLeaseCommand = (s: LeaseStatus, kind: string) => commandLine(breakArgs.lease(s.name, s.namespace, kind === 'konductor', [s.holder]));

function describeText(s: LeaseStatus, live: { alive: boolean | null; reason: string }, breakCommand: string | null): string {
  const rows: [string, string][] = [
    ['Name', `${s.namespace}/${s.name}`],
    ['Holder', s.holder || '<none>'],
    ['Phase', s.phase],
  ];
  if (s.holder)
    rows.push(['Holder alive', `${live.alive === true ? 'yes' : live.alive === false ? 'no' : 'unknown'} (${live.reason.replace(/^unknown: /, '')})`]);
  rows.push(['Acquired', s.acquireTime ?? '-'], ['Renewed', s.renewTime ?? '-']);
  if (s.expires) rows.push(['Expires', `${s.expires} (${s.phase === 'Held' ? `in ${formatDuration((s.expiresInSeconds ?? 0) * 1000)}` : 'passed'})`]);
  rows.push(
    ['TTL', formatDuration(s.ttlSeconds * 1000) + (s.ttlUnset ? ' (unset by its holder: judged as this, see docs/clock.md)' : '')],
    ['Renewals', String(s.renewals)],
    ['Transitions', String(s.transitions)],
    ['Priority', String(s.priority)],
    ['Renewable', String(s.renewable)],
  );
  if (s.reason) rows.push(['Reason', s.reason]);
  rows.push(['Waiters', s.waiters.length ? s.waiters.map((w) => `${w.position}. ${w.id} (priority ${w.priority})`).join(', ') : '<none>']);
  if (breakCommand) rows.push(['Break with', breakCommand]);
  rows.push([
    'Labels',
    Object.entries(s.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '<none>',
  ]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${(k + ':').padEnd(width)}${v}`).join('\n');
}
