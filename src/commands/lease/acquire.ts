import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION, KoncliCommand } from '../../cli/base-command.js';
import { formatDuration, parseTtlSeconds } from '../../cli/duration.js';
import { defaultHolder, holderFlag, labelsFlag, leaseKindFlag, leaseNameArg, priorityFlag, waitFlags } from '../../cli/lease-flags.js';
import { openLeases, type LeaseKind } from '../../cli/lease-session.js';
import { reportWaiting } from '../../cli/lease-text.js';
import { startProgress } from '../../cli/progress.js';
import { parseLabels, validateHolder, validateObjectName } from '../../cli/validate.js';
import { waitOptions } from '../../cli/wait-options.js';

export default class LeaseAcquire extends KoncliCommand {
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
    ttl: Flags.string({ description: "how long our claim lasts without renewal [default: 5m, or a konductor Lease's spec.ttl; extending your own claim keeps its duration] (never the duration a previous holder left)" }),
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
    const holder = validateHolder(flags.holder ?? defaultHolder());
    const durationSeconds = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    const labels = parseLabels(flags.labels);
    const wait = waitOptions(flags);
    const client = await this.kube();
    const ctx = await openLeases(client, flags.kind as LeaseKind);
    const { acquireLease } = await import('../../core/lease/acquire.js');
    const progress = wait.wait ? await startProgress(this.output, `waiting for lease ${name}`) : undefined;
    const waiting = reportWaiting(progress, name, () => ctx.clock.now());
    const interrupt = new AbortController();
    const onSignal = () => interrupt.abort();
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    try {
      const result = await acquireLease(
        ctx,
        { name, namespace: client.namespace, holder, durationSeconds, priority: flags.priority, renewable: flags.renewable !== 'false', reason: flags.reason, labels },
        {
          ...wait,
          signal: interrupt.signal,
          onProgress: waiting.onProgress,
          onNotice: (m) => this.output.warn(m),
        },
      );
      await progress?.finish(true, `acquired lease ${name}`);
      const ttl = result.record.holding.durationSeconds;
      await this.output.result(
        {
          lease: name,
          namespace: client.namespace,
          holder,
          outcome: result.outcome,
          fencingToken: result.fencingToken,
          ttlSeconds: ttl,
          renewable: result.record.extras.renewable,
          transitions: result.record.holding.transitions,
          previousHolder: result.previousHolder || null,
          waitedMs: result.waitedMs,
        },
        () =>
          result.outcome === 'already-held'
            ? `${holder} already holds one-time lease ${name} (not extended: renewable=false)`
            : `${result.outcome} lease ${name} as ${holder} for ${formatDuration(ttl * 1000)} (fencing token ${result.fencingToken})`,
      );
    } catch (err) {
      await progress?.finish(false);
      throw err;
    } finally {
      waiting.stop();
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
  }
}
