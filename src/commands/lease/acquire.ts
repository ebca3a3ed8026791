import { Flags } from '@oclif/core';
import { breakArgs, commandLine } from '../../cli/break-commands.js';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { formatDuration, parseTtlSeconds } from '../../cli/duration.js';
import { holderFlag, holderFrom } from '../../cli/holder.js';
import { LeaseCommand } from '../../cli/lease-command.js';
import { labelsFlag, leaseKindFlag, leaseNameArg, priorityFlag, waitFlags } from '../../cli/lease-flags.js';
import { reportWaiting } from '../../cli/lease-text.js';
import { parseLabels, validateObjectName } from '../../cli/validate.js';
import { waitOptions } from '../../cli/wait-options.js';
import { wallTimeOf, type Clock } from '../../core/clock.js';
import type { AcquireResult } from '../../core/lease/acquire.js';

export default class LeaseAcquire extends LeaseCommand {
  static override summary = 'Acquire a Lease (or extend it if you already hold it)';
  static override description = `Takes the Lease when it is free or its holder's time has run out (judged on this machine's clock; see docs/clock.md), creating it if missing. With --wait, watches the Lease and takes it as soon as it frees, higher --priority waiters first.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> lease acquire daily-report --holder $HOSTNAME --timeout 0',
    '<%= config.bin %> lease acquire db-migration --holder $HOSTNAME --wait --timeout=5m',
    '<%= config.bin %> lease acquire init --ttl=10m --renewable=false',
  ];
  static override args = { name: leaseNameArg };
  static override flags = {
    holder: holderFlag,
    ttl: Flags.string({
      description:
        "how long our claim lasts without renewal [default: 5m, or a konductor Lease's spec.ttl; extending your own claim keeps its duration] (never the duration a previous holder left)",
    }),
    ...waitFlags,
    priority: priorityFlag,
    reason: Flags.string({ description: 'why you hold it (shown by status)' }),
    labels: labelsFlag,
    renewable: Flags.string({ description: 'false marks a one-time lease: later renewals are refused', options: ['true', 'false'], default: 'true' }),
    kind: leaseKindFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(LeaseAcquire);
    const name = validateObjectName(args.name, 'lease');
    const holder = holderFrom(flags.holder);
    const durationSeconds = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    const req = {
      name,
      holder,
      durationSeconds,
      priority: flags.priority,
      renewable: flags.renewable !== 'false',
      reason: flags.reason,
      labels: parseLabels(flags.labels),
    };
    const wait = waitOptions(flags);
    const { client, ctx } = await this.openLeases(flags.kind);
    this.busyBreak = (d) =>
      typeof d.holder === 'string' && d.holder ? commandLine(breakArgs.lease(name, client.namespace, flags.kind === 'konductor', [d.holder])) : undefined;
    const { acquireLease } = await import('../../core/lease/acquire.js');
    const result = await this.waiting(
      { wait: wait.wait, title: `waiting for lease ${name}`, done: () => `acquired lease ${name}` },
      async ({ progress, ...opts }) => {
        const waiting = reportWaiting(progress, name, () => ctx.clock.now());
        try {
          return await acquireLease(ctx, { ...req, namespace: client.namespace }, { ...wait, ...opts, onProgress: waiting.onProgress });
        } finally {
          waiting.stop();
        }
      },
    );
    await this.output.result(acquiredDoc(client.namespace, holder, name, result, ctx.clock), () => acquiredText(holder, name, result));
  }
}

function acquiredDoc(namespace: string, holder: string, name: string, result: AcquireResult, clock: Clock) {
  const ttlMs = result.record.holding.durationSeconds * 1000;
  return {
    kind: 'lease',
    namespace,
    name,
    lease: name,
    holder,
    outcome: result.outcome,
    state: 'held',
    // The holder's own deadline: the TTL from when its write was sent (every observer's is later).
    expiresAt: ttlMs > 0 ? new Date(wallTimeOf(clock, result.sentAt + ttlMs)).toISOString() : null,
    fencingToken: result.fencingToken,
    ttlSeconds: result.record.holding.durationSeconds,
    renewable: result.record.extras.renewable,
    transitions: result.record.holding.transitions,
    previousHolder: result.previousHolder || null,
    waitedMs: Math.round(result.waitedMs),
  };
}

const acquiredText = (holder: string, name: string, result: AcquireResult) =>
  result.outcome === 'already-held'
    ? `${holder} already holds one-time lease ${name} (not extended: renewable=false)`
    : `${result.outcome} lease ${name} as ${holder} for ${formatDuration(result.record.holding.durationSeconds * 1000)} (fencing token ${result.fencingToken})`;
