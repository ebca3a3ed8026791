import { keyProblem } from '../../../src/core/json-keys.js';
import { VanishedObjects } from '../../../src/core/identity.js';

const kubeLock = (p: readonly string[]) => (p.length === 0 ? ['max', 'holders'] : p.length === 2 && p[0] === 'holders' ? ['date', 'reason'] : undefined);

describe('keyProblem: keys Go reads otherwise than JSON.parse', () => {
  test.each([
    ['{"max":3,"Max":1}', /"max" and "Max"/],
    ['{"max":1,"holderſ":{}}', /"holderſ", which Go reads as "holders"/], // bytes.EqualFold: ſ folds to s
    ['{"max":1,"x":[1,{"y":2,"y":3}]}', /repeats the key "y" in x\.\[\]/],
    ['{ "max" : 1 , "holders" : { "a\\"b" : { "reason" : "}{" , "REASON" : "" } } }', /"reason" and "REASON" in holders\.a"b/],
  ])('%s', (text, problem) => expect(keyProblem(text, kubeLock)).toMatch(problem));

  test.each(['{"max":1,"holders":{"a":{},"A":{}}}', '{"max":1,"unknown":{"Max":1,"max":2}}', '[]', '"x"', '{"max":1,"holders":null}'])(
    '%s reads the same',
    (text) => expect(keyProblem(text, kubeLock)).toBeUndefined(),
  );
});

describe('VanishedObjects', () => {
  test('remembers the last state of an object deleted or replaced by another uid, until forgotten', () => {
    const v = new VanishedObjects<{ uid?: string; n: number }>();
    expect(v.see({ uid: 'u1', n: 1 })).toEqual([]);
    expect(v.see({ uid: 'u1', n: 2 })).toEqual([]);
    expect(v.see(null)).toEqual([{ uid: 'u1', n: 2 }]);
    const gone = v.see({ uid: 'u2', n: 3 });
    expect(gone).toEqual([{ uid: 'u1', n: 2 }]);
    expect(v.see({ uid: 'u3', n: 4 })).toEqual([
      { uid: 'u1', n: 2 },
      { uid: 'u2', n: 3 },
    ]);
    v.forget(gone[0]);
    expect(v.see({ uid: 'u3', n: 5 })).toEqual([{ uid: 'u2', n: 3 }]);
  });
});
