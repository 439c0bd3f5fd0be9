// The server with a DbQuery scenario: the console's dry-run form shows the statements as rolled back and keeps
// nothing; a real run through the Web-API writes, and so does a queued one on the delivery thread, whose run page
// lists its statements.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AUTH, csrfToken, get, startConsoleServer } from '../console/console-helpers.js';
import { tempDir } from '../helpers.js';
import { waitFor } from '../server/server-helpers.js';

const ADD = `variables: { n: number }
start: add
blocks:
  add:
    kind: DbQuery
    sql: INSERT INTO visits (who) VALUES (:who)
    params: { who: InputParameter(1) }
    exits: { success: count }
  count:
    kind: DbQuery
    sql: SELECT count(*) AS n FROM visits
    exits: { success: answer }
  answer:
    kind: ReturnValue
    values: { 1: '"visits: " + [n]' }
`;

describe('DbQuery under the server', () => {
  let t: Awaited<ReturnType<typeof startConsoleServer>>;
  let tmp: ReturnType<typeof tempDir>;
  let file: string;
  const count = () => {
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM visits').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  before(async () => {
    tmp = tempDir();
    file = join(tmp.dir, 'visits.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE visits (who TEXT NOT NULL)');
    db.close();
    t = await startConsoleServer({ 'AddVisit.yaml': ADD }, { OKTELL_DB_MAIN: `sqlite:${file}`, OKTELL_DELIVERY_THREAD: 'on' });
  });
  after(async () => {
    await t?.cleanup();
    tmp.cleanup();
  });

  it('the console dry run lists the statements as rolled back, sees its insert, and keeps nothing', { timeout: 20_000 }, async () => {
    const csrf = await csrfToken(t.base);
    const res = await fetch(`${t.base}/dry-run`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: t.server.url },
      body: new URLSearchParams({ csrf, scenario: 'AddVisit', mode: 'params', p1: '<b>Анна</b>' }).toString(),
      redirect: 'manual',
    });
    assert.equal(res.status, 303);
    const html = await (await get(new URL(res.headers.get('location')!, t.server.url).toString())).text();
    assert.match(html, /visits: 1/);
    assert.match(html, /<h3>Database \(rolled back\)<\/h3>/);
    assert.match(html, /INSERT INTO visits \(who\) VALUES \(:who\)/);
    assert.match(html, /&lt;b&gt;Анна&lt;\/b&gt;/, 'parameters are shown as text');
    assert.equal(count(), 0);
  });

  it('a real run through the Web-API (execsvcscript) writes', { timeout: 20_000 }, async () => {
    const res = await fetch(`${t.server.url}/execsvcscript?name=AddVisit&startparam1=Борис&async=0`, { headers: { authorization: AUTH } });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(text, /visits: 1/);
    assert.equal(count(), 1);
  });

  it('a queued run on the delivery thread reaches the configured database too', { timeout: 20_000 }, async () => {
    const r = await fetch(`${t.server.url}/execsvcscriptplain?name=AddVisit&startparam1=Вера&async=1`, { headers: { authorization: AUTH } });
    assert.equal(r.status, 200);
    const jobId = r.headers.get('x-oktell-run-id')!;
    const job = await waitFor('the job to finish', async () => {
      const j = await t.server.store.getJob(jobId);
      return j && j.status !== 'queued' && j.status !== 'running' && j.lastRunId ? j : undefined;
    });
    const run = (await t.server.store.getRun(job.lastRunId!))!;
    assert.equal(job.status, 'succeeded', JSON.stringify(run.error));
    assert.deepEqual(run.returnValues, { '1': 'visits: 2' });
    assert.match(run.workerId ?? '', /\/t\d+:/, 'run by the delivery thread');
    assert.equal(count(), 2);
    // The run page lists its statements, built from the stored trace (the store keeps no dbCalls), not rolled back.
    const html = await (await get(`${t.base}/runs/${run.id}`)).text();
    const at = html.indexOf('<h2>Database</h2>');
    assert.ok(at >= 0, 'the run page has a Database panel');
    const panel = html.slice(at, html.indexOf('</section>', at));
    assert.match(panel, /<code>add<\/code>.*INSERT INTO visits \(who\) VALUES \(:who\)/s);
    assert.match(panel, /<code>who<\/code>=Вера/);
    assert.match(panel, /<code>count<\/code>.*SELECT count\(\*\) AS n FROM visits/s);
    assert.equal((panel.match(/>ok<\/span> · 1 row\(s\)/g) ?? []).length, 2, 'both statements ok, one row each');
    assert.doesNotMatch(panel, /rolled back/);
  });
});
