// Webhook bodies, test files and fixture files as Windows editors save them, through the real CLI: a body saved in
// windows-1251 or as UTF-16 (run -p N=@file, -p N=@-, a test file's @file, webhook send), a test or fixture file
// ending in Ctrl-Z (the DOS end-of-file mark), and graph drawing a scenario that does not load because it is not UTF-8.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { tempDir } from '../helpers.js';
import { runCli, runCliAsync } from './cli.helper.js';

/** `text` as the bytes of windows-1251 (Cyrillic letters only, enough for these files). */
const cp1251 = (text: string) => Buffer.from([...text].map((c) => (c >= 'А' && c <= 'я' ? c.charCodeAt(0) - 0x410 + 0xc0 : c.charCodeAt(0))));

const UNSET = ['OKTELL_SCENARIOS', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR'];
const run = (dir: string, args: string[], input?: string | Buffer) => runCli(args, { cwd: dir, unset: UNSET, ...(input !== undefined ? { input: input as string } : {}) });

/** Answers the hook scenario's return value 1 with parameter 4, the body. */
const ECHO = ['variables:', '  body: string', 'start: a', 'blocks:', `  a: { kind: Variable, set: { body: 'InputParameter(4)' }, exits: { next: r } }`, `  r: { kind: ReturnValue, values: { 1: '[body]', 2: '200' } }`, ''].join('\r\n');
const BODY = '{\r\n  "name": "Заявка"\r\n}\r\n';

describe('a webhook body saved in windows-1251 or as UTF-16', () => {
  const tmp = tempDir();
  const s = join(tmp.dir, 'scenarios');
  before(() => {
    mkdirSync(join(s, 'tests', 'webhooks'), { recursive: true });
    writeFileSync(join(s, 'HTTP404.yaml'), ECHO);
    writeFileSync(join(tmp.dir, 'ansi.json'), cp1251(BODY));
    writeFileSync(join(tmp.dir, 'unicode.json'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(BODY, 'utf16le')]));
    writeFileSync(join(tmp.dir, 'utf8.json'), `\uFEFF${BODY}`);
    writeFileSync(join(s, 'tests', 'webhooks', 'ansi.json'), cp1251(BODY));
  });
  after(() => tmp.cleanup());

  it('run -p 4=@file refuses it at its first byte that is not UTF-8, naming the code page; saved as UTF-8 it runs', () => {
    const a = run(tmp.dir, ['run', 'HTTP404', '-p', '4=@ansi.json', '--dry-run']);
    assert.equal(a.code, 2, a.stdout + a.stderr);
    assert.match(a.stderr, /-p 4=@ansi\.json: ansi\.json:2:12: the file is not UTF-8: the byte 0xC7 at line 2, column 12 is not UTF-8 text; it looks saved as windows-1251/);
    assert.match(a.stderr, /save it as UTF-8 in your editor/);
    assert.doesNotMatch(a.stdout, /\uFFFD/);
    const u = run(tmp.dir, ['run', 'HTTP404', '-p', '4=@unicode.json', '--dry-run']);
    assert.equal(u.code, 2, u.stdout + u.stderr);
    assert.match(u.stderr, /-p 4=@unicode\.json: unicode\.json:1:1: the file is saved as UTF-16 LE/);
    const ok = run(tmp.dir, ['run', 'HTTP404', '-p', '4=@utf8.json', '--dry-run', '--json']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { returnValues: Record<string, unknown> }).returnValues[1], BODY);
  });

  it('run -p 4=@- refuses it from standard input alike', () => {
    const r = runCli(['run', 'HTTP404', '-p', '4=@-', '--dry-run'], { cwd: tmp.dir, unset: UNSET, input: cp1251(BODY) as unknown as string });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /-p 4=@-: standard input:2:12: the file is not UTF-8: .*windows-1251.*iconv -f windows-1251 -t utf-8/);
  });

  it("a test file's @file parameter is a problem at the parameter, and its case does not run", () => {
    writeFileSync(join(s, 'tests', 'echo.test.yaml'), ['cases:', '  - name: echoes the body', '    scenario: HTTP404', '    params: { 4: "@webhooks/ansi.json" }', '    expect: { returnValues: { 2: 200 } }', ''].join('\r\n'));
    const t = run(tmp.dir, ['test']);
    assert.notEqual(t.code, 0, t.stdout + t.stderr);
    assert.match(t.stdout + t.stderr, /echo\.test\.yaml:4:18 E_YAML_SYNTAX parameter 4: webhooks\/ansi\.json:2:12: the file is not UTF-8: the byte 0xC7 at line 2, column 12 is not UTF-8 text; it looks saved as windows-1251/);
    assert.doesNotMatch(t.stdout, /1 passed/);
  });
});

describe('webhook send', () => {
  const tmp = tempDir();
  let server: Server;
  let url: string;
  const received: Array<{ body: Buffer; signature: string | undefined }> = [];
  before(async () => {
    server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        received.push({ body: Buffer.concat(parts), signature: req.headers['x-hook-signature'] as string | undefined });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(join(tmp.dir, 'ansi.json'), cp1251(BODY));
    writeFileSync(join(tmp.dir, 'utf8.json'), `\uFEFF${BODY}`);
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    tmp.cleanup();
  });
  const send = (file: string) =>
    runCliAsync(['webhook', 'send', '/Bpium/NewTask', file, '--url', url, '--user', 'bpium:pass', '--data-dir', join(tmp.dir, 'var')], { cwd: tmp.dir, unset: UNSET, env: { BPIUM_WEBHOOK_SECRET: 'secret-1', BPIUM_URL: 'http://127.0.0.1:9/' } });

  it('refuses a body saved in windows-1251 before sending it, naming the code page', async () => {
    const r = await send('ansi.json');
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /the body ansi\.json:2:12: the file is not UTF-8: the byte 0xC7 at line 2, column 12 is not UTF-8 text; it looks saved as windows-1251/);
    assert.equal(received.length, 0, 'nothing was sent');
  });

  it('sends a body saved with a byte-order mark without it, signed as sent, as Bpium sends one', async () => {
    const r = await send('utf8.json');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(received.length, 1);
    assert.equal(received[0]!.body.toString('utf8'), BODY);
    assert.equal(received[0]!.signature, signBpiumBody('secret-1', received[0]!.body));
  });
});

describe('test and fixture files ending in Ctrl-Z', () => {
  const tmp = tempDir();
  const s = join(tmp.dir, 'scenarios');
  before(() => {
    mkdirSync(join(s, 'tests'), { recursive: true });
    writeFileSync(join(s, 'HTTP404.yaml'), ECHO);
  });
  after(() => tmp.cleanup());

  it('a test file: the character is named as the end-of-file mark it is, at its place', () => {
    writeFileSync(join(s, 'tests', 'hook.test.yaml'), `${['cases:', '  - name: answers 200', '    scenario: HTTP404', '    expect: { returnValues: { 2: 200 } }', ''].join('\r\n')}\x1A`);
    const t = run(tmp.dir, ['test']);
    assert.equal(t.code, 2, t.stdout + t.stderr);
    assert.match(t.stdout + t.stderr, /hook\.test\.yaml:5:1 E_YAML_SYNTAX the file holds the control character U\+001A \(Ctrl-Z, the end-of-file mark of DOS tools\), which editors do not show/);
    assert.match(t.stdout + t.stderr, /hint: remove it: a test file is text/);
  });

  it('a fixture file, of a test file and of run --http-fixtures alike', () => {
    writeFileSync(join(s, 'tests', 'fx.yaml'), `${['- match: GET https://crm.example.ru/*', '  status: 200', ''].join('\r\n')}\x1A`);
    writeFileSync(join(s, 'tests', 'hook.test.yaml'), ['cases:', '  - name: answers 200', '    scenario: HTTP404', '    http: fx.yaml', '    expect: { returnValues: { 2: 200 } }', ''].join('\r\n'));
    const t = run(tmp.dir, ['test']);
    assert.notEqual(t.code, 0, t.stdout + t.stderr);
    assert.match(t.stdout + t.stderr, /fx\.yaml:3:1 E_YAML_SYNTAX the file holds the control character U\+001A \(Ctrl-Z, the end-of-file mark of DOS tools\)/);
    const r = run(tmp.dir, ['run', 'HTTP404', '--dry-run', '--http-fixtures', join('scenarios', 'tests', 'fx.yaml')]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /fx\.yaml:3:1 E_YAML_SYNTAX the file holds the control character U\+001A \(Ctrl-Z/);
  });
});

describe('graph of a scenario saved in windows-1251', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('draws no blocks made of U+FFFD: the loader\'s problem, with the code page, is what it says', () => {
    mkdirSync(join(tmp.dir, 'scenarios'));
    writeFileSync(join(tmp.dir, 'scenarios', 'Ansi.yaml'), cp1251(['blocks:', '  a: { kind: Stop, title: "Готово" }', ''].join('\r\n')));
    const g = run(tmp.dir, ['graph', 'Ansi']);
    assert.equal(g.code, 1, g.stdout + g.stderr);
    assert.doesNotMatch(g.stdout, /\uFFFD/);
    assert.doesNotMatch(g.stdout, /Stop/);
    assert.match(g.stderr, /Ansi\.yaml:2:28 E_YAML_SYNTAX the file is not UTF-8: .* it looks saved as windows-1251/);
  });
});
