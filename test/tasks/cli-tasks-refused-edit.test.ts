// `oktell-emu tasks` on a configuration file whose edit a running server refused: the listing comes from the file,
// so the command must say that the running server keeps its earlier tasks (their schedules differ from those
// listed), and must not say so for another file (a draft given with --config). The real binary: `serve` in the background with OS-picked ports, then `tasks` in the same folder.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, startCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';
import { ECHO_DUE } from './task-scenarios.js';

describe('oktell-emu tasks while a running server refused the edit', () => {
  it('says the server keeps the tasks it loaded last, and where to see them; says nothing of it with no server', async () => {
    const tmp = tempDir('oktell-tasks-refused-');
    const serve = (() => {
      mkdirSync(join(tmp.dir, 'scenarios'));
      writeFileSync(join(tmp.dir, 'scenarios', 'Tick.yaml'), ECHO_DUE);
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - { name: flaky, scenario: Tick, every: 15h }\n  - { name: http, scenario: Tick, every: 3h }\n');
      return startCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0'], { cwd: tmp.dir, env: { OKTELL_LOG_FORMAT: 'json' } });
    })();
    try {
      await serve.waitFor(/"msg":"listening on/);
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - { name: flaky, scenario: Tick, every: 5h }\n  - { name: http, scenario: Tick, cron: "0 25 * * *" }\n');
      await serve.waitFor(/keeping the tasks in force/);
      const out = runCli(['tasks'], { cwd: tmp.dir, unset: ['OKTELL_DATA_DIR', 'OKTELL_SCENARIOS', 'OKTELL_CONFIG'] });
      assert.equal(out.code, 2, out.stderr);
      assert.match(out.stdout, /^flaky {2}Tick {2}every 5h /);
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(serve.stdout())![1]!;
      const lines = out.stderr.split('\n');
      assert.match(lines[0]!, /oktell\.config\.yaml:3:41: cron: hour: 25 is outside 0-23$/);
      assert.match(lines[1]!, /^the server does not start with this configuration/);
      assert.equal(lines[2], `oktell-emu: note: a server is running with ${join(tmp.dir, 'var')} (pid ${serve.child.pid}): it refused this edit and keeps the tasks it loaded before it, on their own schedules, not the ones listed above; what it runs: the Tasks page of ${url}/-/console/ or GET ${url}/-/tasks`);
      // A draft checked with --config beside that server is no edit it refused: it reads oktell.config.yaml.
      writeFileSync(join(tmp.dir, 'draft.yaml'), 'serviceTasks:\n  - { name: flaky, scenario: Tick, cron: "0 25 * * *" }\n');
      const draft = runCli(['tasks', '--config', 'draft.yaml'], { cwd: tmp.dir, unset: ['OKTELL_DATA_DIR', 'OKTELL_SCENARIOS', 'OKTELL_CONFIG'] });
      assert.equal(draft.code, 2, draft.stderr);
      assert.match(draft.stderr, /draft\.yaml:2:42: cron: hour: 25 is outside 0-23/);
      assert.doesNotMatch(draft.stderr, /a server is running/);
      serve.child.kill('SIGTERM');
      await serve.exited;
      const stopped = runCli(['tasks'], { cwd: tmp.dir, unset: ['OKTELL_DATA_DIR', 'OKTELL_SCENARIOS', 'OKTELL_CONFIG'] });
      assert.equal(stopped.code, 2);
      assert.doesNotMatch(stopped.stderr, /a server is running/);
    } finally {
      if (serve.child.exitCode === null && serve.child.signalCode === null) {
        serve.child.kill('SIGKILL');
        await serve.exited;
      }
      tmp.cleanup();
    }
  });
});
