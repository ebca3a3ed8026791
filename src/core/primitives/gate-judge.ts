import type { Clock } from '../clock.js';
import { readOf } from '../claim/engine.js';
import { nextLapse } from '../claim/judge.js';
import type { UnreadableRow } from '../claim/list.js';
import type { ClaimContext, RecordStore } from '../claim/model.js';
import { KoncliError } from '../errors.js';
import { ExpiryTracker, type ExpiryOptions } from '../expiry.js';
import { ChangeFeed } from '../feed.js';
import { judgeLease } from '../lease/judge.js';
import type { LeaseRecord } from '../lease/model.js';
import { retryOnConflict } from '../retry.js';
import { decodeSemaphore } from '../semaphore/codec.js';
import { judgeHolders } from '../semaphore/judge.js';
import { semaphoreKey, type SemaphoreObject } from '../semaphore/model.js';
import type { ServerClock } from '../server-clock.js';
import type { Versioned, Watchable } from '../store.js';
import { barrierKind, phaseOf } from './barrier.js';
import { gateKind, wantedState, type GateCondition, type GateOpened, type GateState } from './gate.js';

/** A batch/v1 Job as a gate judges it: konductor's controller counts it Complete once `status.succeeded > 0`. */
export interface JobObject extends Versioned {
  name: string;
  namespace: string;
  succeeded: number;
  /** Its Complete condition is True. */
  complete: boolean;
  /** Its Failed condition is True. */
  failed: boolean;
}

/** Where a gate's conditions are read and watched, per namespace (src/kube adapters). */
export interface GateStores {
  clock: Clock;
  serverClock: ServerClock;
  expiry?: ExpiryOptions;
  jobs(namespace: string): Watchable<JobObject>;
  leases(namespace: string): Watchable<LeaseRecord>;
  semaphores(namespace: string): Watchable<SemaphoreObject>;
  records(kind: 'barrier' | 'gate', namespace: string): RecordStore;
}

/** One condition as judged now: konductor's GateConditionStatus (type, name, met, message). */
export interface ConditionStatus extends GateCondition {
  namespace: string;
  met: boolean;
  message: string;
}

export interface GateEvaluation {
  exists: boolean;
  open: boolean;
  opened: GateOpened | null;
  conditions: ConditionStatus[];
  /** Monotonic ms when a judgement may change without any event (a lease or a barrier's deadline lapsing); Infinity when none. */
  until: number;
  state?: GateState;
  version?: string;
}

/**
 * The objects one evaluation read: with `watch`, each is read once and then followed by a
 * ChangeFeed (its watch, reconnects and silent-connection checks: core/feed.ts), so only events
 * naming it count; without, each is read afresh (status). Feeds no longer used are stopped.
 */
export class WatchSet {
  private readonly feeds = new Map<string, ChangeFeed<Versioned>>();
  private readonly used = new Set<string>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: { watch: boolean; deadline: number; signal?: AbortSignal; onNotice?: (m: string) => void },
  ) {}

  async current<T extends Versioned>(key: string, store: Watchable<T>, name: string): Promise<T | null> {
    this.used.add(key);
    if (!this.opts.watch) return store.get(name);
    let feed = this.feeds.get(key) as ChangeFeed<T> | undefined;
    if (!feed) {
      const { clock, opts } = this;
      const initial = await retryOnConflict({ clock, deadline: opts.deadline, onNotice: opts.onNotice, signal: opts.signal }, () => store.get(name));
      feed = new ChangeFeed(store, name, clock, initial, opts.onNotice);
      this.feeds.set(key, feed as unknown as ChangeFeed<Versioned>); // the map only waits and stops: nothing there depends on T
      feed.start();
    }
    return feed.current();
  }

  /** Starts a pass: the keys read from now on are the ones still needed. */
  pass(): void {
    this.used.clear();
  }

  /** Stops the feeds the last pass did not read (a condition removed with the gate's record changed). */
  prune(): void {
    for (const [key, feed] of this.feeds) {
      if (this.used.has(key)) continue;
      feed.stop();
      this.feeds.delete(key);
    }
  }

  /** Resolves when any followed object changes, at `until` (monotonic ms), or on abort. */
  async waitForAnyChange(until: number, signal?: AbortSignal): Promise<void> {
    const done = new AbortController();
    const onAbort = () => done.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([...this.feeds.values()].map((f) => f.waitForChange(until, done.signal)));
    } finally {
      done.abort();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  stop(): void {
    for (const feed of this.feeds.values()) feed.stop();
    this.feeds.clear();
  }
}

type Judged = { met: boolean; message: string; until?: number };

const jobJudged = (job: JobObject | null, state: string): Judged => {
  if (!job) return { met: false, message: 'Job not found' };
  if (state === 'Failed') return job.failed ? { met: true, message: 'Job failed' } : { met: false, message: 'Job has not failed' };
  return job.complete || job.succeeded > 0 ? { met: true, message: 'Job completed successfully' } : { met: false, message: 'Job not complete' };
};

/**
 * Judges gates and their conditions on one ExpiryTracker (leases, semaphore slots and barrier
 * deadlines by the time rules of docs/clock.md), reading through a WatchSet.
 */
export class GateJudge {
  private readonly tracker: ExpiryTracker;

  constructor(private readonly stores: GateStores) {
    this.tracker = new ExpiryTracker(stores.clock, stores.serverClock, stores.expiry);
  }

  private ctx(kind: 'barrier' | 'gate', namespace: string): ClaimContext {
    return { store: this.stores.records(kind, namespace), clock: this.stores.clock, serverClock: this.stores.serverClock, tracker: this.tracker };
  }

  /** A gate and each of its conditions, now; nested gates evaluated the same way (a cycle is never met). */
  async evaluate(set: WatchSet, namespace: string, name: string, seen: string[] = []): Promise<GateEvaluation> {
    const ctx = this.ctx('gate', namespace);
    const read = readOf(ctx, gateKind, name, await set.current(`Gate/${namespace}/${name}`, ctx.store, name));
    if (!read.state) return { exists: false, open: false, opened: null, conditions: [], until: Infinity };
    const path = [...seen, `${namespace}/${name}`];
    const conditions: ConditionStatus[] = [];
    let until = Infinity;
    for (const c of read.state.conditions) {
      const ns = c.namespace ?? namespace;
      const judged = await this.condition(set, c, ns, path);
      until = Math.min(until, judged.until ?? Infinity);
      conditions.push({ ...c, namespace: ns, met: judged.met, message: judged.message });
    }
    const allMet = conditions.length > 0 && conditions.every((c) => c.met);
    return {
      exists: true,
      open: read.state.opened !== null || allMet,
      opened: read.state.opened,
      conditions,
      until,
      state: read.state,
      version: read.obj?.version,
    };
  }

  private async condition(set: WatchSet, c: GateCondition, ns: string, path: string[]): Promise<Judged> {
    const key = `${c.type}/${ns}/${c.name}`;
    const now = this.stores.clock.now();
    try {
      switch (c.type) {
        case 'Job':
          return jobJudged(await set.current(key, this.stores.jobs(ns), c.name), wantedState(c)!);
        case 'Lease':
          return this.lease(await set.current(key, this.stores.leases(ns), c.name), wantedState(c)!, now);
        case 'Semaphore':
          return this.semaphore(await set.current(key, this.stores.semaphores(ns), c.name), c.value ?? 1, now);
        case 'Barrier': {
          const ctx = this.ctx('barrier', ns);
          const read = readOf(ctx, barrierKind, c.name, await set.current(key, ctx.store, c.name));
          if (!read.state) return { met: false, message: 'Barrier not found' };
          const phase = phaseOf(read);
          return { met: phase === 'Open', message: phase === 'Open' ? 'Barrier is open' : `Barrier is ${phase.toLowerCase()}`, until: nextLapse(read.views) };
        }
        case 'Gate': {
          if (path.includes(`${ns}/${c.name}`)) return { met: false, message: `Gate ${ns}/${c.name} depends on itself (a cycle of gates)` };
          const sub = await this.evaluate(set, ns, c.name, path);
          return { met: sub.open, message: !sub.exists ? 'Gate not found' : sub.open ? 'Gate is open' : 'Gate is not open', until: sub.until };
        }
      }
    } catch (err) {
      // Foreign or corrupt data behind a condition: not met, and said why (never overwritten).
      if (err instanceof KoncliError && err.kind === 'corrupt') return { met: false, message: err.message };
      throw err;
    }
  }

  private lease(record: LeaseRecord | null, state: string, now: number): Judged {
    // As konductor's controller: a Lease that does not exist meets neither state (a misspelt name must not open the gate).
    if (!record) return { met: false, message: 'Lease not found' };
    const view = judgeLease(record, this.tracker, now);
    const held = view.phase === 'Held';
    const text = held ? `Lease is held by ${view.holder}` : 'Lease is available';
    return { met: state === 'Acquired' ? held : !held, message: text, until: held ? view.expiresAt : undefined };
  }

  private semaphore(obj: SemaphoreObject | null, wanted: number, now: number): Judged {
    if (!obj) return { met: false, message: 'Semaphore not found' };
    if (obj.annotation === undefined) return { met: false, message: 'ConfigMap is not a kube-lock semaphore (no kube-lock annotation)' };
    const state = decodeSemaphore(obj.name, obj.annotation);
    const live = judgeHolders(state, this.tracker, semaphoreKey(obj), now).filter((v) => !v.expired);
    const free = Math.max(0, state.max - live.length);
    const until = Math.min(Infinity, ...live.map((v) => v.expiresAt ?? Infinity));
    return { met: free >= wanted, message: `Semaphore has ${free} free of ${state.max} permits (needs ${wanted})`, until };
  }
}

/** "gate X is closed: 1 of 2 conditions met (Job a: Job not complete)": the busy message of a wait. */
export function closedText(name: string, namespace: string, ev: GateEvaluation): string {
  if (!ev.exists) return `gate ${name} does not exist in namespace ${namespace} (yet)`;
  if (ev.conditions.length === 0) return `gate ${name} is closed (it has no conditions: it opens with koncli gate open ${name})`;
  const unmet = ev.conditions.filter((c) => !c.met).map((c) => `${c.type} ${c.name}: ${c.message}`);
  return `gate ${name} is closed: ${ev.conditions.length - unmet.length} of ${ev.conditions.length} conditions met (${unmet.join('; ')})`;
}

export interface GateWaitOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  onNotice?: (message: string) => void;
  onBlocked?: (text: string, waitedMs: number) => void;
}

/**
 * `gate wait`: evaluates the gate, and until it is open waits for a change of the gate or of any
 * object its conditions name (each watched), or the moment a judgement can lapse; `busy` (exit 3)
 * at the timeout or on abort, naming the conditions not met.
 */
export async function waitForGate(stores: GateStores, namespace: string, name: string, opts: GateWaitOptions): Promise<GateEvaluation & { waitedMs: number }> {
  const { clock } = stores;
  const startedAt = clock.now();
  const deadline = opts.timeoutMs === undefined ? Infinity : startedAt + opts.timeoutMs;
  const judge = new GateJudge(stores);
  const set = new WatchSet(clock, { watch: true, deadline, signal: opts.signal, onNotice: opts.onNotice });
  try {
    for (;;) {
      set.pass();
      const ev = await judge.evaluate(set, namespace, name);
      set.prune();
      const now = clock.now();
      if (ev.open) return { ...ev, waitedMs: now - startedAt };
      const text = closedText(name, namespace, ev);
      if (now >= deadline || opts.signal?.aborted)
        throw new KoncliError('busy', `${text}${opts.signal?.aborted ? ' (interrupted)' : ` (waited ${Math.round((now - startedAt) / 1000)}s)`}`);
      opts.onBlocked?.(text, now - startedAt);
      await set.waitForAnyChange(Math.min(ev.until + 1, deadline), opts.signal);
    }
  } finally {
    set.stop();
  }
}

/** One evaluation without watches (`gate status`, `gate list`). */
export async function evaluateGateOnce(stores: GateStores, namespace: string, name: string): Promise<GateEvaluation> {
  return new GateJudge(stores).evaluate(new WatchSet(stores.clock, { watch: false, deadline: Infinity }), namespace, name);
}

/** A gate in the shared `--json` vocabulary (also `koncli status`'s row for it): konductor's phase, conditionsMet/Total and each condition's status. */
export function describeGate(namespace: string, name: string, ev: GateEvaluation) {
  return {
    kind: 'gate',
    namespace,
    name,
    state: ev.open ? 'open' : 'closed',
    phase: ev.open ? 'Open' : 'Waiting',
    openedBy: ev.opened?.by ?? null,
    openedAt: ev.opened?.at ?? null,
    conditionsMet: ev.conditions.filter((c) => c.met).length,
    conditionsTotal: ev.conditions.length,
    conditions: ev.conditions,
    resourceVersion: ev.version ?? null,
  };
}

/**
 * Every gate `records` lists (its namespace, or more with `gate list -A`), each evaluated once in its
 * own namespace; a gate koncli cannot read is a corrupt row (core/claim/list.ts).
 */
export async function listGates(stores: GateStores, records: RecordStore): Promise<(ReturnType<typeof describeGate> | UnreadableRow)[]> {
  const objects = await records.list();
  return Promise.all(
    objects.map(async ({ namespace, name }) => {
      try {
        return describeGate(namespace, name, await evaluateGateOnce(stores, namespace, name));
      } catch (err) {
        if (!(err instanceof KoncliError)) throw err;
        return { kind: 'gate', namespace, name, state: 'corrupt' as const, error: { kind: err.kind, message: err.message } };
      }
    }),
  );
}
