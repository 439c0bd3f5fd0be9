// `run --dry-run` in text marks a write no fixture matched, which got the dry run's default 200 with an empty body
// (--json says it with "defaultAnswer": true), and gives the fixture that would answer it; a request a fixture
// answered has no mark. The hint's fixture, written to a file, answers the request. Through the real binary.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const WRITES = `start: post
blocks:
  post:
    kind: WebRequest
    method: POST
    url: '"https://receiver.example.ru/tasks?token=s3cret&id=7"'
    json: { id: '7' }
    exits: { success: put }
  put:
    kind: WebRequest
    method: PUT
    url: '"https://receiver.example.ru/notes/7"'
    body: '"note"'
    exits: { success: null }
`;

const MARK = "no fixture matched: the dry run's default answer";

describe('run --dry-run: a write answered by the default 200', () => {
  it('is marked on its line, with the fixture that would answer it; one a fixture answered is not', { timeout: 90_000 }, () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(scenarios);
      writeFileSync(join(scenarios, 'Writes.yaml'), WRITES);
      writeFileSync(join(tmp.dir, 'put.yaml'), '- match: PUT https://receiver.example.ru/notes/*\n  status: 204\n');
      const r = runCli(['run', 'Writes', '--dry-run', '--scenarios', scenarios, '--http-fixtures', 'put.yaml'], { cwd: tmp.dir, timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const lines = r.stdout.split('\n');
      const post = lines.findIndex((l) => l.startsWith('  http POST '));
      assert.equal(lines[post], `  http POST https://receiver.example.ru/tasks?token=***&id=7 → 200 dry-run (not sent) ${MARK}`);
      assert.equal(lines[post + 1], '    body {"id":7}');
      const hint = '    hint: the 200 with an empty body is no service\'s answer; to give one, pass --http-fixtures FILE with "- match: POST https://receiver.example.ru/tasks" and status:, json: or body:';
      assert.equal(lines[post + 2], hint);
      const put = lines.findIndex((l) => l.startsWith('  http PUT '));
      // The fixture's answer is said to be one: no service gave it either.
      assert.equal(lines[put], '  http PUT https://receiver.example.ru/notes/7 → 204 dry-run (not sent, fixture)');
      assert.equal(lines.filter((l) => l.includes(MARK) || l.startsWith('    hint:')).length, 2, r.stdout);

      // The fixture the hint names answers the POST: no mark left.
      writeFileSync(join(tmp.dir, 'both.yaml'), '- match: POST https://receiver.example.ru/tasks\n  status: 201\n- match: PUT https://receiver.example.ru/notes/*\n  status: 204\n');
      const again = runCli(['run', 'Writes', '--dry-run', '--scenarios', scenarios, '--http-fixtures', 'both.yaml'], { cwd: tmp.dir, timeoutMs: 60_000 });
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /^ {2}http POST https:\/\/receiver\.example\.ru\/tasks\?token=\*\*\*&id=7 → 201 dry-run \(not sent, fixture\)$/m);
      assert.ok(!again.stdout.includes(MARK) && !again.stdout.includes('    hint:'), again.stdout);
    } finally {
      tmp.cleanup();
    }
  });
});
