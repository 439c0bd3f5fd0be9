// The PostgreSQL driver of the scenarios' databases is loaded before the first run needs it (server/run-libraries.ts):
// a first load under EMFILE would fail every run of a database block until a restart, as it did for jsonpath-plus in
// trial 46. A real `serve` with a PostgreSQL connection configured (never connected at the start, so no database is
// needed) and the SQLite store, started with a module hook (node --import) that writes a line each time `pg` is
// resolved: no run takes place, so a line means the start loaded it, on the main thread and in the delivery thread.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { keepOutput, serveUrl, waitFor } from '../server/server-helpers.js';

/** Registers a resolve hook that appends a line to $PG_LOAD_LOG for each import of 'pg' (threads run it too). */
const HOOK = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier === 'pg') appendFileSync(process.env.PG_LOAD_LOG, 'pg\\\\n');
  return next(specifier, context);
}\`));
`;

describe('the PostgreSQL driver of scenario databases, loaded at the start', () => {
  for (const [thread, loads] of [['off', 1], ['on', 2]] as const) it(`serve loads it before any run (delivery thread ${thread}: ${loads === 1 ? 'the main thread' : 'the main thread and the delivery thread'})`, { timeout: 60_000 }, async () => {
    const tmp = tempDir('oktell-pg-preload-');
    const hook = join(tmp.dir, 'hook.mjs');
    writeFileSync(hook, HOOK);
    const log = join(tmp.dir, 'pg-loads.txt');
    const dataDir = join(tmp.dir, 'var');
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    const proc = spawn(process.execPath, ['--import', hook, repoPath('bin', 'oktell-emu.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--scenarios', scenarios, '--bpium-emulator-port', '0'], {
      env: { ...process.env, PG_LOAD_LOG: log, OKTELL_DB_CRM: 'postgres://nobody:secret@127.0.0.1:1/none', OKTELL_USERS: 'bpium:s3cret-password', OKTELL_LOG_LEVEL: 'warn', BPIUM_URL: '', SMTP_URL: '', NO_COLOR: '1', OKTELL_DELIVERY_THREAD: thread, OKTELL_STORE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = keepOutput(proc, 20_000);
    try {
      await serveUrl(proc, dataDir, output);
      const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0);
      await waitFor(`pg loaded ${loads} time(s)`, () => lines() === loads, 20_000).catch((e: Error) => {
        throw new Error(`${e.message}: ${lines()} load(s)\n${output()}`);
      });
    } finally {
      proc.kill('SIGKILL');
      tmp.cleanup();
    }
  });
});
