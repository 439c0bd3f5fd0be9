// `cancel --status queued` of many jobs (a bulk cancel after a mail server was switched off): the text form names 10
// and counts the rest, `--json` is one valid JSON array of every id cancelled, exactly those, each once; the real
// binary on a SQLite store filled with the store API.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sqliteKind, withStoreOf } from './job-fates.helper.js';

const JOBS = 2000;

describe('cancel of many queued jobs', { timeout: 120_000 }, () => {
  const kind = sqliteKind();
  after(() => kind.cleanup());

  it('the text form names 10 and counts the rest; --json lists every id cancelled, as one JSON array', async () => {
    const fill = (n: number) => withStoreOf(kind, (s) => s.enqueueJobs(Array.from({ length: n }, () => ({ scenario: 'Letters', params: {}, maxAttempts: 4 }))));
    const first = await fill(JOBS);
    const text = kind.cli(['cancel', '--status', 'queued']);
    assert.equal(text.code, 0, text.stderr);
    const line = text.stdout.split('\n')[0]!;
    assert.match(line, new RegExp(`^cancelled ${JOBS} queued job\\(s\\): (\\w{26}, ){9}\\w{26} and ${JOBS - 10} more \\(--json lists every id\\)$`));

    const second = await fill(JOBS);
    const json = kind.cli(['cancel', '--status', 'queued', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stdout.split('\n').length, 2, 'one line');
    const ids = JSON.parse(json.stdout) as string[];
    assert.equal(ids.length, JOBS);
    assert.deepEqual([...ids].sort(), [...second].sort(), 'exactly the jobs queued now, none of those cancelled before');
    assert.equal(new Set(ids).size, JOBS);
    assert.ok(!ids.some((id) => first.includes(id)));
    assert.equal(json.stdout.length, JOBS * 29 + 2, '29 bytes a job, as docs/cli.md says');
  });
});
