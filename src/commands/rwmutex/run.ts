import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { parseTtlSeconds } from '../../cli/duration.js';
import { ExitCode } from '../../cli/exit-codes.js';
import { runHolderFrom } from '../../cli/holder.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';
import { commandOf, parseSupervision, supervisionFlags } from '../../cli/run-flags.js';
import { runMode, rwLockFlags, rwWaitOptions, withdraw } from '../../cli/rwmutex-lock.js';
import type { RWLocked, RWMutexState } from '../../core/primitives/rwmutex.js';
import { RUN_DEFAULT_TTL_SECONDS } from '../../core/timing.js';

export default class RWMutexRun extends PrimitiveCommand {
  static override summary = 'Run a command under a read (--read) or the write (--write) lock of an rwmutex';
  static override description = `Takes the lock (as \`rwmutex rlock\` or \`rwmutex lock\`, with a TTL renewed every third of it), runs the command without a shell, stdio passed through, and releases it when the command and every process it started are done, exiting with the command's exit code (128+N: signal N). Supervised as \`lease run\` (docs/lease-run.md): signals are passed on, a lost lock (renewals failing past the renew deadline, a --force unlock, the rwmutex deleted) stops the command (--signal, then SIGKILL after --kill-after) and exits ${ExitCode.LOST}. When the lock cannot be had in time (30s by default, as \`rwmutex lock\`): --conflict-exit-code, and the command never starts. The command sees KONCLI_RWMUTEX, KONCLI_RWMUTEX_MODE, KONCLI_NAMESPACE, KONCLI_HOLDER and KONCLI_FENCING_TOKEN (a writer's own token; for a reader, the last writer's).${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> rwmutex run cache-lock --read -- ./read-cache.sh',
    "<%= config.bin %> rwmutex run cache-lock --write --timeout 10m -- sh -c 'rebuild-cache'",
  ];
  static override strict = false;
  static override args = { name: primitiveNameArg('rwmutex') };
  static override flags = {
    read: Flags.boolean({ description: 'run under a read lock (shared with other readers)', exclusive: ['write'] }),
    write: Flags.boolean({ description: 'run under the write lock (exclusive)', exclusive: ['read'] }),
    ...rwLockFlags('write'),
    holder: Flags.string({ description: 'holder identity (env KONCLI_HOLDER) [default: host name plus a random suffix, unique per run]' }),
    ttl: Flags.string({ description: `the lock's TTL, renewed every third of it [default: ${RUN_DEFAULT_TTL_SECONDS}s]` }),
    ...supervisionFlags('lock'),
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(RWMutexRun);
    const name = this.nameOf(args.name, 'rwmutex');
    const mode = runMode(flags);
    const command = commandOf(this.argv, args.name, argv, 'koncli rwmutex run NAME --read|--write [flags] -- command [args…]');
    const holder = runHolderFrom(flags.holder);
    const ttlSeconds = flags.ttl === undefined ? RUN_DEFAULT_TTL_SECONDS : parseTtlSeconds(flags.ttl);
    const wait = rwWaitOptions(flags);
    const supervision = { ...parseSupervision(flags), orphans: flags.orphans, wait, command };
    const rw = await import('../../core/primitives/rwmutex.js');
    try {
      await this.runClaimed<RWMutexState, RWLocked>(
        { kind: rw.rwmutexKind, name, holder, ttlSeconds },
        (ctx) => ({
          acquire: rw.planRWLock({ name, holder, mode, ttlSeconds, reason: flags.reason, waiting: wait.wait }, ctx.clock),
          claimOf: (r) => ({ object: r.object, claim: r.claim, sentAt: r.sentAt, fencingToken: r.fencingToken }),
          lostIn: (state) => rw.rwLost(name, holder, mode, state),
          renew: rw.planRWRenew(name, holder, mode, ttlSeconds),
          release: () => rw.planRWUnlock({ name, namespace: ctx.store.namespace, holder, force: false }),
          env: { KONCLI_RWMUTEX: name, KONCLI_RWMUTEX_MODE: mode },
        }),
        { ...supervision, conflictExitCode: flags['conflict-exit-code'] },
        (run) => ({ ...run.ended!, mode, fencingToken: run.acquired.fencingToken, renewals: run.renewals }),
      );
    } finally {
      // A writer that never got the lock (timeout, signal) leaves no waiting record behind (one read when there is none).
      if (mode === 'write' && wait.wait) await withdraw(await this.primitive('rwmutex'), name, holder, (m) => this.output.warn(m));
    }
  }
}
