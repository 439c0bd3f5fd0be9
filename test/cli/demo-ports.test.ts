// `npm run demo` finds a server started on other ports than the defaults: `serve` writes its addresses to the data
// folder, and `demo` reads them there (flags and the environment still win).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli as runCliWith } from './cli.helper.js';
import { runCli, startServeProcess } from './cli-process.js';

describe('serve writes its addresses, demo reads them', () => {
  it('a server on free ports: demo with only the data folder creates a task whose webhook reaches it', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const server = await startServeProcess({ dataDir: data, env: { OKTELL_LOG_LEVEL: 'warn' } });
    try {
      const file = JSON.parse(readFileSync(join(data, 'serve.json'), 'utf8')) as { url: string; bpiumEmulator: string; signedPaths: string[] };
      assert.equal(file.url, server.url);
      assert.match(file.bpiumEmulator, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      assert.doesNotMatch(file.bpiumEmulator, /:4056\//);
      assert.deepEqual(file.signedPaths, ['/Bpium/NewTask']);
      assert.doesNotMatch(JSON.stringify(file), /password|secret/i);

      const r = runCli(['demo', '--title', 'Порты не по умолчанию'], { OKTELL_DATA_DIR: data });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Created task \d+/);
      assert.match(r.stdout, new RegExp(`webhook: record\\.created #\\d+ → ${server.url.replace(/\./g, '\\.')}/Bpium/NewTask: HTTP 200`));
      const letter = (out: string) => /^The letter to \S+: (.*)$/m.exec(out)?.[1];
      assert.equal(letter(r.stdout), `npx oktell-emu outbox --data-dir ${data} (or your SMTP server when SMTP_URL is set)`);

      // --url alone, from a folder whose ./var is not the server's: demo cannot know the outbox, and says so.
      const elsewhere = tempDir();
      try {
        const byUrl = runCliWith(['demo', '--url', file.bpiumEmulator], { cwd: elsewhere.dir, unset: ['OKTELL_DATA_DIR'] });
        assert.equal(byUrl.code, 0, byUrl.stderr);
        assert.equal(letter(byUrl.stdout), "in the outbox of the server's data folder: npx oktell-emu outbox --data-dir <the server's data folder> (or your SMTP server when SMTP_URL is set)");
      } finally {
        elsewhere.cleanup();
      }
      // From the folder whose ./var the server runs on, the same --url is recognised: the plain command is right.
      const here = runCliWith(['demo', '--url', file.bpiumEmulator], { cwd: tmp.dir, unset: ['OKTELL_DATA_DIR'] });
      assert.equal(here.code, 0, here.stderr);
      assert.equal(letter(here.stdout), 'npx oktell-emu outbox (or your SMTP server when SMTP_URL is set)');
    } finally {
      assert.equal(await server.stop(), 0);
      assert.equal(existsSync(join(data, 'serve.json')), false, 'a stopped server leaves no addresses behind');
      tmp.cleanup();
    }
  });

  it('the data folder named by dataDir: of the configuration file (./oktell.config.yaml, OKTELL_CONFIG, --config) is where demo finds the server', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'elsewhere');
    const server = await startServeProcess({ dataDir: data, env: { OKTELL_LOG_LEVEL: 'warn' } });
    const unset = ['OKTELL_DATA_DIR', 'OKTELL_CONFIG'];
    try {
      const cwd = join(tmp.dir, 'project');
      const config = join(tmp.dir, 'other.yaml');
      mkdirSync(cwd);
      writeFileSync(join(cwd, 'oktell.config.yaml'), `dataDir: ${JSON.stringify(data)}\n`);
      writeFileSync(config, `dataDir: ${JSON.stringify(data)}\n`);
      const hook = new RegExp(`webhook: record\\.created #\\d+ → ${server.url.replace(/\./g, '\\.')}/Bpium/NewTask: HTTP 200`);
      const letter = `The letter to ${'\\S+'}: npx oktell-emu outbox --data-dir ${data} `;
      for (const [how, args, env] of [
        ['./oktell.config.yaml', [], {}],
        ['OKTELL_CONFIG', [], { OKTELL_CONFIG: config }],
        ['--config', ['--config', config], {}],
      ] as const) {
        const r = runCliWith(['demo', ...args], { cwd, env: { ...env }, unset: unset.filter((u) => !(u in env)) });
        assert.equal(r.code, 0, `${how}: ${r.stderr}`);
        assert.match(r.stdout, hook, how);
        assert.match(r.stdout, new RegExp(letter), how);
      }

      // A configuration naming a folder no server runs on: demo says which folder, from where, and the port it tried.
      const empty = join(tmp.dir, 'empty.yaml');
      writeFileSync(empty, `dataDir: ${JSON.stringify(join(tmp.dir, 'nothing'))}\nbpiumEmulatorPort: 9\n`);
      const r = runCliWith(['demo', '--config', empty], { cwd, unset });
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr.trim(),
        `oktell-emu: nothing answers at http://127.0.0.1:9/api/v1: no server is running on the data folder ${join(tmp.dir, 'nothing')} (dataDir: of ${empty}), so demo tried the emulator port 9 (bpiumEmulatorPort of ${empty}, or the default). To reach a server running on another data folder, name that folder with --data-dir, or give its address with --url or BPIUM_URL.`,
      );
    } finally {
      assert.equal(await server.stop(), 0);
      tmp.cleanup();
    }
  });

  it('--url wins over the addresses file; with nothing there demo names both ways to point it', { timeout: 30_000 }, () => {
    const tmp = tempDir();
    try {
      const r = runCli(['demo', '--url', 'http://127.0.0.1:9', '--data-dir', tmp.dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /nothing answers at http:\/\/127\.0\.0\.1:9\/api\/v1/);
      assert.match(r.stderr, /--url or BPIUM_URL/);
    } finally {
      tmp.cleanup();
    }
  });
});
