import { Args, Flags } from '@oclif/core';
import { EXIT_CODES_SECTION, KoncliCommand } from '../../cli/base-command.js';
import { ExitCode } from '../../cli/exit-codes.js';
import { openKubelocks, parseTarget } from '../../cli/kubelock-session.js';
import { commandOf, runSettings, supervisionFlags } from '../../cli/run-flags.js';
import { validateKeyName } from '../../cli/validate.js';
import type { AcquireLockResult } from '../../core/kubelock/acquire.js';
import type { AnnotatedObject } from '../../core/kubelock/model.js';
import { RUN_DEFAULT_TTL_SECONDS } from '../../core/timing.js';

export default class KubelockRun extends KoncliCommand {
  static override summary = 'Run a command while holding a lock kept in an annotation on any object; stop it before the lock could be lost';
  static override description = `Takes the lock (as \`kubelock annotate\`, giantswarm/kubelock's format, with a TTL refreshed every third of it), runs the command without a shell, stdio passed through, and releases the lock when the command and every process it started are done, exiting with the command's exit code (128+N: signal N). Supervised as \`lease run\` (docs/lease-run.md): signals are passed on, a watchdog bounds the command's life when koncli is killed or frozen, and a lost lock (refreshes failing past the renew deadline, the annotation removed or replaced by someone else — a release --force, a GitOps re-apply —, the object deleted) stops the command (--signal, then SIGKILL after --kill-after) and exits ${ExitCode.LOST}. When the lock cannot be had in time: --conflict-exit-code, and the command never starts. The command sees KONCLI_LOCK, KONCLI_NAMESPACE, KONCLI_HOLDER and KONCLI_FENCING_TOKEN (the resourceVersion of the write that took the lock).${EXIT_CODES_SECTION}`;
  static override examples = ["<%= config.bin %> kubelock run deployments.apps/web --lock rollout --wait --timeout 10m -- sh -c 'rollout.sh'"];
  static override strict = false;
  static override args = {
    'TYPE/NAME': Args.string({ description: 'the object carrying the lock, e.g. configmap/foo, deployments.apps/web, namespace/team-a', required: true }),
  };
  static override flags = {
    lock: Flags.string({ description: 'lock name: the annotation kubelock.giantswarm.io/<lock>', required: true }),
    holder: Flags.string({
      description: 'who holds the lock, its owner (env KONCLI_HOLDER) [default: host name plus a random suffix, unique per run]',
      aliases: ['owner'],
    }),
    ttl: Flags.string({ description: `the lock's TTL, refreshed every third of it [default: ${RUN_DEFAULT_TTL_SECONDS}s]` }),
    wait: Flags.boolean({ description: 'wait (by watching the object) until the lock can be had; without --timeout waits for ever' }),
    timeout: Flags.string({ description: 'give up waiting after this long (0: try once); implies --wait when not 0' }),
    ...supervisionFlags('lock'),
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(KubelockRun);
    const target = parseTarget(args['TYPE/NAME']);
    const lock = validateKeyName(flags.lock, '--lock');
    const command = commandOf(this.argv, args['TYPE/NAME'], argv, 'koncli kubelock run TYPE/NAME --lock LOCK [flags] -- command [args…]');
    const { holder: owner, ttlSeconds, supervision } = runSettings(flags, command);
    const ttlNs = BigInt(ttlSeconds) * 1_000_000_000n;
    const client = await this.kube();
    const ctx = await openKubelocks(client, target.type);
    const [{ runAndReport, runReport }, { acquireLock }, { releaseLock }, { keptLock }] = await Promise.all([
      import('../../cli/claim-runner.js'),
      import('../../core/kubelock/acquire.js'),
      import('../../core/kubelock/release.js'),
      import('../../core/kubelock/keep.js'),
    ]);
    const req = { name: target.name, lock, owner, ttlNs };
    await runAndReport<AnnotatedObject, AcquireLockResult>(
      client,
      this.output,
      {
        kind: 'kubelock',
        name: `${ctx.store.displayName}/${target.name}`,
        namespace: ctx.store.namespace ?? null,
        holder: owner,
        ttlSeconds,
        clock: ctx.clock,
        acquire: (opts) =>
          acquireLock(ctx, req, { ...opts, onProgress: (view, waitedMs) => opts.onBlocked(`lock ${lock} held by ${view.data?.owner}`, waitedMs) }),
        claimOf: (r) => ({ object: r.object, sentAt: r.sentAt, fencingToken: r.object.version }),
        keep: (c) => keptLock(ctx, { name: target.name, lock, owner, ttlNs, written: c.object, sentAt: c.sentAt }),
        release: () => releaseLock(ctx, { name: target.name, lock, owner, force: false }),
        env: { KONCLI_LOCK: lock, KONCLI_OBJECT: `${ctx.store.displayName}/${target.name}` },
      },
      supervision,
      runReport,
    );
  }
}
