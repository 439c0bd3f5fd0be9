// The profile summary behind bench/results/*-profile.md: idle time left out, self time by package and function,
// inclusive time of our own functions with recursion counted once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarise } from '../../bench/profile.js';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });

// root ─ (idle) 100 ms
//      └ handle (dist/server/app.js) 10 ms ─ commit (node_modules/better-sqlite3) 25 ms
//                                          └ handle (recursive) 20 ms ─ (native) 45 ms
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 3] },
    { id: 2, callFrame: frame('(idle)', '') },
    { id: 3, callFrame: frame('handle', 'file:///x/dist/server/app.js'), children: [4, 5] },
    { id: 4, callFrame: frame('commit', 'file:///x/node_modules/better-sqlite3/lib/t.js') },
    { id: 5, callFrame: frame('handle', 'file:///x/dist/server/app.js'), children: [6] },
    { id: 6, callFrame: frame('writev', '') },
  ],
  samples: [2, 3, 4, 5, 6],
  timeDeltas: [100_000, 10_000, 25_000, 20_000, 45_000],
};

describe('profile summary', () => {
  it('reports busy time without idle, self time by package and function, inclusive time counted once per path', () => {
    const s = summarise(profile);
    assert.equal(s.totalMs, 200);
    assert.equal(s.busyMs, 100);
    assert.deepEqual(s.byPackage, [
      { what: '(native: syscalls, SQLite, crypto, GC)', percent: 45 },
      { what: 'server', percent: 30 },
      { what: 'better-sqlite3', percent: 25 },
    ]);
    assert.deepEqual(s.byFunction[0], { what: 'writev :1', percent: 45 });
    // handle: 10 + 25 + 20 + 45 = 100 % (the recursive call is inside the outer one, not added again).
    assert.deepEqual(s.inclusive, [{ what: 'handle server/app.js:1', percent: 100 }]);
  });
});
