import type { Clock } from '../clock.js';
import { KoncliError } from '../errors.js';
import { planCreate } from '../claim/create.js';
import { claimDoc } from '../claim/describe.js';
import type { Plan, Read } from '../claim/engine.js';
import { readToken, withToken, type FencingToken } from '../claim/fencing.js';
import { holdersText, nextLapse, rulesOf } from '../claim/judge.js';
import { listRecords } from '../claim/list.js';
import {
  corruptRecord,
  decodeClaim,
  parseRecord,
  secondsField,
  wholeField,
  type Claim,
  type ClaimContext,
  type ClaimKind,
  type RecordObject,
} from '../claim/model.js';

/** A finished run: who ran it, when, and how it ended. */
export interface OnceRun {
  holder: string;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  /** With the once's TTL: when the done run lapses (server clock, at most), and the once may run again. */
  expiresAt?: string;
}

/**
 * A once: something done exactly once across all callers (konductor's Once, without its operator;
 * `once run` adds the doing). Record (docs/formats.md):
 * `{"runner":{claim}|null,"done":{run}|null,"attempts":N,"lastFailure":{run}|null,"fencingToken":"8123"}`. `runner` is the
 * claim of the caller running it now (renewed; a dead runner's claim lapses and the next caller
 * takes over); `done` is set by the run that exited 0, for ever — or, with `ttlSeconds` (`once
 * create --ttl`, konductor's cleanup TTL), until that long after it finished (judged as claims are:
 * docs/clock.md), when the once may run again. `fencingToken` is the current (or last) runner's
 * (core/claim/fencing.ts), null before the first run.
 */
export interface OnceState {
  ttlSeconds?: number;
  runner: Claim | null;
  done: OnceRun | null;
  /** Runs started so far. */
  attempts: number;
  lastFailure: OnceRun | null;
  fencingToken: FencingToken | null;
  unknown: Record<string, unknown>;
}

function decodeRun(name: string, v: unknown): OnceRun | null {
  if (v == null) return null;
  const r = v as Record<string, unknown>;
  const ok =
    typeof r === 'object' &&
    typeof r.holder === 'string' &&
    typeof r.startedAt === 'string' &&
    typeof r.finishedAt === 'string' &&
    (r.expiresAt === undefined || typeof r.expiresAt === 'string');
  if (!ok || !Number.isSafeInteger(r.exitCode)) throw corruptRecord('once', name, 'a run entry lacks holder, startedAt, finishedAt or exitCode');
  return r as unknown as OnceRun;
}

export const onceKind: ClaimKind<OnceState> = {
  kind: 'once',
  decode(name, raw) {
    const { ttlSeconds, runner, done, attempts, lastFailure, fencingToken, ...unknown } = parseRecord('once', name, raw);
    return {
      ttlSeconds: secondsField('once', name, 'ttlSeconds', ttlSeconds),
      runner: runner == null ? null : decodeClaim('once', name, runner),
      done: decodeRun(name, done),
      attempts: wholeField('once', name, 'attempts', attempts, 0),
      lastFailure: decodeRun(name, lastFailure),
      fencingToken: readToken(fencingToken, () => corruptRecord('once', name, 'fencingToken is not a resourceVersion')),
      unknown,
    };
  },
  encode: (s) =>
    JSON.stringify({
      ...s.unknown,
      ...(s.ttlSeconds !== undefined && { ttlSeconds: s.ttlSeconds }),
      runner: s.runner,
      done: s.done,
      attempts: s.attempts,
      lastFailure: s.lastFailure,
      fencingToken: s.fencingToken,
    }),
  // The runner's claim; with none, a done run with a TTL is judged as a claim too.
  claims: (s) =>
    s.runner
      ? [s.runner]
      : s.done?.expiresAt
        ? [{ holder: s.done.holder, acquiredAt: s.done.finishedAt, ttlSeconds: s.ttlSeconds, expiresAt: s.done.expiresAt }]
        : [],
  without: (s) => ({ ...s, runner: null }),
};

/** The done run, unless its TTL has lapsed. */
const doneOf = (read: Read<OnceState>): OnceRun | null => {
  const done = read.state?.done ?? null;
  return done && !(done.expiresAt && !read.state!.runner && read.views[0]?.expired) ? done : null;
};

const empty = (): OnceState => ({ runner: null, done: null, attempts: 0, lastFailure: null, fencingToken: null, unknown: {} });

/** What `once run` got: to run the command (as the attempt-th runner), or the news that it is done. */
export type OnceClaimed =
  | { run: { object: RecordObject; claim: Claim; attempt: number; fencingToken: FencingToken; sentAt: number; previousRunner?: string } }
  | { alreadyDone: OnceRun };

export const runningError = (name: string, read: Read<OnceState>, clock: Clock) =>
  new KoncliError('busy', `once ${name} is being run by ${holdersText(read.views, read.now, clock.wallNow())}`, {
    holder: read.state?.runner?.holder ?? null,
    rule: rulesOf(read.views),
  });

/**
 * `once run`, before the command: done already → alreadyDone; someone else's live run → blocked
 * (the caller waits on the watch); otherwise (never run, the last run failed, or its runner's claim
 * lapsed: it died) → claim the run, counting the attempt; its fencing token is the version the claim is guarded on.
 */
export const planOnceClaim =
  (name: string, holder: string, ttlSeconds: number, clock: Clock) =>
  (read: Read<OnceState>): Plan<OnceState, OnceClaimed> => {
    const state = read.state ?? empty();
    const done = doneOf(read);
    if (done) return { done: { alreadyDone: done } };
    const view = read.views[0];
    if (state.runner && !view?.expired && state.runner.holder !== holder) return { blocked: runningError(name, read, clock), retryAt: nextLapse(read.views) };
    return withToken(read, empty, state.fencingToken, (fencingToken) => {
      const claim = read.stamp(holder, ttlSeconds);
      const attempt = state.attempts + 1;
      const previousRunner = state.runner && state.runner.holder !== holder ? state.runner.holder : undefined;
      return {
        write: { ...state, runner: claim, attempts: attempt, fencingToken },
        claimed: claim,
        result: (object) => ({ run: { object, claim, attempt, fencingToken, sentAt: read.now, previousRunner } }),
      };
    });
  };

/** Why our run's claim is no longer ours (the keeper's test), or undefined while it is. */
export function onceRunLost(name: string, holder: string, state: OnceState | null): string | undefined {
  if (!state) return `once ${name} was deleted`;
  if (state.done && state.done.holder !== holder) return `once ${name} was completed by ${state.done.holder}`;
  if (state.runner?.holder !== holder) return `once ${name} is now being run by ${state.runner?.holder ?? 'nobody (our claim was removed)'}`;
  return undefined;
}

/** The runner's renewal: re-stamps its claim; `lost` when it is no longer the runner. */
export const planOnceRenew =
  (name: string, holder: string, ttlSeconds: number) =>
  (read: Read<OnceState>): Plan<OnceState, RecordObject> => {
    const why = onceRunLost(name, holder, read.state ?? null);
    if (why !== undefined) throw new KoncliError('lost', why);
    return { write: { ...read.state!, runner: read.stamp(holder, ttlSeconds, undefined, read.state!.runner!) }, result: (o) => o };
  };

/**
 * The run ended with `exitCode`: 0 marks the once done (for ever); anything else is recorded as the
 * last failure and frees the run for the next caller. Only while we are still the runner (`lost` otherwise).
 */
export const planOnceFinish =
  (name: string, holder: string, exitCode: number, clock: Clock) =>
  (read: Read<OnceState>): Plan<OnceState, OnceState> => {
    const why = onceRunLost(name, holder, read.state ?? null);
    if (why !== undefined) throw new KoncliError('lost', why);
    const state = read.state!;
    const lapses = exitCode === 0 && state.ttlSeconds !== undefined ? { expiresAt: read.stamp(holder, state.ttlSeconds).expiresAt } : {};
    const run: OnceRun = { holder, startedAt: state.runner!.acquiredAt, finishedAt: new Date(clock.wallNow()).toISOString(), exitCode, ...lapses };
    const next = exitCode === 0 ? { ...state, runner: null, done: run } : { ...state, runner: null, lastFailure: run };
    return { write: next, result: () => next };
  };

/** `once create`: a new, not yet done once (`ttlSeconds`: how long a done run counts); an existing one is left as it is. */
export const planOnceCreate = (name: string, ttlSeconds: number | undefined) =>
  planCreate<OnceState>('once', name, ttlSeconds, () => ({ ...empty(), ttlSeconds }));

/** done (a run exited 0), running (a runner holds it), failed (the last run failed, none runs), pending (never run). */
export type OnceStatus = 'done' | 'running' | 'failed' | 'pending';

/** A once in the shared `--json` vocabulary (also `koncli status`'s row for it). */
export function describeOnce(read: Read<OnceState>, clock: Clock) {
  const s = read.state ?? empty();
  const done = doneOf(read);
  const view = s.runner ? read.views[0] : undefined;
  const live = view && !view.expired ? claimDoc(view, clock) : undefined;
  const state: OnceStatus = done ? 'done' : live ? 'running' : s.lastFailure || view ? 'failed' : 'pending';
  return {
    kind: 'once',
    namespace: read.obj?.namespace ?? null,
    name: read.obj?.name ?? null,
    state,
    executed: done !== null,
    holder: done?.holder ?? live?.holder ?? null,
    startedAt: done?.startedAt ?? live?.acquiredAt ?? null,
    finishedAt: done?.finishedAt ?? null,
    exitCode: done?.exitCode ?? null,
    expiresAt: live?.expiresAt ?? (done && read.views[0]?.deadline !== undefined ? claimDoc(read.views[0], clock).expiresAt : null),
    ttlSeconds: s.ttlSeconds ?? null,
    attempts: s.attempts,
    lastFailure: s.lastFailure,
    resourceVersion: read.obj?.version ?? null,
  };
}

/** Every once of the context's namespace in the shared vocabulary (`once list`, `koncli status`). */
export const listOnces = (ctx: ClaimContext) => listRecords(ctx, onceKind, (read) => describeOnce(read, ctx.clock));
