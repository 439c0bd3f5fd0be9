// The server's own routes asked with the wrong method answer 405 with Allow, not "404 unknown route" (review s24, O15).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUTH, startTestServer, type TestServer } from './server-helpers.js';

describe('a wrong method on the server’s own routes', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false });
  });
  after(() => t.cleanup());

  const cases: Array<{ method: string; path: string; allow: string }> = [
    { method: 'GET', path: '/-/tasks/nope/run', allow: 'POST' },
    { method: 'POST', path: '/-/health', allow: 'GET, HEAD' },
    { method: 'DELETE', path: '/-/metrics', allow: 'GET, HEAD' },
    { method: 'PUT', path: '/-/tasks', allow: 'GET, HEAD' },
  ];
  for (const c of cases) {
    it(`${c.method} ${c.path} → 405, Allow: ${c.allow}`, async () => {
      const r = await fetch(`${t.server.url}${c.path}`, { method: c.method, headers: { authorization: AUTH } });
      assert.equal(r.status, 405);
      assert.equal(r.headers.get('allow'), c.allow);
      assert.equal(await r.text(), `405 Method Not Allowed: ${c.path} takes ${c.allow}\n`);
    });
  }

  it('an unknown route is still 404', async () => {
    const r = await fetch(`${t.server.url}/-/nope`, { headers: { authorization: AUTH } });
    assert.equal(r.status, 404);
    assert.equal(await r.text(), '404 Not Found: unknown server route\n');
  });
});
