import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { ExitCode } from '../../cli/exit-codes.js';
import { PrimitiveCommand, primitiveNameArg, primitiveWaitFlags } from '../../cli/primitive-command.js';
import { commandOf, runSettings, supervisionFlags } from '../../cli/run-flags.js';
import type { MutexLocked, MutexState } from '../../core/primitives/mutex.js';
import { RUN_DEFAULT_TTL_SECONDS } from '../../core/timing.js';

export default class MutexRun extends PrimitiveCommand {
  static override summary = 'Run a command while holding a mutex; stop it before the mutex could be lost';
  static override description = `Locks the mutex (as \`mutex lock\`, with a TTL renewed every third of it), runs the command without a shell, stdio passed through, and unlocks when the command and every process it started are done, exiting with the command's exit code (128+N: signal N). Supervised as \`lease run\` (docs/lease-run.md): signals are passed on, a lost mutex (renewals failing past the renew deadline, a --force unlock, the mutex deleted) stops the command (--signal, then SIGKILL after --kill-after) and exits ${ExitCode.LOST}. When the mutex cannot be had in time: --conflict-exit-code, and the command never starts. The command sees KONCLI_MUTEX, KONCLI_NAMESPACE, KONCLI_HOLDER and KONCLI_FENCING_TOKEN.${EXIT_CODES_SECTION}`;
  static override examples = ["<%= config.bin %> mutex run db-migration --wait --timeout 10m -- sh -c 'migrate up'"];
  static override strict = false;
  static override args = { name: primitiveNameArg('mutex') };
  static override flags = {
    holder: Flags.string({ description: 'holder identity (env KONCLI_HOLDER) [default: host name plus a random suffix, unique per run]' }),
    ttl: Flags.string({ description: `the hold's TTL, renewed every third of it [default: ${RUN_DEFAULT_TTL_SECONDS}s]` }),
    reason: Flags.string({ description: 'why you hold it (shown by status)' }),
    ...primitiveWaitFlags('the mutex is free'),
    ...supervisionFlags('mutex'),
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(MutexRun);
    const name = this.nameOf(args.name, 'mutex');
    const command = commandOf(this.argv, args.name, argv, 'koncli mutex run NAME [flags] -- command [args…]');
    const { holder, ttlSeconds, supervision } = runSettings(flags, command);
    const m = await import('../../core/primitives/mutex.js');
    await this.runClaimed<MutexState, MutexLocked>(
      { kind: m.mutexKind, name, holder, ttlSeconds },
      (ctx) => ({
        acquire: m.planMutexLock({ name, holder, ttlSeconds, reason: flags.reason }, ctx.clock),
        claimOf: (r) => ({ object: r.object, claim: r.claim, sentAt: r.sentAt, fencingToken: r.fencingToken }),
        lostIn: (state) => m.mutexLost(name, holder, state),
        renew: m.planMutexRenew(name, holder, ttlSeconds),
        release: () => m.planMutexUnlock({ name, namespace: ctx.store.namespace, holder, force: false }),
        env: { KONCLI_MUTEX: name },
      }),
      supervision,
      (run) => ({ ...run.ended!, fencingToken: run.acquired.fencingToken, renewals: run.renewals }),
    );
  }
}
