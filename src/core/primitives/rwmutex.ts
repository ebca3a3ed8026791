import type { Clock } from '../clock.js';
import { KoncliError } from '../errors.js';
import { planCreate } from '../claim/create.js';
import { claimDoc, type ClaimState } from '../claim/describe.js';
import type { Plan, Read } from '../claim/engine.js';
import { readToken, withToken, type FencingToken } from '../claim/fencing.js';
import { holdersText, nextLapse, type ClaimView } from '../claim/judge.js';
import { listRecords } from '../claim/list.js';
import { corruptRecord, decodeClaim, parseRecord, secondsField, type Claim, type ClaimContext, type ClaimKind, type RecordObject } from '../claim/model.js';

/**
 * A read-write mutex: many readers share it, a writer excludes everyone (konductor's RWMutex,
 * without its operator). Record (docs/formats.md):
 * `{"ttlSeconds":300,"writer":{claim}|null,"readers":[{claim}…],"waitingWriters":[{holder,waitingSince,ttlSeconds,expiresAt}…],"fencingToken":"8123"}`.
 *
 * Writer preference (so a stream of readers cannot starve a writer, as Go's sync.RWMutex): a writer
 * that waits records itself in `waitingWriters` (a claim with a short TTL, re-stamped while it
 * waits, so a waiting writer that died stops blocking once it lapses); while a live waiting writer
 * is recorded, new readers wait. Writers take the lock in the order they were recorded.
 * `fencingToken` is the current (or last) writer's token (core/claim/fencing.ts), null before the
 * first write lock.
 */
export interface RWMutexState {
  ttlSeconds?: number;
  writer: Claim | null;
  readers: Claim[];
  waitingWriters: Claim[];
  fencingToken: FencingToken | null;
  unknown: Record<string, unknown>;
}

export type RWMode = 'read' | 'write';

/** konductor's lock TTL default (as `mutex lock`'s), used when the rwmutex has no TTL of its own. */
export const RWMUTEX_DEFAULT_TTL_SECONDS = 300;
/** A waiting writer's record lapses after at most this long unless re-stamped (every third of it). */
export const WAITING_WRITER_TTL_SECONDS = 30;

const claimList = (name: string, field: string, v: unknown, entry: (c: unknown) => unknown = (c) => c): Claim[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw corruptRecord('rwmutex', name, `${field} is not a list`);
  return v.map((c) => decodeClaim('rwmutex', name, entry(c)));
};

/**
 * A waiting writer is stored with `waitingSince` where a claim has `acquiredAt`: it holds nothing,
 * and `koncli status` finds holders by the claim shape (docs/formats.md). In memory it is a Claim,
 * so the engine judges its TTL as any claim's.
 */
const waitingEntry = (name: string) => (c: unknown) => {
  const { waitingSince, ...rest } = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
  if (typeof waitingSince !== 'string' || 'acquiredAt' in rest) throw corruptRecord('rwmutex', name, 'a waitingWriters entry lacks waitingSince');
  return { ...rest, acquiredAt: waitingSince };
};
const storedWaiting = ({ holder, acquiredAt, ...rest }: Claim) => ({ holder, waitingSince: acquiredAt, ...rest });

export const rwmutexKind: ClaimKind<RWMutexState> = {
  kind: 'rwmutex',
  decode(name, raw) {
    const { ttlSeconds, writer, readers, waitingWriters, fencingToken, ...unknown } = parseRecord('rwmutex', name, raw);
    const state: RWMutexState = {
      ttlSeconds: secondsField('rwmutex', name, 'ttlSeconds', ttlSeconds),
      writer: writer == null ? null : decodeClaim('rwmutex', name, writer),
      readers: claimList(name, 'readers', readers),
      waitingWriters: claimList(name, 'waitingWriters', waitingWriters, waitingEntry(name)),
      fencingToken: readToken(fencingToken, () => corruptRecord('rwmutex', name, 'fencingToken is not a resourceVersion')),
      unknown,
    };
    const seen = new Set<string>();
    for (const c of [...(state.writer ? [state.writer] : []), ...state.readers, ...state.waitingWriters]) {
      if (seen.has(c.holder)) throw corruptRecord('rwmutex', name, `holder ${c.holder} appears twice`);
      seen.add(c.holder);
    }
    return state;
  },
  encode: (s) =>
    JSON.stringify({
      ...s.unknown,
      ...(s.ttlSeconds !== undefined && { ttlSeconds: s.ttlSeconds }),
      writer: s.writer,
      readers: s.readers,
      waitingWriters: s.waitingWriters.map(storedWaiting),
      fencingToken: s.fencingToken,
    }),
  claims: (s) => [...(s.writer ? [s.writer] : []), ...s.readers, ...s.waitingWriters],
  without: (s, c) => ({ ...s, writer: s.writer?.holder === c.holder ? null : s.writer, readers: s.readers.filter((r) => r.holder !== c.holder) }),
};

const EMPTY: RWMutexState = { writer: null, readers: [], waitingWriters: [], fencingToken: null, unknown: {} };

/** A reader's token: the last writer's, "0" before any write lock (below every resourceVersion). */
const NO_WRITER_YET = '0';

/** The read's state with its judgement: which claims are live (lapsed ones count as gone). */
function judged(read: Read<RWMutexState>) {
  const state = read.state ?? EMPTY;
  const view = (c: Claim) => read.views.find((v) => v.claim === c);
  const live = (c: Claim) => !view(c)?.expired;
  return {
    state,
    view,
    writer: state.writer && live(state.writer) ? state.writer : null,
    readers: state.readers.filter(live),
    waiting: state.waitingWriters.filter(live),
  };
}

/** The state with lapsed claims dropped (every write prunes them). */
function pruned(read: Read<RWMutexState>): RWMutexState {
  const j = judged(read);
  return { ...j.state, writer: j.writer, readers: j.readers, waitingWriters: j.waiting };
}

const roleOf = (s: RWMutexState, holder: string): RWMode | 'waiting' | undefined =>
  s.writer?.holder === holder
    ? 'write'
    : s.readers.some((c) => c.holder === holder)
      ? 'read'
      : s.waitingWriters.some((c) => c.holder === holder)
        ? 'waiting'
        : undefined;

/** "held for writing by w …", "read-locked by r1, r2 …; writer w is waiting": for busy messages. */
export function rwHoldersText(read: Read<RWMutexState>, clock: Clock): string {
  const j = judged(read);
  const views = (cs: Claim[]) => cs.map((c) => j.view(c)).filter((v): v is ClaimView => v !== undefined);
  const text = (cs: Claim[]) => holdersText(views(cs), read.now, clock.wallNow());
  const held = j.writer ? `write-locked by ${text([j.writer])}` : j.readers.length ? `read-locked by ${text(j.readers)}` : 'free';
  const waiting = j.waiting.length ? `; waiting writer${j.waiting.length > 1 ? 's' : ''} first: ${j.waiting.map((c) => c.holder).join(', ')}` : '';
  return held + waiting;
}

const busy = (name: string, read: Read<RWMutexState>, clock: Clock) => {
  const j = judged(read);
  return new KoncliError('busy', `rwmutex ${name} is ${rwHoldersText(read, clock)}`, {
    holder: j.writer?.holder ?? null,
    holders: [...(j.writer ? [j.writer.holder] : []), ...j.readers.map((c) => c.holder)],
    waitingWriters: j.waiting.map((c) => c.holder),
  });
};

export interface RWLockRequest {
  name: string;
  holder: string;
  mode: RWMode;
  /** undefined: the rwmutex's own TTL, else RWMUTEX_DEFAULT_TTL_SECONDS. */
  ttlSeconds?: number;
  reason?: string;
  /** The caller waits: a blocked writer records itself as waiting (writer preference). */
  waiting: boolean;
}

export interface RWLocked {
  outcome: 'acquired' | 'refreshed';
  mode: RWMode;
  object: RecordObject;
  claim: Claim;
  /** A writer's own token (core/claim/fencing.ts); for a reader, the last writer's ("0" before any). */
  fencingToken: FencingToken;
  /** Monotonic ms the write was sent: the claim counts from here. */
  sentAt: number;
}

/** Why `req` may not take the lock now (undefined: it may). A holder never waits for itself: its other role is refused. */
function obstacle(req: RWLockRequest, read: Read<RWMutexState>): 'blocked' | undefined {
  const j = judged(read);
  const other = (c: Claim) => c.holder !== req.holder;
  const role = roleOf(pruned(read), req.holder);
  if (req.mode === 'write' && role === 'read')
    throw new KoncliError('busy', `${req.holder} holds a read lock of rwmutex ${req.name}; unlock it first (a read lock cannot be upgraded)`);
  if (req.mode === 'read' && role === 'write')
    throw new KoncliError('busy', `${req.holder} holds the write lock of rwmutex ${req.name}; unlock it first (a write lock cannot be downgraded)`);
  if (j.writer && other(j.writer)) return 'blocked';
  if (req.mode === 'read') return role === 'read' || j.waiting.every((c) => !other(c)) ? undefined : 'blocked';
  if (j.readers.some(other)) return 'blocked';
  // Writers in the order they were recorded: only the first waiting writer (or anyone, when none waits) may take it.
  return j.waiting.length === 0 || !other(j.waiting[0]) ? undefined : 'blocked';
}

/** A blocked writer that waits: recorded (or re-stamped once a third of its TTL is gone); undefined when its record is fresh. */
function recordWaiting(req: RWLockRequest, read: Read<RWMutexState>, ttl: number): RWMutexState | undefined {
  if (req.mode !== 'write' || !req.waiting) return undefined;
  const state = pruned(read);
  const mine = state.waitingWriters.findIndex((c) => c.holder === req.holder);
  const ttlSeconds = Math.min(ttl, WAITING_WRITER_TTL_SECONDS);
  if (mine >= 0) {
    const deadline = read.views.find((v) => v.claim === state.waitingWriters[mine])?.deadline;
    if (deadline !== undefined && read.now < deadline - (ttlSeconds * 2000) / 3) return undefined;
  }
  const claim = read.stamp(req.holder, ttlSeconds, req.reason, mine >= 0 ? state.waitingWriters[mine] : undefined);
  const waitingWriters = mine >= 0 ? state.waitingWriters.map((c, i) => (i === mine ? claim : c)) : [...state.waitingWriters, claim];
  return { ...state, waitingWriters };
}

/** When a waiting writer must re-stamp its record (monotonic ms); Infinity for anyone else. */
function refreshAt(req: RWLockRequest, read: Read<RWMutexState>): number {
  if (req.mode !== 'write' || !req.waiting) return Infinity;
  const v = read.views.find((x) => x.claim.holder === req.holder && read.state?.waitingWriters.includes(x.claim));
  return v?.deadline === undefined || v.claim.ttlSeconds === undefined ? Infinity : v.deadline - (v.claim.ttlSeconds * 2000) / 3;
}

/** `rwmutex rlock` / `lock`: take (or re-stamp) a read or the write claim; blocked per the writer-preference rule. */
export const planRWLock =
  (req: RWLockRequest, clock: Clock) =>
  (read: Read<RWMutexState>): Plan<RWMutexState, RWLocked> => {
    const ttl = req.ttlSeconds ?? read.state?.ttlSeconds ?? RWMUTEX_DEFAULT_TTL_SECONDS;
    if (obstacle(req, read)) {
      const waiting = recordWaiting(req, read, ttl);
      if (waiting) return { write: waiting, again: true };
      return { blocked: busy(req.name, read, clock), retryAt: Math.min(nextLapse(read.views), refreshAt(req, read)) };
    }
    const state = pruned(read);
    const held = req.mode === 'write' ? state.writer : state.readers.find((c) => c.holder === req.holder);
    const mine = held?.holder === req.holder ? held : undefined;
    if (req.mode === 'read' || mine) return grantRW(req, read, state, ttl, mine, state.fencingToken ?? NO_WRITER_YET);
    return withToken(
      read,
      () => EMPTY,
      state.fencingToken,
      (next) => grantRW(req, read, state, ttl, mine, next),
    );
  };

/** The write that gives `req` its claim (a new one, or `mine` re-stamped) with `fencingToken`. */
function grantRW(req: RWLockRequest, read: Read<RWMutexState>, state: RWMutexState, ttl: number, mine: Claim | undefined, fencingToken: FencingToken) {
  const waitingWriters = state.waitingWriters.filter((c) => c.holder !== req.holder);
  const claim = read.stamp(req.holder, ttl, req.reason, mine);
  const write: RWMutexState =
    req.mode === 'write'
      ? { ...state, writer: claim, waitingWriters, fencingToken }
      : { ...state, readers: mine ? state.readers.map((c) => (c === mine ? claim : c)) : [...state.readers, claim], waitingWriters };
  const result = (object: RecordObject): RWLocked => ({
    outcome: mine ? 'refreshed' : 'acquired',
    mode: req.mode,
    object,
    claim,
    fencingToken,
    sentAt: read.now,
  });
  return { write, claimed: claim, result };
}

/** A writer that gave up waiting (timeout, interrupt) takes its waiting record back; nothing to do when there is none. */
export const planRWWithdraw =
  (holder: string) =>
  (read: Read<RWMutexState>): Plan<RWMutexState, boolean> => {
    if (!read.state?.waitingWriters.some((c) => c.holder === holder)) return { done: false };
    return { write: { ...read.state, waitingWriters: read.state.waitingWriters.filter((c) => c.holder !== holder) }, result: () => true };
  };

export type RWUnlockOutcome = 'released' | 'already-free' | 'broken';

export interface RWUnlockRequest {
  name: string;
  /** The rwmutex's namespace, for messages. */
  namespace: string;
  holder: string;
  force: boolean;
  /** With force: break only this holder's claim, only while it holds. */
  ifHolder?: string;
}

export interface RWUnlocked {
  outcome: RWUnlockOutcome;
  /** The mode released (or broken); null when nothing was. */
  mode: RWMode | null;
  /** Who no longer holds it. */
  released: string[];
}

/** `rwmutex unlock --force [--if-holder X]`: break X's claim, or every live claim; nothing broken is not success. */
function planRWBreak(req: RWUnlockRequest, read: Read<RWMutexState>): Plan<RWMutexState, RWUnlocked> {
  if (!read.state) throw new KoncliError('not-found', `rwmutex ${req.name} does not exist in namespace ${req.namespace}; nothing to break`);
  // Lapsed claims still in the record count (as a Lease's): the command `koncli status` prints for them works.
  const recorded = read.state;
  const holders = [...(recorded.writer ? [recorded.writer.holder] : []), ...recorded.readers.map((c) => c.holder)];
  const state = pruned(read);
  if (holders.length === 0) throw new KoncliError('not-held', `rwmutex ${req.name} is not held by anyone; nothing to break`, { holders: [] });
  const target = req.ifHolder;
  if (target !== undefined && !holders.includes(target))
    throw new KoncliError('not-held', `rwmutex ${req.name} is not held by ${target} (--if-holder; held by ${holders.join(', ')}); nothing broken`, { holders });
  const broken = target === undefined ? holders : [target];
  const mode: RWMode = recorded.writer && broken.includes(recorded.writer.holder) ? 'write' : 'read';
  const write = {
    ...state,
    writer: state.writer && broken.includes(state.writer.holder) ? null : state.writer,
    readers: state.readers.filter((c) => !broken.includes(c.holder)),
  };
  return { write, result: () => ({ outcome: 'broken', mode, released: broken }) };
}

/**
 * `rwmutex unlock`: the holder gives back its read or write claim (and any waiting record of its own).
 * Already gone is `already-free` (issue 22's rule for cleanup after a crash), except while another
 * holder has the write lock: `not-held` (exit 5), as `mutex unlock`.
 */
export const planRWUnlock =
  (req: RWUnlockRequest) =>
  (read: Read<RWMutexState>): Plan<RWMutexState, RWUnlocked> => {
    if (req.force) return planRWBreak(req, read);
    const free: RWUnlocked = { outcome: 'already-free', mode: null, released: [] };
    if (!read.state) return { done: free };
    const role = roleOf(read.state, req.holder);
    const j = judged(read);
    if (role === undefined && j.writer) {
      throw new KoncliError(
        'not-held',
        `rwmutex ${req.name} is write-locked by ${j.writer.holder}, not ${req.holder}; nothing to unlock (add --force to break it)`,
        { holder: j.writer.holder, holders: [j.writer.holder] },
      );
    }
    if (role === undefined) return { done: free };
    const state = pruned(read);
    const stillMine = roleOf(state, req.holder);
    const write: RWMutexState = {
      ...state,
      writer: state.writer?.holder === req.holder ? null : state.writer,
      readers: state.readers.filter((c) => c.holder !== req.holder),
      waitingWriters: state.waitingWriters.filter((c) => c.holder !== req.holder),
    };
    const released = stillMine === 'read' || stillMine === 'write';
    return { write, result: () => (released ? { outcome: 'released', mode: stillMine, released: [req.holder] } : free) };
  };

/** `rwmutex create`: a new free rwmutex with an optional default TTL; an existing one is left as it is. */
export const planRWCreate = (name: string, ttlSeconds: number | undefined) =>
  planCreate<RWMutexState>('rwmutex', name, ttlSeconds, () => ({ ...EMPTY, ttlSeconds }));

/** Why a `rwmutex run` holder's claim is no longer its own (the keeper's test), or undefined while it is. */
export function rwLost(name: string, holder: string, mode: RWMode, state: RWMutexState | null): string | undefined {
  if (!state) return `rwmutex ${name} was deleted`;
  if (roleOf(state, holder) !== mode) return `the ${mode} lock of ${holder} on rwmutex ${name} is gone (broken, or lapsed and dropped by another client)`;
  return undefined;
}

/** The holder's renewal (`rwmutex run`'s keeper): re-stamps its claim; `lost` when it holds no longer. */
export const planRWRenew =
  (name: string, holder: string, mode: RWMode, ttlSeconds: number) =>
  (read: Read<RWMutexState>): Plan<RWMutexState, RecordObject> => {
    const why = rwLost(name, holder, mode, read.state ?? null);
    if (why !== undefined) throw new KoncliError('lost', why);
    const state = read.state!;
    const renewed = (c: Claim) => (c.holder === holder ? read.stamp(holder, ttlSeconds, c.reason, c) : c);
    const write = mode === 'write' ? { ...state, writer: renewed(state.writer!) } : { ...state, readers: state.readers.map(renewed) };
    return { write, result: (o) => o };
  };

/** konductor's phase of an rwmutex. */
export type RWPhase = 'Unlocked' | 'ReadLocked' | 'WriteLocked';

/** When the last reader's claim lapses unless renewed (RFC 3339); null without readers or when one has no TTL. */
function latestExpiry(readers: { expiresAt: string | null }[]): string | null {
  if (readers.length === 0 || readers.some((r) => r.expiresAt === null)) return null;
  return readers.map((r) => r.expiresAt!).reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
}

/** An rwmutex in the shared `--json` vocabulary (also its `list` row); `phase` is konductor's word for the same. */
export function describeRWMutex(read: Read<RWMutexState>, clock: Clock) {
  const j = judged(read);
  const doc = (c: Claim) => claimDoc(j.view(c)!, clock);
  const phase: RWPhase = j.writer ? 'WriteLocked' : j.readers.length ? 'ReadLocked' : 'Unlocked';
  const lapsed = read.views.some((v) => v.expired && v.claim !== undefined && !read.state?.waitingWriters.includes(v.claim));
  const state: ClaimState = phase !== 'Unlocked' ? 'held' : lapsed ? 'expired' : 'free';
  const writer = j.writer ? doc(j.writer) : null;
  const readers = j.readers.map(doc);
  return {
    kind: 'rwmutex',
    namespace: read.obj?.namespace ?? null,
    name: read.obj?.name ?? null,
    state,
    phase,
    holder: j.writer?.holder ?? null,
    holders: j.readers.map((c) => c.holder),
    writer,
    readers,
    waitingWriters: j.waiting.map(doc),
    expiresAt: writer ? writer.expiresAt : latestExpiry(readers),
    ttlSeconds: read.state?.ttlSeconds ?? null,
    fencingToken: read.state?.fencingToken ?? null,
    resourceVersion: read.obj?.version ?? null,
  };
}

/** Every rwmutex of the context's namespace in the shared vocabulary (`rwmutex list`, `koncli status`). */
export const listRWMutexes = (ctx: ClaimContext) => listRecords(ctx, rwmutexKind, (read) => describeRWMutex(read, ctx.clock));
