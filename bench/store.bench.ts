// Benchmark (e): what an acknowledgement's writes cost the store. One acknowledged webhook writes three records in
// one grouped commit: its inbox row, the HTTP404 run record and the job HTTP404 started. This measures the store's
// CPU per acknowledgement with each of the three left in or out, in the same process and in alternating rounds, so a
// change of the store's layout (fewer rows, fewer indexes, folded records) can be weighed before it is made. The
// records are the real ones: the shipped HTTP404 runs on a benchmark webhook, its run record is made as the hook
// makes it, and its job is the one its AsyncScenario block started.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRegistry } from '../components/registry.js';
import { fixedClock, loadScenarioLibrary, randomIds, runScenario } from '../engine/index.js';
import { runWrite } from '../server/run-record.js';
import { collectingStarter } from '../server/starters.js';
import { openSqliteStore } from '../server/store/sqlite.store.js';
import { newSortableId } from '../server/store/sortable-id.js';
import type { NewJob, RecordRequestInput, RunWrite } from '../server/store/store.port.js';
import { repoRoot, round, sign, webhookBody } from './bench-support.js';

/** Which records an acknowledgement writes, in the order they are measured. */
export const STORE_SHAPES = ['inbox', 'inbox + run', 'inbox + job', 'inbox + run + job'] as const;
export type StoreShape = (typeof STORE_SHAPES)[number];

export interface StoreResult {
  /** Median store CPU per acknowledgement over the rounds, in microseconds, by shape. */
  cpuUsPerAck: Record<StoreShape, number>;
  /** Each shape against the inbox row alone. */
  ratioToInbox: Record<StoreShape, number>;
  acksPerRound: number;
  rounds: number;
}

/** Acknowledgements in flight at once (as many as the ack benchmark's connections): each event-loop turn commits them together. */
const IN_FLIGHT = 16;

/** The records of one acknowledgement, made as the hook makes them. */
export async function sampleRecords(): Promise<{ run: RunWrite; job: NewJob; body: Buffer; headers: string }> {
  const library = await loadScenarioLibrary(join(repoRoot, 'scenarios'), { registry: defaultRegistry });
  const text = webhookBody(1, Date.now());
  const starter = collectingStarter(randomIds, { hook: '/Bpium/NewTask' });
  const params = { 1: '/Bpium/NewTask', 2: 'Content-Type: application/json', 3: 'POST', 4: text };
  const result = await runScenario(library, 'HTTP404', { params, ports: { asyncStarter: starter, clock: fixedClock(new Date()), ids: randomIds } });
  if (result.status !== 'completed' || starter.jobs.length !== 1) throw new Error(`HTTP404 went wrong in the benchmark: ${JSON.stringify(result.error ?? result.returnValues)}`);
  const headers = JSON.stringify([['content-type', 'application/json'], ['x-hook-signature', sign(text)]]);
  return { run: runWrite(result, { trigger: 'http', params }), job: starter.jobs[0]!, body: Buffer.from(text), headers };
}

function recordInput(shape: StoreShape, sample: Awaited<ReturnType<typeof sampleRecords>>, seq: number): RecordRequestInput {
  const now = Date.now();
  const runId = newSortableId(now);
  const input: RecordRequestInput = {
    inbox: { receivedAt: now, method: 'POST', path: '/Bpium/NewTask', headers: sample.headers, body: sample.body, remoteAddress: '127.0.0.1', signature: 'valid', dedupKey: `bpium:1:${seq}@*`, response: { status: 200, body: '' } },
  };
  if (shape.includes('run')) input.run = { ...sample.run, id: runId, startedAt: now, finishedAt: now };
  if (shape.includes('job')) input.jobs = [{ ...sample.job, id: newSortableId(now), parentRunId: runId }];
  return input;
}

/** Store CPU per acknowledgement (µs) of `acks` acknowledgements of one shape, into a fresh store file. */
async function measureShape(shape: StoreShape, sample: Awaited<ReturnType<typeof sampleRecords>>, acks: number, seq: { n: number }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'oktell-bench-store-'));
  const store = await openSqliteStore({ file: join(dir, 'store.sqlite') });
  try {
    const batch = async (n: number) => {
      for (let i = 0; i < n; i += IN_FLIGHT) await Promise.all(Array.from({ length: IN_FLIGHT }, () => store.recordRequest(recordInput(shape, sample, seq.n++))));
    };
    await batch(Math.min(1000, acks)); // warm-up: JIT, the file's first pages
    const before = process.cpuUsage();
    await batch(acks);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / acks;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchStore(o: { acks?: number; rounds?: number } = {}): Promise<StoreResult> {
  const acks = o.acks ?? 8000;
  const rounds = o.rounds ?? 3;
  const sample = await sampleRecords();
  const seen = new Map<StoreShape, number[]>(STORE_SHAPES.map((s) => [s, []]));
  const seq = { n: 1 };
  for (let r = 0; r < rounds; r++) for (const shape of STORE_SHAPES) seen.get(shape)!.push(await measureShape(shape, sample, acks, seq));
  const cpuUsPerAck = Object.fromEntries(STORE_SHAPES.map((s) => [s, round(median(seen.get(s)!), 1)])) as Record<StoreShape, number>;
  const ratioToInbox = Object.fromEntries(STORE_SHAPES.map((s) => [s, round(cpuUsPerAck[s] / cpuUsPerAck.inbox, 2)])) as Record<StoreShape, number>;
  return { cpuUsPerAck, ratioToInbox, acksPerRound: acks, rounds };
}
