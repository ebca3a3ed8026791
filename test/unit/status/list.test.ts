// core/status/list.ts: the one listing loop over lock listers: liveness per holder, --stuck, system
// namespaces, the break command (only the stuck holders, quoted for a shell).
import { listLocks, shellQuote } from '../../../src/core/status/list.js';
import type { JudgeLiveness, LockLister, LockRow } from '../../../src/core/status/model.js';

const row = (over: Partial<LockRow>): LockRow => ({
  kind: 'test',
  namespace: 'ops',
  name: 'x',
  holders: [],
  state: 'free',
  expiresAt: null,
  ttlSeconds: null,
  lastRenewed: null,
  alive: null,
  aliveReason: null,
  waiters: 0,
  createdAt: null,
  stuck: false,
  breakCommand: null,
  ...over,
});
const holder = (name: string, state: 'held' | 'expired' = 'held') => ({ holder: name, state, expiresAt: null, alive: null, aliveReason: null });

const lister = (rows: LockRow[]): LockLister => ({
  kind: 'test',
  list: () => Promise.resolve({ rows, skipped: ['something'] }),
  breakArgs: (r, holders) => ['test', 'break', r.name, ...holders.flatMap((h) => ['--if-holder', h])],
});

const judge: JudgeLiveness = (id) =>
  Promise.resolve(
    id.startsWith('dead')
      ? { alive: false, reason: 'gone' }
      : id.startsWith('live')
        ? { alive: true, reason: 'running' }
        : { alive: null, reason: 'unknown: ?' },
  );

const opts = { scope: { namespace: undefined }, system: false, stuck: false, bin: 'kubectl koncli' };

describe('listLocks', () => {
  const rows = [
    row({ name: 'free' }),
    row({ name: 'live', state: 'held', holders: [holder('live-1')] }),
    row({ name: 'sem', state: 'held', holders: [holder('live-1'), holder('dead 2'), holder('other', 'expired')] }),
    row({ name: 'expired', state: 'expired', holders: [holder('someone', 'expired')] }),
    row({ name: 'hb', namespace: 'kube-node-lease', state: 'held', holders: [holder('live-node')] }),
  ];

  test('judges every holder, marks stuck, and breaks only the stuck holders', async () => {
    const { rows: out, skipped } = await listLocks([lister(rows)], judge, opts);
    expect(skipped).toEqual(['something']);
    const by = Object.fromEntries(out.map((r) => [r.name, r]));
    expect(Object.keys(by).sort()).toEqual(['expired', 'free', 'live', 'sem']);
    expect(by.live).toMatchObject({ alive: true, stuck: false, breakCommand: 'kubectl koncli test break live --if-holder live-1' });
    expect(by.sem).toMatchObject({
      alive: false,
      aliveReason: 'dead 2: gone',
      stuck: true,
      breakCommand: "kubectl koncli test break sem --if-holder 'dead 2' --if-holder other",
    });
    expect(by.expired).toMatchObject({ alive: null, stuck: true });
    expect(by.free).toMatchObject({ stuck: false, breakCommand: null });
  });

  test('--stuck keeps only stuck locks; --system or -n shows the system namespaces', async () => {
    expect((await listLocks([lister(rows)], judge, { ...opts, stuck: true })).rows.map((r) => r.name)).toEqual(['expired', 'sem']);
    expect((await listLocks([lister(rows)], judge, { ...opts, system: true })).rows.map((r) => r.name)).toContain('hb');
    expect((await listLocks([lister(rows)], judge, { ...opts, scope: { namespace: 'kube-node-lease' } })).rows.map((r) => r.name)).toContain('hb');
  });

  test('shellQuote', () => {
    expect(shellQuote('web-1_abc@x')).toBe('web-1_abc@x');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});
