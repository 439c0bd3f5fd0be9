// The console's CSRF token is bound to the login's password as well as its name: after the password is changed (and
// the server restarted, as docs/console.md says), a form token taken with the old password is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/serve.js';
import { repoPath, tempDir } from '../helpers.js';

const basic = (login: string, password: string) => `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;

async function start(dir: string, password: string): Promise<RunningServer> {
  return startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir: join(dir, 'var'),
    scenarios: join(dir, 'scenarios'),
    bpiumEmulatorPort: 0,
    watch: false,
    pollMs: 50,
    env: { OKTELL_USERS: `ops:${password}`, OKTELL_LOG_LEVEL: 'silent', SMTP_URL: '' },
  });
}

async function tokenOf(url: string, auth: string): Promise<string> {
  const html = await (await fetch(`${url}/-/console/dry-run`, { headers: { authorization: auth } })).text();
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  assert.ok(m, 'the dry-run page has a form token');
  return m[1]!;
}

function dryRun(url: string, auth: string, csrf: string): Promise<Response> {
  return fetch(`${url}/-/console/dry-run`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, scenario: 'HTTP404', mode: 'params', p1: '/x' }).toString(),
    redirect: 'manual',
  });
}

describe('console CSRF token and the password', () => {
  it('a token taken with the old password is refused after the password changes; the new one works', async () => {
    const tmp = tempDir('oktell-csrf-');
    cpSync(repoPath('scenarios'), join(tmp.dir, 'scenarios'), { recursive: true });
    let server: RunningServer | undefined;
    try {
      server = await start(tmp.dir, 'OldPass-111');
      const oldAuth = basic('ops', 'OldPass-111');
      const oldToken = await tokenOf(server.url, oldAuth);
      assert.notEqual((await dryRun(server.url, oldAuth, oldToken)).status, 403, 'the token works with its password');
      await server.close(2000);
      server = undefined;

      // Same data folder (same console secret), same login, a new password.
      server = await start(tmp.dir, 'NewPass-222');
      const newAuth = basic('ops', 'NewPass-222');
      const refused = await dryRun(server.url, newAuth, oldToken);
      assert.equal(refused.status, 403);
      assert.match(await refused.text(), /form token is missing or wrong/);
      const newToken = await tokenOf(server.url, newAuth);
      assert.notEqual(newToken, oldToken);
      assert.notEqual((await dryRun(server.url, newAuth, newToken)).status, 403);
    } finally {
      await server?.close(2000);
      tmp.cleanup();
    }
  });
});
