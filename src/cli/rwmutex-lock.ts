import { Flags } from '@oclif/core';
import { isKind, usageError } from '../core/errors.js';
import { heldDoc } from '../core/claim/describe.js';
import type { ClaimContext } from '../core/claim/model.js';
import { formatDuration, parseTtlSeconds } from './duration.js';
import { holderFlag, holderFrom } from './holder.js';
import { PrimitiveCommand } from './primitive-command.js';
import { waitOptions } from './wait-options.js';

/** konductor's rwmutex rlock/lock wait: without --timeout (and without --wait) up to 30s (its SDK's WaitConfig default). */
export const RWMUTEX_DEFAULT_TIMEOUT_MS = 30_000;

/** --wait / --timeout of `rwmutex rlock|lock|run`: konductor's defaults; --timeout 0 tries once, --wait alone waits for ever. */
export function rwWaitOptions(flags: { wait?: boolean; timeout?: string }): { wait: boolean; timeoutMs?: number } {
  if (flags.timeout === undefined && !flags.wait) return { wait: true, timeoutMs: RWMUTEX_DEFAULT_TIMEOUT_MS };
  return waitOptions(flags);
}

/** The flags `rwmutex rlock` and `rwmutex lock` share (konductor's --holder and --timeout, plus --ttl, --reason, --wait). */
export const rwLockFlags = (mode: 'read' | 'write') => ({
  holder: holderFlag,
  ttl: Flags.string({ description: `the ${mode} lock lapses this long after it was taken [default: the rwmutex's --ttl, else 5m]` }),
  reason: Flags.string({ description: 'why you hold it (shown by status)' }),
  wait: Flags.boolean({ description: 'wait (by watching the rwmutex) without a time limit, unless --timeout' }),
  timeout: Flags.string({ description: 'give up waiting after this long; 0 tries once [default: 30s, as konductor]' }),
});

/** `rwmutex run --read|--write`: exactly one of them. */
export function runMode(flags: { read?: boolean; write?: boolean }): 'read' | 'write' {
  if (flags.read === flags.write) throw usageError('rwmutex run needs exactly one of --read or --write');
  return flags.read ? 'read' : 'write';
}

/** `rwmutex rlock` and `rwmutex lock`: one verb, the mode apart. */
export abstract class RWMutexLockCommand extends PrimitiveCommand {
  protected async lockAs(
    mode: 'read' | 'write',
    args: { name: string },
    flags: { holder?: string; ttl?: string; reason?: string; wait?: boolean; timeout?: string },
  ) {
    const name = this.nameOf(args.name, 'rwmutex');
    const holder = holderFrom(flags.holder);
    const ttlSeconds = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    const wait = rwWaitOptions(flags);
    const ctx = await this.primitive('rwmutex');
    const rw = await import('../core/primitives/rwmutex.js');
    const plan = rw.planRWLock({ name, holder, mode, ttlSeconds, reason: flags.reason, waiting: wait.wait }, ctx.clock);
    const what = mode === 'read' ? 'read lock' : 'write lock';
    const decided = await this.verb(ctx, rw.rwmutexKind, name, plan, wait, () => `took the ${what} of rwmutex ${name}`).catch(async (err: unknown) => {
      if (mode === 'write' && wait.wait) await withdraw(ctx, name, holder, (m) => this.output.warn(m));
      throw err;
    });
    const { result, waitedMs } = decided;
    const ttl = result.claim.ttlSeconds!;
    const doc = { ...heldDoc({ kind: 'rwmutex', namespace: ctx.store.namespace, name, holder }, result, waitedMs, ctx.clock), mode };
    await this.output.result(
      doc,
      () => `${result.outcome} the ${what} of rwmutex ${name} as ${holder} for ${formatDuration(ttl * 1000)} (fencing token ${result.fencingToken})`,
    );
  }
}

/** A writer that gave up waiting takes back its waiting record (best effort: otherwise it lapses by itself within 30s). */
export async function withdraw(ctx: ClaimContext, name: string, holder: string, warn: (m: string) => void): Promise<void> {
  const [{ decide }, rw] = await Promise.all([import('../core/claim/engine.js'), import('../core/primitives/rwmutex.js')]);
  await decide(ctx, rw.rwmutexKind, name, rw.planRWWithdraw(holder), { wait: false }).catch((err: Error) => {
    // Corrupt data: every reader refuses the object, so a record left in it holds nobody back; the error itself is reported once.
    if (isKind(err, 'corrupt')) return;
    warn(
      `could not withdraw the waiting record of ${holder} from rwmutex ${name} (${err.message}); it lapses by itself within ${rw.WAITING_WRITER_TTL_SECONDS}s`,
    );
  });
}
