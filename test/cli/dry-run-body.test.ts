// `run --dry-run` shows the body of each request it did not send, under its line: secrets masked as in the trace
// (a key named like a password, a secret variable's value), a long one cut. Through the real binary on real files.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const TOKEN_ENV = 'OKTELL_TEST_BODY_TOKEN';
const TOKEN = 'tok-s3cret-4711';
const LONG = 'абвгд'.repeat(100);

const POSTS = `variables:
  token: { type: string, env: ${TOKEN_ENV} }
  long: { type: string, initial: "${LONG}" }
  lines: { type: string, initial: "first line\\nsecond line" }
  controls: { type: string, initial: "\\e[2J\\e[31mred\\x07\\tend" }
start: post
blocks:
  post:
    kind: WebRequest
    method: POST
    url: '"https://receiver.example.ru/tasks/overdue"'
    json: { id: '7', title: '"Перезвонить"', password: '"hunter22"', carried: '[token]' }
    exits: { success: put }
  put:
    kind: WebRequest
    method: PUT
    url: '"https://receiver.example.ru/notes/7"'
    body: '[long]'
    exits: { success: patch }
  patch:
    kind: WebRequest
    method: PATCH
    url: '"https://receiver.example.ru/notes/9"'
    body: '[lines]'
    exits: { success: paint }
  paint:
    kind: WebRequest
    method: POST
    url: '"https://receiver.example.ru/notes/10"'
    body: '[controls]'
    exits: { success: remove }
  remove:
    kind: WebRequest
    method: DELETE
    url: '"https://receiver.example.ru/notes/8"'
    exits: { success: null }
`;

describe('run --dry-run: the body of a request not sent', () => {
  it('under its line, secrets masked, a long one cut, on one line; a request without a body has none', { timeout: 60_000 }, () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(scenarios);
      writeFileSync(join(scenarios, 'Posts.yaml'), POSTS);
      const r = runCli(['run', 'Posts', '--dry-run', '--scenarios', scenarios], { cwd: tmp.dir, env: { [TOKEN_ENV]: TOKEN }, timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(!r.stdout.includes(TOKEN) && !r.stdout.includes('hunter22'), r.stdout);
      const lines = r.stdout.split('\n');
      const after = (start: string) => {
        const i = lines.findIndex((l) => l.startsWith(start));
        assert.ok(i >= 0, `${start} in\n${r.stdout}`);
        return lines[i + 1]!;
      };
      assert.equal(after('  http POST https://receiver.example.ru/tasks/overdue → 200 dry-run (not sent)'), '    body {"id":7,"title":"Перезвонить","password":"***","carried":"***"}');
      assert.equal(after('  http PUT https://receiver.example.ru/notes/7 → 200 dry-run (not sent)'), `    body ${LONG.slice(0, 300)}… (500 characters shown in --json)`);
      assert.equal(after('  http PATCH https://receiver.example.ru/notes/9 → 200 dry-run (not sent)'), '    body first line\\nsecond line');
      assert.equal(after('  http POST https://receiver.example.ru/notes/10 → 200 dry-run (not sent)'), '    body \\u001b[2J\\u001b[31mred\\u0007\tend');
      assert.ok(!r.stdout.includes('\u001b'), 'no escape character reaches the terminal');
      assert.match(after('  http DELETE https://receiver.example.ru/notes/8 → 200 dry-run (not sent)'), /^(?! {4}body)/);
    } finally {
      tmp.cleanup();
    }
  });
});
