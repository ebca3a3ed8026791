import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { SemaphoreCommand } from '../../cli/semaphore-command.js';
import { ExitCode } from '../../cli/exit-codes.js';
import { commandOf, runSettings, supervisionFlags } from '../../cli/run-flags.js';
import { semaphoreMaxFlags, semaphoreNameArg, semaphoreWaitFlags } from '../../cli/semaphore-flags.js';
import { openSemaphores } from '../../cli/semaphore-session.js';
import { waitingLine } from '../../cli/semaphore-text.js';
import { validateObjectName } from '../../cli/validate.js';
import type { LockResult } from '../../core/semaphore/lock.js';
import type { SemaphoreObject } from '../../core/semaphore/model.js';
import { RUN_DEFAULT_TTL_SECONDS } from '../../core/timing.js';
import { usageError } from '../../core/errors.js';

export default class SemaphoreRun extends SemaphoreCommand {
  static override summary = 'Run a command while holding a slot of a semaphore; stop it before the slot could be lost';
  static override description = `Takes a slot (as \`semaphore lock\`, with a TTL renewed every third of it), runs the command without a shell, stdio passed through, and unlocks when the command and every process it started are done, exiting with the command's exit code (128+N: signal N). Supervised as \`lease run\` (docs/lease-run.md): signals are passed on, a watchdog bounds the command's life when koncli is killed or frozen, and a lost slot (renewals failing past the renew deadline, its entry removed by someone else — an unlock --force, a re-applied annotation —, the ConfigMap deleted) stops the command (--signal, then SIGKILL after --kill-after) and exits ${ExitCode.LOST}. When no slot can be had in time: --conflict-exit-code, and the command never starts. The command sees KONCLI_SEMAPHORE, KONCLI_NAMESPACE, KONCLI_HOLDER and KONCLI_FENCING_TOKEN (the resourceVersion of the write that took the slot).${EXIT_CODES_SECTION}`;
  static override examples = ["<%= config.bin %> semaphore run db-restarts --max 3 --create --wait --timeout 10m -- sh -c 'restart-one-db'"];
  static override strict = false;
  static override args = { name: semaphoreNameArg };
  static override flags = {
    holder: Flags.string({ description: 'holder identity (env KONCLI_HOLDER) [default: host name plus a random suffix, unique per run]' }),
    ...semaphoreMaxFlags,
    create: Flags.boolean({ description: 'create the ConfigMap when it does not exist' }),
    ttl: Flags.string({ description: `the slot's TTL, renewed every third of it [default: ${RUN_DEFAULT_TTL_SECONDS}s]` }),
    reason: Flags.string({ description: 'why you hold a slot (shown by status)' }),
    ...semaphoreWaitFlags,
    ...supervisionFlags('slot'),
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(SemaphoreRun);
    const name = validateObjectName(args.name, 'semaphore');
    const command = commandOf(this.argv, args.name, argv, 'koncli semaphore run NAME [flags] -- command [args…]');
    const { holder, ttlSeconds, supervision } = runSettings(flags, command);
    if (this.onKonductor) {
      if (flags['set-max']) throw usageError("--set-max is not supported with --kind konductor: edit the Semaphore's spec.permits");
      const createWith = flags.create ? (flags.max ?? 1) : undefined;
      return this.konductorRun({ name, holder, ttlSeconds, reason: flags.reason, createWith, max: flags.max }, supervision);
    }
    const client = await this.kube();
    const ctx = await openSemaphores(client);
    const [{ runAndReport, runReport }, { lockSemaphore }, { unlockSemaphore }, { keptSlot }] = await Promise.all([
      import('../../cli/claim-runner.js'),
      import('../../core/semaphore/lock.js'),
      import('../../core/semaphore/unlock.js'),
      import('../../core/semaphore/keep.js'),
    ]);
    const req = { name, namespace: client.namespace, holder, max: flags.max, setMax: flags['set-max'], reason: flags.reason, ttlSeconds, create: flags.create };
    await runAndReport<SemaphoreObject, LockResult>(
      client,
      this.output,
      {
        kind: 'semaphore',
        name,
        namespace: client.namespace,
        holder,
        ttlSeconds,
        clock: ctx.clock,
        acquire: (opts) => lockSemaphore(ctx, req, { ...opts, onProgress: (p) => opts.onBlocked(waitingLine(name, p), p.waitedMs) }),
        claimOf: (r) => ({ object: r.object, sentAt: r.sentAt, fencingToken: r.object.version }),
        keep: (c) => keptSlot(ctx, { name, holder, ttlSeconds, written: c.object, sentAt: c.sentAt }),
        release: () => unlockSemaphore(ctx, { name, namespace: client.namespace, holder, force: false, by: holder }),
        env: { KONCLI_SEMAPHORE: name },
      },
      supervision,
      runReport,
    );
  }
}
