import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { parseTtlSeconds } from '../../cli/duration.js';
import { ExitCode } from '../../cli/exit-codes.js';
import { runHolderFrom } from '../../cli/holder.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';
import { commandOf, parseSupervision, supervisionFlags } from '../../cli/run-flags.js';
import { waitOptions } from '../../cli/wait-options.js';
import type { OnceClaimed, OnceState } from '../../core/primitives/once.js';
import { RUN_DEFAULT_TTL_SECONDS } from '../../core/timing.js';

export default class OnceRun extends PrimitiveCommand {
  static override summary = 'Run a command exactly once across all callers; the others wait for it and exit 0';
  static override description = `The first caller claims the once and runs the command (no shell, stdio passed through) under a claim renewed every third of --ttl, supervised as \`lease run\` (docs/lease-run.md). Every other caller waits, watching the once: when the run exits 0 the once is done and they exit 0 without running the command; when it fails or its runner dies (its claim lapses: --ttl, judged on each machine's clock), the next caller takes over and runs it. A caller that comes after it is done exits 0 at once. The runner exits with the command's exit code (128+N: signal N), ${ExitCode.LOST} when its claim was lost; --timeout bounds the wait (then --conflict-exit-code). The command sees KONCLI_ONCE, KONCLI_NAMESPACE, KONCLI_HOLDER and KONCLI_FENCING_TOKEN (the resourceVersion its run was granted on: it grows with every run, also across a delete and re-create).${EXIT_CODES_SECTION}`;
  static override examples = [
    "<%= config.bin %> once run db-migrate-v42 -- sh -c 'migrate up'",
    '<%= config.bin %> once run warm-cache --timeout 10m -- ./warm.sh',
  ];
  static override strict = false;
  static override args = { name: primitiveNameArg('once') };
  static override flags = {
    holder: Flags.string({ description: 'holder identity (env KONCLI_HOLDER) [default: host name plus a random suffix, unique per run]' }),
    ttl: Flags.string({
      description: `the runner's claim lapses this long after its last renewal (renewed every third of it) [default: ${RUN_DEFAULT_TTL_SECONDS}s]`,
    }),
    timeout: Flags.string({ description: 'give up waiting for another runner after this long [default: wait for ever]' }),
    ...supervisionFlags('once'),
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(OnceRun);
    const name = this.nameOf(args.name, 'once');
    const command = commandOf(this.argv, args.name, argv, 'koncli once run NAME [flags] -- command [args…]');
    const holder = runHolderFrom(flags.holder);
    const ttlSeconds = flags.ttl === undefined ? RUN_DEFAULT_TTL_SECONDS : parseTtlSeconds(flags.ttl);
    const timeout = waitOptions({ wait: true, timeout: flags.timeout });
    const supervision = { ...parseSupervision(flags), orphans: flags.orphans, wait: timeout, command };
    const o = await import('../../core/primitives/once.js');
    await this.runClaimed<OnceState, OnceClaimed>(
      { kind: o.onceKind, name, holder, ttlSeconds },
      (ctx) => ({
        acquire: o.planOnceClaim(name, holder, ttlSeconds, ctx.clock),
        claimOf: (r) => ('run' in r ? r.run : undefined),
        lostIn: (state) => o.onceRunLost(name, holder, state),
        renew: o.planOnceRenew(name, holder, ttlSeconds),
        release: (exitCode) => o.planOnceFinish(name, holder, exitCode, ctx.clock),
        env: { KONCLI_ONCE: name },
      }),
      { ...supervision, conflictExitCode: flags['conflict-exit-code'] },
      (run) => {
        if ('run' in run.acquired) return { ...run.ended!, ran: true, fencingToken: run.acquired.run.fencingToken, renewals: run.renewals };
        const d = run.acquired.alreadyDone;
        this.output.info(`once ${name} was already done by ${d.holder} (finished ${d.finishedAt}, exit ${d.exitCode}); not running the command`);
        return { outcome: 'already-done', ran: false, doneBy: d.holder, finishedAt: d.finishedAt, exitCode: 0 };
      },
    );
  }
}
