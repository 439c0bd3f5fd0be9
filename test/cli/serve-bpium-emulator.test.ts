// `serve` starts its embedded Bpium emulator only for a folder whose scenarios use Bpium (trial, finding L2): a folder
// without a Bpium block gets no emulator, one line saying why, and no signature demanded on /Bpium/NewTask for the
// emulator's sake (a secret the user configures is still demanded). A folder with Bpium blocks wants it as before.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadServerConfig } from '../../server/config.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCliAsync, startCli, type BackgroundCli } from './cli.helper.js';

// The emulator's default port: the only one it can take in these tests, since giving a port asks for the emulator.
const DEFAULT_EMULATOR_PORT = 4056;

/** Holds the emulator's default port for the test (already held by another program is as good). */
async function holdDefaultPort(): Promise<{ release(): Promise<void> }> {
  const holder: Server = createServer();
  const held = await new Promise<boolean>((resolve) => {
    holder.once('error', () => resolve(false));
    holder.listen(DEFAULT_EMULATOR_PORT, '127.0.0.1', () => resolve(true));
  });
  return { release: () => (held ? new Promise<void>((r) => holder.close(() => r())) : Promise.resolve()) };
}

const HOOK = `start: answer
blocks:
  answer:
    kind: ReturnValue
    values: { 1: '"ok"', 2: 200 }
    exits: { next: null }
`;

const LOOKUP = `variables: { found: string }
start: find
blocks:
  find:
    kind: Bpium
    method: getRecord
    catalog: '"11"'
    record: '"1"'
    answer: found
    exits: { success: null, error: null, timeout: null }
`;

async function started(serve: BackgroundCli): Promise<string> {
  // Not a speed check: a guard so a server that never starts fails the test instead of hanging it.
  for (let i = 0; i < 600 && serve.child.exitCode === null && !/runs, their status/.test(serve.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(serve.child.exitCode, null, serve.stderr());
  return /listening on \S*?(http:\/\/\S+)/.exec(serve.stderr())![1]!;
}

async function stop(serve: BackgroundCli): Promise<void> {
  if (serve.child.exitCode === null) serve.child.kill('SIGTERM');
  await serve.exited;
}

describe('serve: the embedded Bpium emulator only for scenarios that use Bpium', () => {
  it('a folder without a Bpium block: no emulator, one line why, /Bpium/NewTask unsigned; a Bpium scenario added later is warned about', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const scenarios = join(tmp.dir, 'scenarios');
    const dataDir = join(tmp.dir, 'var');
    mkdirSync(scenarios);
    writeFileSync(join(scenarios, 'HTTP404.yaml'), HOOK);
    // Held: an emulator that started anyway would refuse the start.
    const port = await holdDefaultPort();
    const serve = startCli(['serve', '--port', '0', '--host', '127.0.0.1', '--scenarios', scenarios, '--data-dir', dataDir], { env: { OKTELL_USERS: 'ops:pw', OKTELL_LOG_FORMAT: 'json' } });
    try {
      const url = await started(serve);
      assert.match(serve.stderr(), new RegExp(`^ {2}bpium {6}embedded emulator not started: no scenario in ${escape(scenarios)} has a Bpium block \\(a restart after adding one starts it; --bpium-emulator-port starts it anyway\\)$`, 'm'));
      assert.doesNotMatch(serve.stderr(), /signed|X-Hook-Signature/, 'no path is signed');
      const said = logLines(serve).filter((l) => /Bpium emulator/.test(l.msg));
      assert.deepEqual(said.map((l) => l.msg), [`embedded Bpium emulator not started: no scenario in ${scenarios} has a Bpium block (a restart after adding one starts it; --bpium-emulator-port, BPIUM_EMULATOR_PORT or bpiumEmulatorPort starts it anyway)`]);
      const file = JSON.parse(readFileSync(join(dataDir, 'serve.json'), 'utf8')) as { bpiumEmulator?: string; signedPaths: string[] };
      assert.equal(file.bpiumEmulator, undefined);
      assert.deepEqual(file.signedPaths, []);
      assert.equal(existsSync(join(dataDir, 'bpium-webhook-secret')), false, 'no secret generated for an emulator that does not run');
      // The hook answers an unsigned webhook: no signature is demanded for an emulator that is not there.
      const hook = await fetch(`${url}/Bpium/NewTask`, { method: 'POST', headers: { authorization: basic('ops:pw'), 'content-type': 'application/json' }, body: '{}' });
      assert.deepEqual([hook.status, await hook.text()], [200, 'ok']);
      // A scenario with a Bpium block added while the server runs: a warning, and its run says to restart.
      const from = serve.stdout().length;
      writeFileSync(join(scenarios, 'Lookup.yaml'), LOOKUP);
      await serve.waitFor(/scenario Lookup has a Bpium block/, from, 30_000);
      const warned = logLines(serve).filter((l) => l.scenario === 'Lookup' && l.level === 40);
      assert.deepEqual(warned.map((l) => l.msg), ['scenario Lookup has a Bpium block, but the embedded Bpium emulator was not started (no scenario had one when the server started): its Bpium blocks fail with R_ADAPTER_MISSING until the server is restarted, which starts the emulator (or set BPIUM_URL)']);
      const run = await fetch(`${url}/execsvcscriptplain?name=Lookup`, { headers: { authorization: basic('ops:pw') } });
      await run.text();
      const shown = await runCliAsync(['show', run.headers.get('x-oktell-run-id')!, '--json', '--data-dir', dataDir]);
      const error = (JSON.parse(shown.stdout) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'R_ADAPTER_MISSING');
      assert.match(error.message, /no Bpium is configured.*; the embedded Bpium emulator was not started, as no scenario had a Bpium block when the server started: restart the server to start it$/);
    } finally {
      await stop(serve);
      await port.release();
      tmp.cleanup();
    }
  });

  it('a secret the user configures is still demanded on /Bpium/NewTask without the emulator', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const scenarios = join(tmp.dir, 'scenarios');
    mkdirSync(scenarios);
    writeFileSync(join(scenarios, 'HTTP404.yaml'), HOOK);
    const port = await holdDefaultPort();
    const serve = startCli(['serve', '--port', '0', '--host', '127.0.0.1', '--scenarios', scenarios, '--data-dir', join(tmp.dir, 'var')], { env: { OKTELL_USERS: 'ops:pw', BPIUM_WEBHOOK_SECRET: 'mine' } });
    try {
      const url = await started(serve);
      const hook = await fetch(`${url}/Bpium/NewTask`, { method: 'POST', headers: { authorization: basic('ops:pw'), 'content-type': 'application/json' }, body: '{}' });
      assert.equal(hook.status, 401);
    } finally {
      await stop(serve);
      await port.release();
      tmp.cleanup();
    }
  });

  it('the shipped scenarios (Bpium blocks) want the emulator as before: its port held refuses the start, naming it', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    const port = await holdDefaultPort();
    // A fixed server port (not 0, which lets the emulator's port be picked too, see below); free when taken.
    const serverPort = await freePort();
    try {
      const r = await runCliAsync(['serve', '--port', String(serverPort), '--host', '127.0.0.1', '--scenarios', scenarios, '--data-dir', join(tmp.dir, 'var')], { env: { OKTELL_USERS: 'ops:pw' }, timeoutMs: 60_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:4056 \(EADDRINUSE\): another program uses the port of the embedded Bpium emulator/);
      assert.equal(existsSync(join(tmp.dir, 'var')), false, 'refused before the data folder is made');
    } finally {
      await port.release();
      tmp.cleanup();
    }
  });

  // Finding (Low): `--port 0` let the OS pick the server's port, but the emulator still took 4056, so a second such
  // server (or anything else on 4056) stopped the start with EADDRINUSE. With the server's port 0 and no emulator port
  // given, the emulator's port is picked by the OS too; the banner, serve.json and the start record name it.
  it('--port 0 without an emulator port: the emulator takes an OS-picked port too, named in the banner, serve.json and the start record', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const scenarios = join(tmp.dir, 'scenarios');
    const dataDir = join(tmp.dir, 'var');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    // Held: an emulator on its default port would refuse the start.
    const port = await holdDefaultPort();
    const serve = startCli(['serve', '--port', '0', '--host', '127.0.0.1', '--scenarios', scenarios, '--data-dir', dataDir], { env: { OKTELL_USERS: 'ops:pw', OKTELL_LOG_FORMAT: 'json' } });
    try {
      await started(serve);
      const shown = /^ {2}bpium {6}embedded emulator (http:\/\/127\.0\.0\.1:(\d+)\/api\/v1) /m.exec(serve.stderr());
      assert.ok(shown, serve.stderr());
      const [, emulatorUrl, emulatorPort] = shown;
      assert.notEqual(Number(emulatorPort), DEFAULT_EMULATOR_PORT);
      const file = JSON.parse(readFileSync(join(dataDir, 'serve.json'), 'utf8')) as { bpiumEmulator?: string };
      assert.equal(file.bpiumEmulator, emulatorUrl);
      const start = logLines(serve).find((l) => l.msg.startsWith('listening on '));
      assert.equal(start?.bpiumEmulator, emulatorUrl);
      // It answers there.
      const answer = await fetch(`${emulatorUrl}/catalogs`, { headers: { authorization: basic('demo@example.com:demo') } });
      await answer.body?.cancel();
      assert.equal(answer.status, 200);
    } finally {
      await stop(serve);
      await port.release();
      tmp.cleanup();
    }
  });
});

describe('the embedded emulator\'s port follows a server port of 0 unless given', () => {
  const cases: Array<[string, Record<string, string>, string, [number, true | undefined]]> = [
    ['OKTELL_PORT=0', { OKTELL_PORT: '0' }, '', [0, undefined]],
    ['port: 0 in the file', {}, 'port: 0\n', [0, undefined]],
    ['OKTELL_PORT=0 with BPIUM_EMULATOR_PORT=4056', { OKTELL_PORT: '0', BPIUM_EMULATOR_PORT: '4056' }, '', [4056, true]],
    ['port: 0 with bpiumEmulatorPort: 4070', {}, 'port: 0\nbpiumEmulatorPort: 4070\n', [4070, true]],
    ['OKTELL_PORT=8080', { OKTELL_PORT: '8080' }, '', [4056, undefined]],
  ];
  for (const [name, env, file, expected] of cases) {
    it(name, () => {
      const tmp = tempDir();
      try {
        if (file) writeFileSync(join(tmp.dir, 'oktell.config.yaml'), file);
        const c = loadServerConfig({}, env, tmp.dir);
        assert.deepEqual([c.bpiumEmulatorPort, c.bpiumEmulatorAsked], expected);
      } finally {
        tmp.cleanup();
      }
    });
  }
});

/** A port free just now (picked by the OS and let go). */
async function freePort(): Promise<number> {
  const probe: Server = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function basic(credentials: string): string {
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

function logLines(serve: BackgroundCli): Array<{ level: number; msg: string; scenario?: string; bpiumEmulator?: string }> {
  return serve
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string; scenario?: string; bpiumEmulator?: string });
}
