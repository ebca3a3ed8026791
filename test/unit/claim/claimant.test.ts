// The claim engine's loop (core/claim/claimant.ts) on a toy kind over the in-memory record store and
// a FakeClock: what every kind gets from it without writing it — try once or wait by watch, the
// preliminary write decided again, objects being deleted refused, a deleted lock not free, a late
// answer given back, and the queue hooks (heartbeat while blocked, leave on the way out).
import { describe, expect, it } from '@jest/globals';
import { claim, claimOnce, type Claimant, type WaitQueue } from '../../../src/core/claim/claimant.js';
import type { RecordObject } from '../../../src/core/claim/model.js';
import { KoncliError } from '../../../src/core/errors.js';
import { advanceInSteps, FakeClock, flush } from '../../support/fake-clock.js';
import { MemoryRecordStore } from '../../support/memory-record-store.js';

/** The toy kind's record: who holds it until when (monotonic ms); `stale` asks for a prune first. */
type Toy = { holder: string; until: number; stale?: boolean };
type Took = { written: RecordObject; sentAt: number };

const parse = (obj: RecordObject | null): Toy | undefined => (obj?.record ? (JSON.parse(obj.record) as Toy) : undefined);

function toy(
  store: MemoryRecordStore,
  holder: string,
  opts: { answerLateMs?: number; clock?: FakeClock; gaveBack?: string[] } = {},
): Claimant<RecordObject, Took, Toy, Toy> {
  return {
    what: 'toy job',
    where: 'toy job (ConfigMap job in namespace test)',
    store,
    name: 'job',
    step: async ({ obj, now, ghosts }) => {
      if (ghosts.length) return { blocked: ghosts[0], retryAt: ghosts[0].until };
      const rec = parse(obj);
      if (rec?.stale) return { wrote: await store.write(obj!, JSON.stringify({ ...rec, stale: false })) };
      if (rec && rec.holder !== holder && rec.until > now) return { blocked: rec, retryAt: rec.until };
      const next = JSON.stringify({ holder, until: now + 10_000 });
      const written = obj ? await store.write(obj, next) : await store.create('job', next);
      if (opts.answerLateMs) await opts.clock!.advance(opts.answerLateMs);
      return { done: { written, sentAt: now } };
    },
    busy: (b, why = '') => new KoncliError('busy', `toy job is held by ${b.holder}${why}`),
    ghostsIn: (gone, now) => {
      const rec = parse(gone);
      return rec && rec.holder !== holder && rec.until > now ? [rec] : [];
    },
    sent: (r) => ({ sentAt: r.sentAt, durationMs: 10_000 }),
    giveBack: async () => {
      opts.gaveBack?.push(holder);
      return 'gave it back';
    },
  };
}

async function rejection(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return err as KoncliError;
  }
  throw new Error('expected a failure');
}

function setup() {
  const clock = new FakeClock();
  const store = new MemoryRecordStore('toy');
  return { clock, store };
}

describe('claimOnce', () => {
  it('takes a free object, refuses a held one with the kind busy error, and decides again after a preliminary write', async () => {
    const { clock, store } = setup();
    const took = await claimOnce(clock, toy(store, 'a'));
    expect(parse(took.written)?.holder).toBe('a');
    const busy = await rejection(claimOnce(clock, toy(store, 'b')));
    expect(busy).toMatchObject({ kind: 'busy', message: 'toy job is held by a' });
    store.put('job', JSON.stringify({ holder: 'a', until: 0, stale: true }));
    const after = await claimOnce(clock, toy(store, 'b'));
    expect(parse(after.written)?.holder).toBe('b');
    expect(store.history.map((r) => (JSON.parse(r) as Toy).holder)).toEqual(['a', 'a', 'a', 'b']); // the prune, then the claim
  });

  it('refuses an object being deleted (rejected, exit 10) and writes nothing', async () => {
    const { clock, store } = setup();
    store.put('job', JSON.stringify({ holder: 'a', until: 0 }));
    const obj = (await store.get('job'))!;
    const terminating: Claimant<RecordObject, Took, Toy, Toy> = {
      ...toy(store, 'b'),
      store: {
        get: async () => ({ ...obj, terminating: { since: '2026-12-06T00:00:00Z', finalizers: ['example.com/keep'] } }),
        watch: store.watch.bind(store),
      },
    };
    const err = await rejection(claimOnce(clock, terminating));
    expect(err).toMatchObject({
      kind: 'rejected',
      message: expect.stringMatching(/^toy job \(ConfigMap job in namespace test\) is being deleted.*example.com\/keep/),
    });
    expect(store.history).toHaveLength(1);
  });

  it('a claim answered later than its send-time budget is given back and refused (unreachable, late)', async () => {
    const { clock, store } = setup();
    const gaveBack: string[] = [];
    const err = await rejection(claimOnce(clock, toy(store, 'a', { answerLateMs: 9_000, clock, gaveBack })));
    expect(err).toMatchObject({ kind: 'unreachable', details: { late: true } });
    expect(err.message).toMatch(/^toy job: the API server answered the claiming write 9s after it was sent.*; gave it back; try again$/);
    expect(gaveBack).toEqual(['a']);
    await expect(claimOnce(clock, toy(store, 'a', { answerLateMs: 1_000, clock }))).resolves.toBeDefined(); // in time: it stands
  });
});

describe('claimWaiting', () => {
  it('waits while blocked and takes the object when the holder lapses; the timeout is the kind busy error with the wait', async () => {
    const { clock, store } = setup();
    await claimOnce(clock, toy(store, 'a'));
    let got: Took | undefined;
    const blocked: string[] = [];
    void claim(clock, toy(store, 'b'), { wait: true, onBlocked: (b) => blocked.push(b.holder) }).then((r) => (got = r));
    await flush();
    await clock.advance(9_000);
    expect(got).toBeUndefined();
    await clock.advance(1_001);
    await flush();
    expect(parse(got!.written)?.holder).toBe('b');
    expect(blocked[0]).toBe('a');

    const timedOut = rejection(claim(clock, toy(store, 'c'), { wait: true, timeoutMs: 3_000 }));
    await flush();
    await clock.advance(3_000);
    expect(await timedOut).toMatchObject({ kind: 'busy', message: 'toy job is held by b (waited 3s)' });
  });

  it('a deleted object is not free: its last claim stays in force until it would have lapsed, also across a re-created one', async () => {
    const { clock, store } = setup();
    await claimOnce(clock, toy(store, 'a')); // until t0 + 10 s
    let got: Took | undefined;
    void claim(clock, toy(store, 'b'), { wait: true }).then((r) => (got = r));
    await flush();
    const obj = (await store.get('job'))!;
    await store.delete(obj);
    await clock.advance(2_000);
    store.put('job', JSON.stringify({ holder: '', until: 0 })); // re-created free by someone else
    await clock.advance(5_000);
    expect(got).toBeUndefined();
    await clock.advance(3_001);
    await flush();
    expect(parse(got!.written)?.holder).toBe('b');
  });

  it('runs the queue: its heartbeat while blocked, its state hook, and leaves on the way out, with or without the claim', async () => {
    const { clock, store } = setup();
    await claimOnce(clock, toy(store, 'a'));
    const seen: string[] = [];
    let beats = 0;
    let left = 0;
    let beatAt = 0;
    const queue: WaitQueue<RecordObject> = {
      onState: (s) => seen.push(parse(s)?.holder ?? '-'),
      whileBlocked: (now) => (now < beatAt ? { until: beatAt } : { meanwhile: async () => void (beats++, (beatAt = now + 2_000)) }),
      leave: async () => void left++,
    };
    const waiting = claim(clock, toy(store, 'b'), { wait: true, queue });
    await flush();
    await advanceInSteps(clock, 10_001);
    await waiting;
    expect(beats).toBeGreaterThanOrEqual(5);
    expect(left).toBe(1);
    expect(seen).toContain('b');

    const timedOut = rejection(claim(clock, toy(store, 'c'), { wait: true, timeoutMs: 1_000, queue }));
    await flush();
    await clock.advance(1_000);
    await timedOut;
    expect(left).toBe(2);
  });
});
