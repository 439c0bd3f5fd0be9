// How `run` prints a run's web requests: "(not sent)" only where that is known (a dry run, a request refused before
// any attempt); a request answered with an error was sent; one that got no answer may have reached the service.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { printRun } from '../../cli/format.js';
import type { HttpCallRecord, RunResult } from '../../engine/index.js';

function printed(calls: HttpCallRecord[], extra: Partial<RunResult> = {}): string[] {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const run = { runId: 'r1', scenario: 'S', version: 'v', status: 'completed', returnValues: {}, variables: {}, mails: [], bpiumCalls: [], httpCalls: calls, asyncStarted: [], trace: [], steps: 0, startedAt: '2026-12-01T00:00:00Z', durationMs: 1, ...extra } as unknown as RunResult;
  printRun(run, out);
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[\d+m/g, '').split('\n').filter((l) => /^\s*(http|error) /.test(l));
}

const call = (c: Partial<HttpCallRecord>): HttpCallRecord => ({ block: 'b', method: 'POST', url: 'http://sms.example.ru/api', outcome: 'ok', performed: true, ...c });

describe('run output: web requests', () => {
  const cases: Array<[string, Partial<HttpCallRecord>, RegExp]> = [
    ['answered 500 after three attempts: sent, with its attempts', { status: 500, outcome: 'timeout', performed: true, attempts: 3, error: 'HTTP 500' }, /→ 500 timeout 3 attempts HTTP 500$/],
    ['no answer in time: may have arrived', { outcome: 'timeout', performed: false, attempts: 3, error: 'no answer within 1000 ms' }, /→ — timeout 3 attempts \(no answer\) no answer within 1000 ms$/],
    ['refused before any attempt (allow-list): not sent', { outcome: 'error', performed: false, error: 'not in the hosts' }, /→ — error \(not sent\) not in the hosts$/],
    ['a dry run: not sent', { status: 200, outcome: 'dry-run', performed: false }, /→ 200 dry-run \(not sent\)$/],
    ['replayed from the journal: no note', { status: 200, outcome: 'replayed', performed: false }, /→ 200 replayed$/],
    ['answered 200 once', { status: 200, outcome: 'ok', performed: true, attempts: 1 }, /→ 200 ok$/],
  ];
  for (const [name, c, line] of cases) {
    it(name, () => {
      const lines = printed([call(c)]);
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, line);
    });
  }
});

describe('run output: a retryable failure', () => {
  it('says that nothing retries a command-line run, and what to do', () => {
    const lines = printed([], { status: 'failed', error: { code: 'R_EFFECT_TRANSIENT', message: 'WebRequest "send": HTTP 500', retryable: true } } as Partial<RunResult>);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /R_EFFECT_TRANSIENT .*HTTP 500 \(retryable: the server would try a job again later; here, run the command again\)$/);
  });
});

describe('run output: a dry run\'s default answer', () => {
  it('marks the request and says how to answer it, without its query', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const calls = [call({ url: 'https://sms.example.ru/send?key=***&to=7', status: 200, outcome: 'dry-run', performed: false, defaultAnswer: true }), call({ status: 201, outcome: 'dry-run', performed: false })];
    printRun({ runId: 'r1', scenario: 'S', version: 'v', status: 'completed', returnValues: {}, variables: {}, mails: [], bpiumCalls: [], httpCalls: calls, asyncStarted: [], trace: [], steps: 0, startedAt: '2026-12-01T00:00:00Z', durationMs: 1 } as unknown as RunResult, out);
    // eslint-disable-next-line no-control-regex
    const lines = text.replace(/\u001b\[\d+m/g, '').split('\n').filter((l) => /^\s*(http|hint:) /.test(l));
    assert.deepEqual(lines, [
      "  http POST https://sms.example.ru/send?key=***&to=7 → 200 dry-run (not sent) no fixture matched: the dry run's default answer",
      '    hint: the 200 with an empty body is no service\'s answer; to give one, pass --http-fixtures FILE with "- match: POST https://sms.example.ru/send" and status:, json: or body:',
      '  http POST http://sms.example.ru/api → 201 dry-run (not sent)',
    ]);
  });
});
