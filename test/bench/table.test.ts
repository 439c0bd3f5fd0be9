// The benchmark's summary table: each target is judged from the numbers of the same run, the end-to-end rows are
// ratios to the plain baseline, and the smallest-setup row names its settings and compares with the default setup.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FlowResult, FlowSide } from '../../bench/flow.bench.js';
import { table } from '../../bench/run.js';
import type { SmallFootprintResult } from '../../bench/small.bench.js';
import { benchStore, sampleRecords, STORE_SHAPES } from '../../bench/store.bench.js';

const side = (over: Partial<FlowSide>): FlowSide => ({
  webhooks: 2000, acknowledged: 2000, letters: 2000, lettersPerSecond: 200, cpuMsPerLetter: 4, ackPerSecond: 900,
  p50DelayMs: 300, p99DelayMs: 900, peakRssMiB: 90, missing: 0, duplicates: 0,
  bounds: { mainThreadBusy: 0.5, othersCpuMsPerLetter: { smtpSink: 0.3, bpium: 0.25, loadGenerator: 0.1 } }, ...over,
});
const flow = (oktell: Partial<FlowSide>, ratios: Partial<FlowResult['ratios']> = {}): FlowResult => {
  const o = side({ peakRssMiB: 195.2, lettersPerSecond: 511, ...oktell });
  const p = side({});
  return {
    webhooks: 2000, connections: 20, rounds: 1, plain: p, oktell: o, perRound: [{ plain: p, oktell: o }],
    ratios: { lettersPerSecond: o.lettersPerSecond / p.lettersPerSecond, cpuPerLetter: o.cpuMsPerLetter / p.cpuMsPerLetter, p99Delay: 1, peakRss: 2, ...ratios },
  };
};
const small = (peakRssMiB: number | undefined): SmallFootprintResult => ({
  env: { OKTELL_DELIVERY_THREAD: 'off' }, nodeArgs: ['--max-semi-space-size=2'], peakRssMiB, capacityPerSecond: 320, probeWebhooks: 7000,
});
const row = (text: string, measure: string) => text.split('\n').find((l) => l.startsWith(`| ${measure} |`))?.split(' | ');

describe('benchmark table', () => {
  const cases: Array<{ rss: number | undefined; met: string }> = [
    { rss: 132.5, met: 'yes' }, // 138.9 MB
    { rss: 143, met: 'yes' }, // 149.9 MB: MiB are converted before the 150 MB target
    { rss: 143.1, met: '**no**' }, // 150.05 MB
    { rss: undefined, met: '**no**' }, // not measured (no /proc) is not a pass
  ];
  for (const c of cases) {
    it(`smallest setup at ${c.rss ?? 'unknown'} MiB: target met = ${c.met}`, () => {
      const cells = row(table({ flow: flow({}), small: small(c.rss) }), '(d) peak RSS, smallest setup');
      assert.ok(cells, 'the row is present');
      assert.equal(cells[1], `${c.rss ?? '—'} MiB, capacity 320 letters/s`);
      assert.equal(cells[2], '`OKTELL_DELIVERY_THREAD=off node --max-semi-space-size=2`; default setup 195.2 MiB, 511 letters/s');
      assert.equal(cells[4], `${c.met} |`);
    });
  }

  it('judges the end-to-end flow by its ratios to the plain baseline of the same run', () => {
    const letters = (o: Partial<FlowSide>) => row(table({ flow: flow(o) }), '(b) letters per second, webhook to mailbox');
    assert.equal(letters({ lettersPerSecond: 299 })?.[4], '**no** |'); // 1.495×
    assert.equal(letters({ lettersPerSecond: 300 })?.[4], 'yes |'); // 1.5×
    assert.match(letters({ lettersPerSecond: 300 })?.[2] ?? '', /plain express \+ fetch \+ nodemailer 200 \/s → \*\*1\.5×\*\*/);
    const cpu = (o: Partial<FlowSide>) => row(table({ flow: flow(o) }), '(b) server CPU per letter (all threads)')?.[4];
    assert.equal(cpu({ cpuMsPerLetter: 1.5 }), 'yes |'); // 1.5 ms and 0.375×
    assert.equal(cpu({ cpuMsPerLetter: 1.6 }), '**no** |'); // over 1.5 ms though under 0.5×
    assert.equal(table({ flow: { ...flow({ cpuMsPerLetter: 1.2 }), plain: side({ cpuMsPerLetter: 2 }), ratios: { lettersPerSecond: 2, cpuPerLetter: 0.6, p99Delay: 1, peakRss: 1 } } }).includes('**0.6×**'), true);
  });

  it('reports letters lost or doubled, and leaves out rows it has no numbers for', () => {
    const delivery = (o: Partial<FlowSide>) => row(table({ flow: flow(o) }), '(b) webhook → mailbox delay p50 / p99');
    assert.equal(delivery({})?.[4], 'none lost or doubled |');
    assert.equal(delivery({ missing: 3 })?.[4], '**letters missing** |');
    assert.equal(delivery({ duplicates: 1 })?.[4], '**letters sent twice** |');
    const text = table({ flow: flow({}) });
    assert.equal(row(text, '(d) server peak RSS during (a) / (b)')?.[4], '**no** |');
    assert.equal(row(text, '(d) peak RSS, smallest setup'), undefined);
    assert.equal(row(text, '(a) webhook acks, throughput'), undefined);
  });

  it('says what bounds each side: busy main threads, CPU per request, the floors of an ack, the other processes per letter', () => {
    const o = side({ bounds: { mainThreadBusy: 0.97, othersCpuMsPerLetter: { smtpSink: 0.24, bpium: 0.31, loadGenerator: 0.09 } } });
    const text = table({ flow: { ...flow({}), oktell: o } });
    const cells = row(text, '(b) what bounds letters/s');
    assert.equal(cells?.[1], 'main thread busy 97 %; other processes 0.64 ms (SMTP sink 0.24, Bpium 0.31, load 0.09) per letter');
    assert.equal(cells?.[2], 'plain: main thread busy 50 %; other processes 0.65 ms (SMTP sink 0.3, Bpium 0.25, load 0.1)');
    const load = (rps: number, cpu: number, busy: number) => ({ rps, p50: 1, p99: 5, cpuMsPerRequest: cpu, mainThreadBusy: busy });
    const ack = {
      seconds: 5, connections: 16, rounds: [], bare: load(9000, 0.11, 0.99), oktell: load(3000, 0.33, 1), throughputRatio: 0.333, p99Ratio: 4, peakRssMiB: 130, errors: 0,
      nodeHttp: load(24000, 0.03, 0.8), durableFloor: load(22500, 0.04, 0.9), floorRatios: { nodeHttp: 2.67, durableFloor: 2.5 },
      ackAlone: load(4500, 0.22, 0.98), ackAloneRatio: 0.5,
    };
    const a = row(table({ ack }), '(a) what bounds the acks');
    assert.equal(a?.[1], '0.33 ms server CPU per ack, main thread busy 100 %');
    assert.equal(a?.[2], 'bare 0.11 ms per request, busy 99 % → CPU per request 3×');
    const floors = row(table({ ack }), '(a) floors: a minimal durable ack / node:http alone');
    assert.equal(floors?.[1], '22,500 / 24,000 req/s, 0.04 / 0.03 ms CPU per request');
    assert.equal(floors?.[2], "2.5× / 2.67× bare express; an oktell ack costs 8.3× the durable floor's CPU");
    const alone = row(table({ ack }), '(a) the acknowledgement alone (a second server whose one worker waits on a Bpium that never answers: no letters sent beside the acks)');
    assert.equal(alone?.[1], '4,500 req/s, 0.22 ms server CPU per ack, p99 5 ms');
    assert.equal(alone?.[2], 'bare express → **0.5×**, CPU per request 2×; the letters sent during the acks above add 0.11 ms per ack');
    assert.equal(row(table({ ack }), '(a) webhook acks, throughput')?.[4], '**no** |');
  });

  it('shows the store row (e): each shape in µs and against the inbox row alone', () => {
    const store = {
      cpuUsPerAck: { inbox: 40, 'inbox + run': 70, 'inbox + job': 80, 'inbox + run + job': 120 },
      ratioToInbox: { inbox: 1, 'inbox + run': 1.75, 'inbox + job': 2, 'inbox + run + job': 3 },
      acksPerRound: 8000, rounds: 3,
    };
    const cells = row(table({ store }), '(e) store CPU per acknowledgement, by records written');
    assert.equal(cells?.[1], 'inbox 40 µs (1×); inbox + run 70 µs (1.75×); inbox + job 80 µs (2×); inbox + run + job 120 µs (3×)');
    assert.equal(row(table({}), '(e) store CPU per acknowledgement, by records written'), undefined);
  });
});

describe('store benchmark (e)', () => {
  it('writes the records the hook writes: the shipped HTTP404 run record and the BpiumNewTask job it started', async () => {
    const s = await sampleRecords();
    assert.equal(s.run.scenario, 'HTTP404');
    assert.equal(s.run.trigger, 'http');
    assert.equal(s.run.status, 'completed');
    assert.ok(Array.isArray(s.run.trace) && s.run.trace.length >= 3, 'the run record has its trace');
    assert.equal(s.job.scenario, 'BpiumNewTask');
    assert.match(String((s.job.params as Record<string, unknown>)['1']), /"sequenceId":1/);
  });

  it('measures every shape, with the inbox row as the unit', async () => {
    const r = await benchStore({ acks: 64, rounds: 1 });
    assert.deepEqual(Object.keys(r.cpuUsPerAck), [...STORE_SHAPES]);
    for (const shape of STORE_SHAPES) assert.ok(r.cpuUsPerAck[shape] > 0, `${shape} measured`);
    assert.equal(r.ratioToInbox.inbox, 1);
  });
});
