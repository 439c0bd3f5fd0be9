// A server that takes no webhooks (a folder of service-task scenarios only, trial "nodered"): the missing hook scenario
// fails /-/health for good, so the start warning and the health problem say what such a server does about it, and
// the scenario they give makes the health check pass and answers every request 404.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../server/serve.js';
import { tempDir } from '../helpers.js';
import { AUTH, USER } from './server-helpers.js';

const TICK = `variables: { due: string }
blocks:
  begin: { kind: Start, param: due, exits: { next: done } }
  done: { kind: ReturnValue, values: { 1: '[due]' } }
`;

describe('a server for service tasks only', () => {
  it('is told how to have a hook scenario that answers 404, and that scenario makes /-/health pass', async () => {
    const tmp = tempDir('oktell-tasks-only-');
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(scenarios);
      writeFileSync(join(scenarios, 'Tick.yaml'), TICK);
      const start = () =>
        startServer({ port: 0, host: '127.0.0.1', dataDir: join(tmp.dir, 'var'), scenarios, bpiumEmulatorPort: 0, watch: false, pollMs: 50, env: { OKTELL_USERS: `${USER.login}:${USER.password}`, OKTELL_LOG_LEVEL: 'silent' } });
      const first = await start();
      let yaml: string | undefined;
      try {
        assert.equal(first.warnings.length, 1);
        assert.match(first.warnings[0]!, /every webhook is answered 500 .*; a server that takes no webhooks \(service tasks or the Web-API only\) needs one too: HTTP404\.yaml holding "blocks: \{ end: \{ kind: Stop \} \}" answers every request 404$/);
        const res = await fetch(`${first.url}/-/health`);
        assert.equal(res.status, 503);
        const health = (await res.json()) as { problems: string[] };
        const problem = health.problems.find((p) => p.includes('hook scenario'));
        assert.ok(problem, JSON.stringify(health));
        assert.doesNotMatch(problem, /put HTTP404\.yaml back/, 'there never was one to put back');
        assert.match(problem, /add HTTP404\.yaml to the scenarios folder, or fix it: .*needs one too: HTTP404\.yaml holding "blocks: \{ end: \{ kind: Stop \} \}" answers every request 404/);
        yaml = /holding "([^"]+)"/.exec(problem)?.[1];
      } finally {
        await first.close(2000);
      }
      assert.ok(yaml);
      writeFileSync(join(scenarios, 'HTTP404.yaml'), `${yaml}\n`);
      const second = await start();
      try {
        assert.deepEqual(second.warnings, []);
        const res = await fetch(`${second.url}/-/health`);
        assert.equal(res.status, 200, await res.text());
        const hook = await fetch(`${second.url}/anything`, { method: 'POST', headers: { Authorization: AUTH }, body: '{}' });
        assert.equal(hook.status, 404);
      } finally {
        await second.close(2000);
      }
    } finally {
      tmp.cleanup();
    }
  });
});
