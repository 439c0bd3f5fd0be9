// The console's runs list marks a run whose effects may repeat those of a cut-off attempt of its job with the words
// "may repeat", as `oktell-emu runs` does, from the same store field (`mayRepeat` of listRuns), on SQLite and on
// PostgreSQL: in the page (a word, not a colour) and in runs.json, which the live list redraws from. A run without
// such an effect, and a hook run (no job, so no earlier attempt), are not marked. A real server over HTTP; the runs
// recorded in its real store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newSortableId } from '../../server/store/sortable-id.js';
import type { RunWrite } from '../../server/store/store.port.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { runCliAsync } from '../cli/cli.helper.js';
import { get, startConsoleServer } from './console-helpers.js';

const pg = await testPostgres();

/** A letter as a run record keeps it; `mayRepeat` as the delivery marks one sent after a cut-off attempt. */
const letter = (mayRepeat: boolean) => [{ block: 'letter', to: ['ivan.petrov@example.com'], subject: 'Проверка связи', status: 'sent', performed: true, messageId: '<m1@example.com>', ...(mayRepeat ? { mayRepeat: true } : {}) }];

function run(over: Partial<RunWrite> & Pick<RunWrite, 'id'>): RunWrite {
  const startedAt = Date.now() - 60_000;
  return { scenario: 'ReadUser', version: 'v1', trigger: 'async', status: 'completed', startedAt, finishedAt: startedAt + 40, params: {}, returnValues: {}, trace: [], bpiumCalls: [], mails: [], ...over };
}

/** The row of run `id` in the runs page. */
function rowOf(page: string, id: string): string {
  const row = new RegExp(`<tr data-id="${id}"[^>]*>[\\s\\S]*?</tr>`).exec(page)?.[0];
  assert.ok(row, `the list has a row for ${id}`);
  return row;
}

const MARK = /<span class="badge st-queued may-repeat" title="[^"<>]*">may repeat<\/span>/;

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`console runs list: "may repeat" (${kind} store)`, () => {
    it('marks the run with a word, in the page and in runs.json, as `runs` does; not the others', { skip: kind === 'postgres' ? pg.skip : undefined, timeout: 90_000 }, async () => {
      const schema = randomSchemaName('mayrep');
      const t = await startConsoleServer({}, kind === 'postgres' ? { OKTELL_STORE: urlWithSchema(pg.url!, schema) } : {});
      try {
        const jobId = newSortableId();
        const ids = { cut: newSortableId(), retry: newSortableId(), plain: newSortableId(), hook: newSortableId() };
        // Attempt 1 was cut off (no effect recorded); attempt 2 sent the letter again, marked; attempt 3 of another
        // job, and a hook run carrying the flag without a job (no earlier attempt to repeat), are not marked.
        await t.server.store.recordRun(run({ id: ids.cut, jobId, attempt: 1, status: 'failed', error: { code: 'R_PROCESS_STOPPED', message: 'the process stopped' } }));
        await t.server.store.recordRun(run({ id: ids.retry, jobId, attempt: 2, mails: letter(true) }));
        await t.server.store.recordRun(run({ id: ids.plain, jobId: newSortableId(), attempt: 1, mails: letter(false) }));
        await t.server.store.recordRun(run({ id: ids.hook, jobId: null, trigger: 'http', mails: letter(true) }));

        const page = await (await get(`${t.base}/runs`)).text();
        const retry = rowOf(page, ids.retry);
        assert.match(retry, MARK);
        // Next to the status, as its own word (the list's narrow layout hides the attempt and error columns).
        assert.match(retry, new RegExp(`<td><a class="badge st-completed" href="/-/console/runs/${ids.retry}">completed</a> <span class="badge st-queued may-repeat"`));
        for (const id of [ids.cut, ids.plain, ids.hook]) assert.doesNotMatch(rowOf(page, id), /may repeat/, id);

        const json = (await (await get(`${t.base}/runs.json`)).json()) as { items: Array<{ id: string; mayRepeat?: boolean }> };
        const marked = Object.fromEntries(json.items.map((r) => [r.id, r.mayRepeat === true]));
        assert.deepEqual(marked, { [ids.cut]: false, [ids.retry]: true, [ids.plain]: false, [ids.hook]: false });

        // The run's own page lists its other attempts; the job's runs list marks the same run.
        const jobPage = await (await get(`${t.base}/runs?job=${jobId}`)).text();
        assert.match(rowOf(jobPage, ids.retry), MARK);
        assert.doesNotMatch(rowOf(jobPage, ids.cut), /may repeat/);

        // The same runs as the CLI lists them (same store, same field).
        if (kind === 'sqlite') {
          const cli = await runCliAsync(['runs', '--data-dir', t.dataDir], { env: { NO_COLOR: '1' } });
          assert.equal(cli.code, 0, cli.stderr);
          const marks = cli.stdout.split('\n').filter((l) => l.includes('may repeat'));
          assert.equal(marks.length, 1, cli.stdout);
          assert.ok(marks[0]!.includes(ids.retry), cli.stdout);
        }
      } finally {
        await t.cleanup();
        if (kind === 'postgres') await dropSchema(pg.url!, schema);
      }
    });
  });
}
