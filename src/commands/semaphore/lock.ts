import { Flags } from '@oclif/core';
import { breakArgs, commandLine } from '../../cli/break-commands.js';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { SemaphoreCommand } from '../../cli/semaphore-command.js';
import { formatDuration, parseTtlSeconds } from '../../cli/duration.js';
import { holderFlag, holderFrom } from '../../cli/holder.js';
import { semaphoreMaxFlags, semaphoreNameArg, semaphoreWaitFlags } from '../../cli/semaphore-flags.js';
import { waitingLine } from '../../cli/semaphore-text.js';
import { openSemaphores } from '../../cli/semaphore-session.js';
import { validateObjectName } from '../../cli/validate.js';
import { waitOptions } from '../../cli/wait-options.js';
import { wallTimeOf, type Clock } from '../../core/clock.js';
import type { LockResult } from '../../core/semaphore/lock.js';
import type { SemaphoreContext } from '../../core/semaphore/model.js';
import { usageError } from '../../core/errors.js';

export default class SemaphoreLock extends SemaphoreCommand {
  static override summary = 'Take one of the N slots of a semaphore (kube-lock compatible)';
  static override description = `The semaphore is the "kube-lock" annotation of a ConfigMap named NAME, in kube-lock's format, so koncli and kube-lock share it. Locking again as a current holder succeeds and changes nothing (with --ttl it refreshes the slot's expiry). The max stored in the semaphore is authoritative: a different --max is refused unless --set-max. With --ttl the slot lapses unless locked again in time (judged on each machine's own clock; see docs/semaphore.md). With --wait, watches the ConfigMap and takes a slot as soon as one frees.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> semaphore lock db-restarts --holder $HOSTNAME --max 2 --create --reason "db restart"',
    '<%= config.bin %> semaphore lock db-restarts --holder $HOSTNAME --wait --timeout 5m',
    '<%= config.bin %> semaphore lock db-restarts --holder $HOSTNAME --ttl 10m',
    '<%= config.bin %> semaphore lock db-restarts --holder $HOSTNAME --max 3 --set-max',
  ];
  static override args = { name: semaphoreNameArg };
  static override flags = {
    holder: holderFlag,
    ...semaphoreMaxFlags,
    reason: Flags.string({ description: 'why you hold a slot (shown by status)' }),
    ttl: Flags.string({ description: 'the slot lapses this long after the last lock unless locked again (default: held until unlocked)' }),
    create: Flags.boolean({ description: 'create the ConfigMap when it does not exist' }),
    ...semaphoreWaitFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(this.constructor as typeof SemaphoreLock); // also `semaphore acquire`'s
    const name = validateObjectName(args.name, 'semaphore');
    const holder = holderFrom(flags.holder);
    const ttl = flags.ttl === undefined ? undefined : parseTtlSeconds(flags.ttl);
    const wait = waitOptions(flags);
    if (this.onKonductor) {
      if (flags['set-max'])
        throw usageError("--set-max is not supported with --kind konductor: edit the Semaphore's spec.permits (kubectl edit semaphores.konductor.io NAME)");
      const createWith = flags.create ? (flags.max ?? 1) : undefined;
      return this.konductorAcquire({ name, holder, ttlSeconds: ttl, reason: flags.reason, createWith, max: flags.max, wait });
    }
    const client = await this.kube();
    const ctx = await openSemaphores(client);
    const ttlSeconds = await this.slotTtl(ctx, name, ttl);
    // One holder: break it while it still holds (as every kind). Several: remove only those judged dead (--dead), never every live slot.
    this.busyBreak = (d) => {
      const holders = Array.isArray(d.holders) ? d.holders.filter((h): h is string => typeof h === 'string') : [];
      return commandLine(
        holders.length === 1
          ? breakArgs.semaphore(name, client.namespace, holders)
          : ['semaphore', 'unlock', name, '-n', client.namespace, '--force', '--dead'],
      );
    };
    const { lockSemaphore } = await import('../../core/semaphore/lock.js');
    const req = { name, namespace: client.namespace, holder, max: flags.max, setMax: flags['set-max'], reason: flags.reason, ttlSeconds, create: flags.create };
    const result = await this.waiting(
      { wait: wait.wait, title: `waiting for semaphore ${name}`, done: () => `locked semaphore ${name}` },
      ({ progress, ...opts }) => lockSemaphore(ctx, req, { ...wait, ...opts, onProgress: (p) => progress?.update(waitingLine(name, p)) }),
    );
    await this.output.result(lockedDoc(req, result, ctx.clock), () => lockedText(req, result));
  }

  /** The slot's TTL: --ttl, else none (held until unlocked, as kube-lock); `semaphore acquire` has konductor's default. */
  protected slotTtl(_ctx: SemaphoreContext, _name: string, flagTtl: number | undefined): Promise<number | undefined> {
    return Promise.resolve(flagTtl);
  }
}

interface Locked {
  name: string;
  namespace: string;
  holder: string;
  ttlSeconds?: number;
}

function lockedDoc({ name, namespace, holder, ttlSeconds }: Locked, result: LockResult, clock: Clock) {
  const heldUntil = result.heldUntil === undefined ? null : new Date(wallTimeOf(clock, result.heldUntil)).toISOString();
  return {
    kind: 'semaphore',
    namespace,
    name,
    semaphore: name,
    holder,
    outcome: result.outcome,
    state: 'held',
    expiresAt: heldUntil,
    // The resourceVersion of the write that took (or kept) the slot: it only grows (semaphore run's KONCLI_FENCING_TOKEN).
    fencingToken: result.object.version,
    created: result.created,
    max: result.state.max,
    holders: Object.keys(result.state.holders),
    ttlSeconds: ttlSeconds ?? result.state.holders[holder]?.ttlSeconds ?? null,
    heldUntil,
    resourceVersion: result.object.version,
    waitedMs: Math.round(result.waitedMs),
  };
}

function lockedText({ name, holder, ttlSeconds }: Locked, result: LockResult): string {
  const slots = `${Object.keys(result.state.holders).length}/${result.state.max} slots in use`;
  const ttl = ttlSeconds === undefined ? '' : ` for ${formatDuration(ttlSeconds * 1000)}`;
  if (result.outcome === 'already-held') return `${holder} already holds a slot of semaphore ${name} (${slots})`;
  return `${result.outcome} a slot of semaphore ${name} as ${holder}${ttl} (${slots}${result.created ? '; created the ConfigMap' : ''})`;
}
