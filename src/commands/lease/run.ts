import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION, KoncliCommand } from '../../cli/base-command.js';
import { parseTtlSeconds } from '../../cli/duration.js';
import { ExitCode } from '../../cli/exit-codes.js';
import { runHolderFrom } from '../../cli/holder.js';
import { labelsFlag, leaseKindFlag, leaseNameArg, priorityFlag, waitFlags } from '../../cli/lease-flags.js';
import { commandOf, parseSupervision, supervisionFlags } from '../../cli/run-flags.js';
import { parseLabels, validateObjectName } from '../../cli/validate.js';
import { waitOptions } from '../../cli/wait-options.js';
import { RUN_DEFAULT_TTL_SECONDS } from '../../core/timing.js';

export const RUN_DEFAULT_TTL = `${RUN_DEFAULT_TTL_SECONDS}s`;

export default class LeaseRun extends KoncliCommand {
  static override summary = 'Run a command while holding a Lease; stop it before the lease could be lost';
  static override description = `Acquires the lease (as \`lease acquire\`), runs the command directly (no shell) with stdio passed through, renews in the background, and releases when the command exits and no process it started is left (--orphans), exiting with the command's exit code (128+N if it died of signal N). If renewal keeps failing past the renew deadline (2/3 of the TTL) or another holder appears, the command and every process it started get --signal, then SIGKILL after --kill-after, and koncli exits ${ExitCode.LOST} (lost). SIGINT, SIGTERM and SIGHUP sent to koncli are passed on to the command and every process it started (own sessions and daemons included). When the lease cannot be had in time: --conflict-exit-code, and the command never starts. The command sees KONCLI_LEASE, KONCLI_NAMESPACE, KONCLI_HOLDER and KONCLI_FENCING_TOKEN (strictly increasing across holders; see docs/lease-run.md). With --json, koncli's result document follows whatever the command itself wrote to stdout: send the command's output elsewhere (sh -c './job > job.log') to parse stdout.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> lease run nightly-report -- ./report.sh --full',
    "<%= config.bin %> lease run db-migration --wait --timeout 10m -- sh -c 'migrate up'",
    "<%= config.bin %> lease run backup --orphans wait -- sh -c 'nohup ./backup.sh >/dev/null 2>&1 &'",
  ];
  static override strict = false;
  static override args = { name: leaseNameArg };
  static override flags = {
    holder: Flags.string({ description: 'holder identity (env KONCLI_HOLDER) [default: host name plus a random suffix, unique per run]' }),
    ttl: Flags.string({
      description: `duration of our claim, renewed every third of it [default: ${RUN_DEFAULT_TTL}; a konductor Lease's spec.ttl] (never the duration a previous holder left)`,
    }),
    ...waitFlags,
    ...supervisionFlags('lease'),
    delete: Flags.boolean({ description: 'delete the Lease afterwards (only if we still hold it)' }),
    labels: labelsFlag,
    priority: priorityFlag,
    reason: Flags.string({ description: 'why you hold it (shown by status)' }),
    kind: leaseKindFlag,
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(LeaseRun);
    const name = validateObjectName(args.name, 'lease');
    const command = commandOf(this.argv, args.name, argv, 'koncli lease run NAME [flags] -- command [args…]');
    const holder = runHolderFrom(flags.holder);
    const durationSeconds = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    const { signal, killAfterMs } = parseSupervision(flags);
    const labels = parseLabels(flags.labels);
    const wait = waitOptions(flags);

    const client = await this.kube();
    const [{ leaseRunSpec, leaseRunBusy }, { runAndReport, runReport }, { openLeases }] = await Promise.all([
      import('../../cli/lease-runner.js'),
      import('../../cli/claim-runner.js'),
      import('../../cli/lease-session.js'),
    ]);
    const req = {
      name,
      holder,
      durationSeconds,
      defaultDurationSeconds: RUN_DEFAULT_TTL_SECONDS,
      delete: flags.delete,
      labels,
      priority: flags.priority,
      reason: flags.reason,
      kind: flags.kind,
    };
    const spec = await leaseRunSpec(client, await openLeases(client, flags.kind), req);
    const supervision = { command, wait, signal, killAfterMs, orphans: flags.orphans, conflictExitCode: flags['conflict-exit-code'] };
    await runAndReport(client, this.output, spec, supervision, (run) => ({ lease: name, ...runReport(run) }), leaseRunBusy(client, this.output, req));
  }
}
