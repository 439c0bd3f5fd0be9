// An instance whose clock is far from the others' runs every service task early and takes over jobs still running
// elsewhere; nothing else shows it, so `serve` on PostgreSQL measures its clock against the database's at the start
// and warns. The clock is moved in the child process alone (a preload that shifts Date), as a host whose NTP stopped.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { clockOffsetOf, clockSkewWarning } from '../../server/store/clock-skew.js';
import { repoPath, tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { serveUrl, startChild, USER } from '../server/server-helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';

const SHIFT = `const off = Number(process.env.TEST_CLOCK_SHIFT_MS || 0);
const RealDate = Date;
const realNow = RealDate.now.bind(RealDate);
class ShiftedDate extends RealDate {
  constructor(...a) { if (a.length === 0) super(realNow() + off); else super(...a); }
  static now() { return realNow() + off; }
}
globalThis.Date = ShiftedDate;
`;

/** The warnings a `serve` on `store` logs at its start, its clock shifted by `shiftMs`. */
async function startWarnings(dir: string, name: string, store: string, smtpPort: number, shiftMs: number): Promise<Array<{ msg: string; clockOffsetMs?: number }>> {
  const dataDir = join(dir, name);
  const scenarios = join(dir, 'scenarios');
  if (!existsSync(scenarios)) cpSync(repoPath('scenarios'), scenarios, { recursive: true });
  const preload = join(dir, 'shift-clock.cjs');
  writeFileSync(preload, SHIFT);
  let log = '';
  const child = startChild(dataDir, scenarios, smtpPort, { OKTELL_STORE: store, NODE_OPTIONS: `--require ${preload}`, TEST_CLOCK_SHIFT_MS: String(shiftMs), OKTELL_LEASE_MS: '6000' }, (t) => (log += t));
  try {
    await serveUrl(child.proc, dataDir, child.output, 30_000);
  } finally {
    child.proc.kill('SIGTERM');
    if (child.proc.exitCode === null && child.proc.signalCode === null) await once(child.proc, 'exit');
  }
  return log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string; clockOffsetMs?: number })
    .filter((l) => l.level === 40);
}

describe('clock skew against the database', () => {
  it('serve on PostgreSQL warns at its start when its clock is 20 s ahead or behind the database server, and not when it agrees', { timeout: 120_000 }, async (t) => {
    const pg = await testPostgres();
    if (pg.skip !== undefined) return t.skip(pg.skip);
    const schema = randomSchemaName('skew');
    const store = urlWithSchema(pg.url, schema);
    const tmp = tempDir('oktell-skew-');
    const smtp = await startSmtpServer();
    try {
      const ahead = (await startWarnings(tmp.dir, 'ahead', store, smtp.port, 20_000)).filter((w) => /clock/.test(w.msg));
      assert.equal(ahead.length, 1, JSON.stringify(ahead));
      assert.match(ahead[0]!.msg, /^this instance's clock is 20\.\d s ahead of the database server's \(PostgreSQL clock_timestamp\(\), measured over a \d+ ms round trip\): leases and due times are judged by each instance's own clock, so if the other instances keep the database server's time, it runs the service tasks' due times 20\.\d s early, before the other instances would, and already takes over jobs other instances are still running \(their leases look expired to it, OKTELL_LEASE_MS=6000\), so those jobs run twice at once; keep every instance's clock, and the database server's, in sync with NTP \(docs\/scaling\.md, "Clocks"\)$/);
      assert.ok(Math.abs(ahead[0]!.clockOffsetMs! - 20_000) < 1000, `offset ${ahead[0]!.clockOffsetMs}`);
      const behind = (await startWarnings(tmp.dir, 'behind', store, smtp.port, -20_000)).filter((w) => /clock/.test(w.msg));
      assert.equal(behind.length, 1, JSON.stringify(behind));
      assert.match(behind[0]!.msg, /^this instance's clock is 20\.\d s behind the database server's .*: leases and due times are judged by each instance's own clock, so if the other instances keep the database server's time, the other instances take over the jobs it runs while it still runs them/);
      const inSync = (await startWarnings(tmp.dir, 'in-sync', store, smtp.port, 0)).filter((w) => /clock/.test(w.msg));
      assert.deepEqual(inSync, [], 'no warning when the clocks agree');
    } finally {
      await smtp.close();
      await dropSchema(pg.url, schema);
      tmp.cleanup();
    }
  });

  it('the offset is taken from the sample with the shortest round trip; a difference the round trip could explain is no warning', () => {
    const o = clockOffsetOf([
      { sentAt: 1000, receivedAt: 1400, dbAt: 0 },
      { sentAt: 2000, receivedAt: 2010, dbAt: 500 },
    ]);
    assert.deepEqual(o, { offsetMs: 1505, roundTripMs: 10 });
    assert.equal(clockSkewWarning({ offsetMs: 1400, roundTripMs: 900 }, 60_000), undefined);
    assert.equal(clockSkewWarning({ offsetMs: -900, roundTripMs: 2 }, 60_000), undefined);
    assert.match(clockSkewWarning({ offsetMs: 5000, roundTripMs: 2 }, 60_000)!, /5\.0 s ahead .* once the difference nears two thirds of the lease takes over jobs/);
  });

  it('a running instance whose clock drifts later is warned of once, shown in oktell_clock_offset_seconds, and said back in step', { timeout: 120_000 }, async (t) => {
    const pg = await testPostgres();
    if (pg.skip !== undefined) return t.skip(pg.skip);
    const schema = randomSchemaName('drift');
    const store = urlWithSchema(pg.url, schema);
    const tmp = tempDir('oktell-drift-');
    const smtp = await startSmtpServer();
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    // The shift is read from a file at every call, so the test moves the child's clock while it runs (NTP stopping).
    const shiftFile = join(tmp.dir, 'shift-ms');
    writeFileSync(shiftFile, '0');
    const preload = join(tmp.dir, 'drift-clock.cjs');
    writeFileSync(preload, SHIFT.replace('const off = Number(process.env.TEST_CLOCK_SHIFT_MS || 0);', `const fs = require('node:fs');\nconst offNow = () => Number(fs.readFileSync(${JSON.stringify(shiftFile)}, 'utf8'));`).replaceAll('realNow() + off', 'realNow() + offNow()'));
    let log = '';
    const child = startChild(join(tmp.dir, 'data'), scenarios, smtp.port, { OKTELL_STORE: store, NODE_OPTIONS: `--require ${preload}`, OKTELL_CLOCK_CHECK_MS: '1000', OKTELL_LOG_LEVEL: 'info' }, (text) => (log += text));
    const lines = () => log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; clockOffsetMs?: number }).filter((l) => /clock/.test(l.msg) && l.clockOffsetMs !== undefined);
    const until = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 150 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(ok(), `${what}: ${JSON.stringify(lines())}`);
    };
    const gauge = async (url: string) => {
      const text = await (await fetch(`${url}/-/metrics`, { headers: { authorization: `Basic ${Buffer.from(`${USER.login}:${USER.password}`).toString('base64')}` } })).text();
      const m = /^oktell_clock_offset_seconds (\S+)$/m.exec(text);
      return m ? Number(m[1]) : undefined;
    };
    try {
      const url = await serveUrl(child.proc, join(tmp.dir, 'data'), child.output, 30_000);
      assert.deepEqual(lines(), [], 'in step at the start: nothing said');
      assert.ok(Math.abs((await gauge(url))!) < 1, 'the gauge is near 0');
      writeFileSync(shiftFile, '20000');
      await until('a warning once the clock is 20 s ahead', () => lines().some((l) => l.level === 40));
      assert.match(lines()[0]!.msg, /^this instance's clock is 20\.\d s ahead of the database server's/);
      const g = (await gauge(url))!;
      assert.ok(Math.abs(g - 20) < 1, `gauge ${g}`);
      // Measured every second while it stays off: said once only.
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(lines().filter((l) => l.level === 40).length, 1);
      // Gone the other way: the first warning's words (ahead, tasks early) no longer hold, so it is said again.
      writeFileSync(shiftFile, '-20000');
      await until('a second warning once the clock is 20 s behind', () => lines().filter((l) => l.level === 40).length === 2);
      assert.match(lines().filter((l) => l.level === 40)[1]!.msg, /^this instance's clock is 20\.\d s behind the database server's/);
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(lines().filter((l) => l.level === 40).length, 2);
      writeFileSync(shiftFile, '0');
      await until('an info line once it is back', () => lines().some((l) => l.level === 30));
      assert.match(lines().find((l) => l.level === 30)!.msg, /^this instance's clock is back in step with the database server's \(-?\d+ ms apart, measured over a \d+ ms round trip\): the earlier warning about its clock no longer holds$/);
      assert.ok(Math.abs((await gauge(url))!) < 1);
    } finally {
      child.proc.kill('SIGTERM');
      if (child.proc.exitCode === null && child.proc.signalCode === null) await once(child.proc, 'exit');
      await smtp.close();
      await dropSchema(pg.url, schema);
      tmp.cleanup();
    }
  });
});
