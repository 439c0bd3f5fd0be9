// A child process for benchmark (a): two reference floors for an acknowledgement, written as lean as Node allows.
//   `http`:          node:http reads the body and answers 200 (what express costs on top of Node).
//   `durable <dir>`: the least a durable acknowledgement can do: constant-time Basic auth, the HMAC signature checked, the
//              request stored as one row in SQLite (WAL, synchronous=NORMAL, as the server), every request of one
//              event-loop turn in one transaction, and 200 only after COMMIT. No scenario, no dedup, no run record,
//              no job: what the server's hook does beyond this is the price of its features.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BENCH_AUTH, BENCH_SECRET } from './bench-support.js';

// The database goes into the folder the parent gives (its benchmark workspace, which it removes).
const durable = process.argv[2] === 'durable';
const db = durable ? new Database(join(process.argv[3] ?? '.', 'floor.sqlite')) : undefined;
db?.pragma('journal_mode = WAL');
db?.pragma('synchronous = NORMAL');
db?.exec('CREATE TABLE inbox (id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, body BLOB NOT NULL, signature TEXT NOT NULL)');
const insert = db?.prepare('INSERT INTO inbox (received_at, body, signature) VALUES (?, ?, ?)');

interface Pending { at: number; body: Buffer; signature: string; res: ServerResponse }
let pending: Pending[] = [];
const commit = db?.transaction((batch: Pending[]) => {
  for (const p of batch) insert!.run(p.at, p.body, p.signature);
});
const expectedAuth = Buffer.from(BENCH_AUTH);

function answer(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': '0' });
  res.end();
}

function flush(): void {
  const batch = pending;
  pending = [];
  commit!(batch);
  for (const p of batch) answer(p.res, 200);
}

const server = createServer((req, res) => {
  const auth = Buffer.from(req.headers.authorization ?? '');
  if (durable && (auth.length !== expectedAuth.length || !timingSafeEqual(auth, expectedAuth))) return answer(res, 401);
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (!durable) return answer(res, 200);
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const signature = String(req.headers['x-hook-signature'] ?? '');
    const given = Buffer.from(signature);
    const wanted = Buffer.from(createHmac('md5', BENCH_SECRET).update(body).digest('base64'));
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return answer(res, 401);
    pending.push({ at: Date.now(), body, signature, res });
    if (pending.length === 1) setImmediate(flush);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () =>
  server.close(() => {
    db?.close();
    process.exit(0);
  }),
);
