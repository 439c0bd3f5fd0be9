// serve's logs: readable lines for a person (a terminal, or OKTELL_LOG_FORMAT=pretty), JSON lines for machines.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatLogLine, logFormat } from '../../server/log-format.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';
import { runCli, startServeProcess } from './cli-process.js';

const USER = { login: 'tester', password: 'pass-word-1' };
const auth = `Basic ${Buffer.from(`${USER.login}:${USER.password}`).toString('base64')}`;

/** Starts serve with `env`, sends one request the hook answers 404, stops it, and returns its stdout. */
async function logsOf(env: Record<string, string>, more: string[] = []): Promise<string> {
  const tmp = tempDir();
  const server = await startServeProcess({ dataDir: join(tmp.dir, 'var'), env: { OKTELL_USERS: `${USER.login}:${USER.password}`, ...env } });
  try {
    const res = await fetch(`${server.url}/no/such/hook`, { headers: { authorization: auth } });
    assert.equal(res.status, 404);
    for (const path of more) await (await fetch(`${server.url}${path}`, { headers: { authorization: auth } })).arrayBuffer();
  } finally {
    assert.equal(await server.stop(), 0);
    tmp.cleanup();
  }
  return server.stdout();
}

describe('serve logs through the real binary', () => {
  it('OKTELL_LOG_FORMAT=pretty: time (in OKTELL_TZ, with its offset), level, message and key fields on one readable line', { timeout: 60_000 }, async () => {
    // The machine's zone differs from OKTELL_TZ: the times follow OKTELL_TZ, as `runs` and `show` print them.
    const before = Date.now();
    const out = await logsOf({ OKTELL_LOG_FORMAT: 'pretty', OKTELL_TZ: 'Asia/Kolkata', TZ: 'America/New_York' });
    const after = Date.now();
    const line = out.split('\n').find((l) => / request /.test(l));
    assert.ok(line, out);
    assert.match(line, /^\d\d:\d\d:\d\d\.\d{3}\+05:30 INFO  request method=GET path=\/no\/such\/hook status=404 ms=[\d.]+ ip=127\.0\.0\.1 runId=\S+$/);
    const kolkataHour = (t: number) => new Date(t + 5.5 * 3_600_000).getUTCHours();
    assert.ok([kolkataHour(before), kolkataHour(after)].includes(Number(line.slice(0, 2))), `${line}: the hour in Asia/Kolkata`);
    assert.ok(!out.split('\n').some((l) => l.startsWith('{')), 'no JSON line in the readable form');
    assert.doesNotMatch(out, new RegExp(USER.password));
  });

  it('pretty: a query parameter name with a bidirectional control (U+202E, U+200F) is written escaped, not obeyed', { timeout: 60_000 }, async () => {
    // Any client, before its login is checked, chooses the names of its query: decoded, they are logged.
    const out = await logsOf({ OKTELL_LOG_FORMAT: 'pretty' }, ['/no/such/hook?a%E2%80%8Fb%E2%80%AEc=1']);
    const line = out.split('\n').find((l) => / request .*query=/.test(l));
    assert.ok(line, out);
    assert.doesNotMatch(line, /[\u200f\u202e]/, JSON.stringify(line));
    assert.match(line, / query=\["a\\u200fb\\u202ec"\] status=404 /);
  });

  it('piped (not a terminal) and without a setting: JSON lines as before', { timeout: 60_000 }, async () => {
    const out = await logsOf({});
    const records = out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const request = records.find((r) => r.msg === 'request');
    assert.ok(request, out);
    assert.equal(request.level, 30);
    assert.equal(request.status, 404);
    assert.equal(typeof request.time, 'number');
  });

  it('a request to a mounted router (the console) is logged with its whole path, and without its query', { timeout: 60_000 }, async () => {
    const out = await logsOf({}, ['/-/console/runs?token=query-secret-42']);
    const paths = out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === 'request').map((r) => r.path);
    assert.deepEqual(paths, ['/no/such/hook', '/-/console/runs']);
    assert.doesNotMatch(out, /query-secret-42/);
  });

  it('the start record on retries names the runs command that reads this data folder', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    try {
      const dataDir = join(tmp.dir, 'elsewhere var');
      const server = await startServeProcess({ dataDir, env: { OKTELL_USERS: `${USER.login}:${USER.password}`, OKTELL_LOG_FORMAT: 'json' } });
      assert.equal(await server.stop(), 0);
      const records = server.stdout().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      const retries = records.find((r) => String(r.msg).startsWith('jobs that fail as retryable'));
      // Typed in a new shell, the command must read this folder, not ./var (the quoted path has a space).
      assert.match(String(retries?.msg), new RegExp(`\\(npx oktell-emu runs --data-dir '${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' --status dead lists those\\)$`), server.stdout());
    } finally {
      tmp.cleanup();
    }
  });

  it('SIGTERM: the stop record says how many jobs are left queued; the start record how many it found waiting', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    try {
      const dataDir = join(tmp.dir, 'var');
      mkdirSync(dataDir);
      const before = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite') });
      const tomorrow = Date.now() + 86_400_000;
      await before.enqueueJobs([{ scenario: 'BpiumNewTask', params: {}, runAt: tomorrow }, { scenario: 'BpiumNewTask', params: {}, runAt: tomorrow }]);
      await before.close();
      const server = await startServeProcess({ dataDir, env: { OKTELL_USERS: `${USER.login}:${USER.password}`, OKTELL_LOG_FORMAT: 'json' } });
      assert.equal(await server.stop(), 0);
      const records = server.stdout().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      const start = records.find((r) => String(r.msg).startsWith('listening on '));
      assert.equal(start?.queued, 2, server.stdout());
      assert.match(String(start?.msg), /; 2 job\(s\) found waiting in the queue from before this start$/);
      const stop = records.find((r) => String(r.msg).startsWith('stopped'));
      assert.equal(stop?.queued, 2, server.stdout());
      assert.equal(stop?.msg, 'stopped: 2 job(s) left queued for the next start');
    } finally {
      tmp.cleanup();
    }
  });

  it('an unknown OKTELL_LOG_FORMAT is a usage error', { timeout: 30_000 }, () => {
    const tmp = tempDir();
    try {
      const r = runCli(['serve', '--port', '0', '--bpium-emulator-port', '0', '--data-dir', tmp.dir], { OKTELL_LOG_FORMAT: 'yaml' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /OKTELL_LOG_FORMAT=yaml: expected json or pretty/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('the readable form', () => {
  it('a terminal gets it by default, anything else JSON; the variable wins both ways', () => {
    assert.equal(logFormat({}, true), 'pretty');
    assert.equal(logFormat({}, false), 'json');
    assert.equal(logFormat({ OKTELL_LOG_FORMAT: 'json' }, true), 'json');
    assert.equal(logFormat({ OKTELL_LOG_FORMAT: 'PRETTY' }, false), 'pretty');
  });

  it('quotes values with spaces, writes objects as JSON, puts an error message in line and its stack below', () => {
    const time = Date.UTC(2026, 0, 2, 0, 4, 5, 67);
    const line = JSON.stringify({ level: 50, time, msg: 'cannot record a run', runId: 'r1', note: 'two words', pruned: { inbox: 2 }, err: { type: 'Error', message: 'disk full', stack: 'Error: disk full\n    at write (store.js:1:1)' } });
    assert.equal(formatLogLine(line, 'Europe/Moscow').replace(/\x1b\[[0-9;]*m/g, ""), '03:04:05.067+03:00 ERROR cannot record a run err="disk full" runId=r1 note="two words" pruned={"inbox":2}\n    at write (store.js:1:1)\n');
  });

  it('gives the time in the zone it is given, with the offset of that moment (Z for UTC)', () => {
    const plain = (time: number, zone: string) => formatLogLine(JSON.stringify({ level: 30, time, msg: 'm' }), zone).replace(/\x1b\[[0-9;]*m/g, '').split(' ')[0];
    const t = Date.UTC(2026, 6, 1, 23, 59, 59, 8);
    assert.equal(plain(t, 'UTC'), '23:59:59.008Z');
    assert.equal(plain(t, 'Asia/Kolkata'), '05:29:59.008+05:30');
    assert.equal(plain(t, 'Europe/Berlin'), '01:59:59.008+02:00'); // summer time
    assert.equal(plain(Date.UTC(2026, 0, 1, 23, 59, 59, 8), 'Europe/Berlin'), '00:59:59.008+01:00');
    assert.equal(plain(Date.UTC(2026, 0, 1, 12, 0, 0, 999), 'America/New_York'), '07:00:00.999-05:00');
  });

  it('escapes the bidirectional controls and C1 of the message and the values, which JSON leaves as they are', () => {
    const line = JSON.stringify({ level: 40, time: 0, msg: 'refused \u202eexe.pdf', query: ['a\u200fb\u202ec'], bare: 'x\u2067y\u009b31m', err: { message: 'bad \u061c', stack: 'Error\n    at \u202ef (x.js:1:1)' } });
    const out = formatLogLine(line, 'UTC').replace(/\x1b\[[0-9;]*m/g, '');
    assert.doesNotMatch(out, /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u0080-\u009f]/, JSON.stringify(out));
    assert.equal(out, '00:00:00.000Z WARN  refused \\u202eexe.pdf err="bad \\u061c" query=["a\\u200fb\\u202ec"] bare=x\\u2067y\\u009b31m\n    at \\u202ef (x.js:1:1)\n');
  });

  it('passes a line that is not JSON through unchanged', () => {
    assert.equal(formatLogLine('plain text', 'UTC'), 'plain text\n');
  });
});
