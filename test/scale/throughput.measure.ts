// Measures webhook throughput of 1, 2 and 3 instances on one PostgreSQL (and one on SQLite) with autocannon on loopback.
// Not a test: run `node dist/test/scale/throughput.measure.js [seconds] [connections] [setups]` after building, where
// setups is a comma-separated subset of `sqlite,1,2,3` (default all); prints a Markdown table.
import { randomBytes } from 'node:crypto';
import { cpSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { startBpiumEmulator } from '../../bpium-emulator/emulator.js';
import { repoPath, tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { AUTH, taskWebhook, USER } from '../server/server-helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { startInstance, waitHealthy, type Instance } from './scale-helpers.js';

interface CannonRequest {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  setupRequest?: (req: CannonRequest) => CannonRequest;
}
interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Cannon = (o: { url: string | string[]; connections: number; duration: number; timeout: number; requests: CannonRequest[] }) => PromiseLike<CannonResult>;

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 32);
const setups = (process.argv[4] ?? 'sqlite,1,2,3').split(',');
const autocannon = ((await import('autocannon' as string)) as { default: Cannon }).default;
let seq = 1;

async function fire(urls: string[], secret: string, duration: number): Promise<CannonResult> {
  return autocannon({
    url: urls.length === 1 ? urls[0]! : urls,
    connections,
    duration,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/Bpium/NewTask',
        setupRequest(req) {
          const body = taskWebhook({ name: `load ${seq}`, responsible: ['2'], sequenceId: seq++ });
          return { ...req, body, headers: { 'content-type': 'application/json', authorization: AUTH, 'x-hook-signature': signBpiumBody(secret, body) } };
        },
      },
    ],
  });
}

async function measure(label: string, n: number, store: string): Promise<string> {
  const tmp = tempDir('oktell-measure-');
  const scenarios = join(tmp.dir, 'scenarios');
  cpSync(repoPath('scenarios'), scenarios, { recursive: true });
  const smtp = await startSmtpServer();
  const bpium = await startBpiumEmulator({ port: 0, dataDir: join(tmp.dir, 'bpium') });
  const secret = randomBytes(16).toString('hex');
  const instances: Instance[] = [];
  try {
    for (let i = 0; i < n; i++) {
      instances.push(
        startInstance(`#${i + 1}`, join(tmp.dir, `i${i}`), scenarios, {
          store,
          smtpPort: smtp.port,
          bpium: { url: bpium.url, login: bpium.login, password: bpium.password },
          webhookSecret: secret,
          users: `${USER.login}:${USER.password}`,
          logLevel: 'error',
        }),
      );
    }
    await Promise.all(instances.map((i) => waitHealthy(i)));
    const urls = instances.map((i) => i.url);
    // Warm-up (JIT, connection pools), then let the queue drain so the measured run starts from an empty queue.
    const warm = await fire(urls, secret, 3);
    await drain(smtp.letters, warm['2xx'], 60_000);
    smtp.letters.length = 0;
    const t0 = Date.now();
    const r = await fire(urls, secret, seconds);
    const loadEnd = Date.now();
    const drained = await drain(smtp.letters, r['2xx'], 120_000);
    const e2eSeconds = (Date.now() - t0) / 1000;
    const row = [
      label,
      String(Math.round(r.requests.average)),
      `${r.latency.p50} / ${r.latency.p99}`,
      String(r.non2xx + r.errors + r.timeouts),
      `${smtp.letters.length} of ${r['2xx']}${drained ? '' : ' (not drained)'}`,
      ((Date.now() - loadEnd) / 1000).toFixed(1),
      String(Math.round(smtp.letters.length / e2eSeconds)),
    ];
    return `| ${row.join(' | ')} |`;
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
    await bpium.close();
    await smtp.close();
    tmp.cleanup();
  }
}

async function drain(letters: unknown[], expected: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (letters.length < expected) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

const pg = await testPostgres();
if (pg.skip !== undefined) {
  console.error(pg.skip);
  process.exit(2);
}
console.log(`${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}; autocannon ${connections} connections × ${seconds} s, round-robin over the instances`);
console.log('| setup | acknowledged webhooks/s | latency p50 / p99 ms | errors | letters | drain after load, s | letters/s end to end |');
console.log('|---|---|---|---|---|---|---|');
if (setups.includes('sqlite')) console.log(await measure('1 instance, SQLite', 1, 'sqlite'));
for (const n of [1, 2, 3].filter((k) => setups.includes(String(k)))) {
  const schema = randomSchemaName('measure');
  try {
    console.log(await measure(`${n} instance${n > 1 ? 's' : ''}, PostgreSQL`, n, urlWithSchema(pg.url, schema)));
  } finally {
    await dropSchema(pg.url, schema);
  }
}
