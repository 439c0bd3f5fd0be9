// Exploratory trial of a PostgreSQL outage (not part of the suite: run it by hand, `npx tsc -p tsconfig.json && node
// dist/test/scale/pg-outage.trial.js`, about 2 minutes; findings in its report, docs/store.md). Service tasks and
// webhook jobs with WebRequest + DbQuery against PostgreSQL, the store on PostgreSQL too, all through a proxy that
// plays the outages (cut, refused, hung, back). Prints what it sees.
import { createServer } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { tempDir } from '../helpers.js';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { AUTH, USER } from '../server/server-helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { outageProxy, throughProxy } from './pg-proxy.helper.js';
import { startInstance, waitHealthy } from './scale-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const log = (...a: unknown[]) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

const avail = await testPostgres();
if (!avail.url) throw new Error(avail.skip);
const base = avail.url;
const schema = randomSchemaName('trialstore');
const app = randomSchemaName('trialapp');
const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`CREATE SCHEMA ${app}; CREATE TABLE ${app}.trial_rows (id serial primary key, kind text, key text, at timestamptz default now())`);

const hits: { path: string; body: any; at: number }[] = [];
const peer = createServer((req, res) => {
  let b = '';
  req.on('data', (d) => (b += d));
  req.on('end', () => {
    let body: any = b;
    try { body = JSON.parse(b); } catch {}
    hits.push({ path: req.url!, body, at: Date.now() });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
});
await new Promise<void>((r) => peer.listen(0, '127.0.0.1', () => r()));
const peerUrl = `http://127.0.0.1:${(peer.address() as any).port}`;

const target = new URL(base);
const proxy = await outageProxy({ host: target.hostname, port: Number(target.port || 5432) });
const tmp = tempDir('oktell-pg-outage-');
const scen = join(tmp.dir, 'scenarios');
mkdirSync(scen);
const dbBlocks = (kind: string, key: string) => `  write:
    kind: DbQuery
    connection: app
    sql: "INSERT INTO trial_rows (kind, key) VALUES ('${kind}', :k)"
    params: { k: '${key}' }
    timeout: 3
    errorCode: err
    exits: { success: done, error: dberr, timeout: dbto }
  dberr:
    kind: WebRequest
    method: POST
    url: '"${peerUrl}/dberror"'
    json: { kind: '"${kind}"', key: '${key}', err: '[err]' }
    exits: { success: done }
  dbto:
    kind: WebRequest
    method: POST
    url: '"${peerUrl}/dbtimeout"'
    json: { kind: '"${kind}"', key: '${key}', err: '[err]' }
    exits: { success: done }
  done:
    kind: ReturnValue
    values: { 1: '"ok"' }
`;
writeFileSync(join(scen, 'HTTP404.yaml'), `variables: { address: string, body: string }
start: save
blocks:
  save:
    kind: Variable
    set: { address: InputParameter(1), body: InputParameter(4) }
    exits: { next: go }
  go:
    kind: AsyncScenario
    scenario: TrialJob
    mode: async
    params: { 1: '[body]' }
    exits: { next: ack }
  ack:
    kind: ReturnValue
    values: { 2: 200 }
`);
/** A scenario that takes its key from input parameter 1 into `keyVar`, posts it to the peer, then writes its row. */
const effectScenario = (kind: string, keyVar: string) => `variables: { ${keyVar}: string, err: string }
start: p
blocks:
  p: { kind: InputParameter, params: { ${keyVar}: 1 }, exits: { next: call } }
  call:
    kind: WebRequest
    method: POST
    url: '"${peerUrl}/effect"'
    json: { kind: '"${kind}"', key: '[${keyVar}]' }
    timeout: 5
    exits: { success: write }
${dbBlocks(kind, `[${keyVar}]`)}`;
writeFileSync(join(scen, 'TrialJob.yaml'), effectScenario('job', 'id'));
writeFileSync(join(scen, 'TrialTask.yaml'), effectScenario('task', 'due'));
const cfg = join(tmp.dir, 'oktell.config.yaml');
writeFileSync(cfg, `serviceTasks:\n  - { name: tick, scenario: TrialTask, every: 2s }\nworkers: { baseDelayMs: 500, maxDelayMs: 3000, maxAttempts: 30 }\n`);
const appUrl = new URL(throughProxy(base, proxy));
appUrl.searchParams.set('options', `-c search_path=${app}`);
const instanceEnv = {
  store: urlWithSchema(throughProxy(base, proxy), schema),
  smtpPort: 9, bpium: { url: 'http://127.0.0.1:9', login: 'x', password: 'y' }, webhookSecret: 'x', users: `${USER.login}:${USER.password}`,
  logLevel: 'info',
  extra: { OKTELL_CONFIG: cfg, OKTELL_DB_APP: appUrl.toString() },
};
const inst = startInstance('A', join(tmp.dir, 'a'), scen, instanceEnv);
// TRIAL_INSTANCES=2: a second instance on the same schema, taking every other webhook.
const second = process.env.TRIAL_INSTANCES === '2' ? startInstance('B', join(tmp.dir, 'b'), scen, instanceEnv) : undefined;
let allOut = '';
inst.proc.stdout!.on('data', (d: Buffer) => (allOut += d.toString()));
const stop = async () => { await inst.stop(); await second?.stop(); };
try {
  await waitHealthy(inst, 40_000);
  if (second) await waitHealthy(second, 40_000);
  log('up', inst.url);
  // webhook sender
  const acked = new Set<string>();
  const statuses: Record<string, number> = {};
  let sending = true;
  let n = 0;
  const sender = (async () => {
    while (sending) {
      const id = `w${++n}`;
      for (;;) {
        const res = await fetch(`${second && n % 2 ? second.url : inst.url}/Trial/Hook`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain', 'x-hook-signature': signBpiumBody('x', id) }, body: id, signal: AbortSignal.timeout(15_000) }).then(async (r) => { await r.text(); return r.status; }, (e) => `net:${e.name}`);
        statuses[String(res)] = (statuses[String(res)] ?? 0) + 1;
        if (res === 200) { acked.add(id); break; }
        if (!sending) break;
        await sleep(500);
      }
      await sleep(150);
    }
  })();
  const health = async () => {
    const r = await fetch(`${inst.url}/-/health`, { signal: AbortSignal.timeout(5000) }).then(async (r) => `${r.status} ${(await r.text()).slice(0, 300)}`, (e) => `ERR ${e.name}`);
    return r;
  };
  const metricsStore = async () => {
    const r = await fetch(`${inst.url}/-/metrics`, { headers: { authorization: AUTH }, signal: AbortSignal.timeout(5000) }).then(async (r) => (await r.text()).split('\n').filter((l) => /store|jobs|queue/.test(l) && !l.startsWith('#')).join(' | ').slice(0, 600), (e) => `ERR ${e.name}`);
    return r;
  };
  await sleep(5000);
  log('health before', await health());
  log('(a) cuts');
  for (let i = 0; i < 6; i++) { proxy.cut(); await sleep(400); }
  log('health after cuts', await health());
  await sleep(3000);
  log('(b) refuse 20s');
  await proxy.refuse();
  for (let i = 0; i < 4; i++) { await sleep(5000); log('health', await health()); log('metrics', await metricsStore()); }
  await proxy.pass();
  log('back; health', await health());
  await sleep(6000);
  log('health', await health());
  log('(c) hang 40s');
  await proxy.hang();
  for (let i = 0; i < 8; i++) { await sleep(5000); log('health', await health()); }
  // Back for new connections only: the old ones stay black-holed (a failover; nothing resets them).
  await proxy.heal();
  log('(d) back (healed: old connections still silent)');
  for (let i = 0; i < 12; i++) {
    await sleep(5000);
    const h = await health();
    log('health', h.slice(0, 120), 'acked so far', acked.size);
  }
  sending = false;
  await sender;
  log('statuses', statuses, 'acked', acked.size);
  // drain
  const q = async (sql: string) => (await admin.query(sql)).rows;
  for (let i = 0; i < 60; i++) {
    const st = await q(`SELECT status, count(*)::int n FROM ${schema}.jobs GROUP BY status`);
    const open = st.filter((r: any) => r.status === 'queued' || r.status === 'running').reduce((a: number, r: any) => a + r.n, 0);
    if (i % 5 === 0) log('jobs', JSON.stringify(st));
    if (open <= 1) break;
    await sleep(1000);
  }
  log('health end', await health());
  log('jobs', JSON.stringify(await q(`SELECT status, count(*)::int n FROM ${schema}.jobs GROUP BY status`)));
  log('non-succeeded', JSON.stringify(await q(`SELECT id, scenario, status, attempts, last_error FROM ${schema}.jobs WHERE status NOT IN ('succeeded','queued','running')`)).slice(0, 3000));
  // effects
  const eff = new Map<string, number>();
  for (const h of hits) if (h.path === '/effect') eff.set(`${h.body.kind}:${h.body.key}`, (eff.get(`${h.body.kind}:${h.body.key}`) ?? 0) + 1);
  log('effects doubled', [...eff].filter(([, c]) => c > 1));
  const missing = [...acked].filter((id) => !eff.has(`job:${id}`));
  log('acked without effect', missing);
  const rows = await q(`SELECT kind, key, count(*)::int n FROM ${app}.trial_rows GROUP BY kind, key`);
  log('rows doubled', rows.filter((r: any) => r.n > 1));
  log('acked without row', [...acked].filter((id) => !rows.some((r: any) => r.kind === 'job' && r.key === id)));
  log('other peer paths', hits.filter((h) => h.path !== '/effect').map((h) => `${h.path} ${JSON.stringify(h.body)}`));
  const taskJobs = await q(`SELECT params, status, attempts, trigger FROM ${schema}.jobs WHERE scenario='TrialTask' ORDER BY created_at`);
  log('task jobs', taskJobs.length, 'task effects', [...eff.keys()].filter((k) => k.startsWith('task:')).length);
  const dues = new Map<string, number>();
  for (const j of taskJobs) { const k = JSON.stringify(j.trigger); dues.set(k, (dues.get(k) ?? 0) + 1); }
  log('task trigger doubled', [...dues].filter(([, c]) => c > 1));
  // SIGTERM during outage (hang)
  await proxy.hang();
  await sleep(3000);
  const t1 = Date.now();
  inst.proc.kill('SIGTERM');
  await Promise.race([inst.exited, sleep(30_000)]);
  log('SIGTERM during hang: exited after', Date.now() - t1, 'ms code', inst.proc.exitCode, inst.proc.signalCode);
  await proxy.pass();
  // log lines: warn/error
  const lines = allOut.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return { raw: l }; } });
  const byMsg = new Map<string, number>();
  for (const l of lines) if (l.level >= 40 || l.raw) { const k = `${l.level} ${String(l.msg ?? l.raw).slice(0, 140)}`; byMsg.set(k, (byMsg.get(k) ?? 0) + 1); }
  log('warn+ lines', lines.filter((l) => l.level >= 40).length, 'of', lines.length);
  for (const [k, c] of [...byMsg].sort((a, b) => b[1] - a[1])) console.log(`  ${c}x ${k}`);
  writeFileSync('/tmp/trialA-log.jsonl', allOut);
  console.log('stderr:', inst.stderr().slice(-2000));
  if (second) console.log('B warn+ lines:', second.stdout().split('\n').filter((l) => /"level":[4-6]0/.test(l)).map((l) => String(JSON.parse(l).msg).slice(0, 120)));
} finally {
  await stop();
  await proxy.close();
  peer.close();
  await dropSchema(base, schema).catch(() => undefined);
  await admin.query(`DROP SCHEMA IF EXISTS ${app} CASCADE`).catch(() => undefined);
  await admin.end();
  tmp.cleanup();
}
