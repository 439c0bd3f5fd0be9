// A client still sending a body the server refuses must get the answer, not a broken connection. fetch keeps sending
// the body while the answer comes; a server that closed its socket at once, with body bytes still arriving, made the
// system answer them with a reset, and fetch failed with EPIPE instead of giving the 413: a sender never learnt that
// its webhook was too large. Against `oktell-emu serve` in a process of its own (in one process with the client the
// timing hid it).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { startServeProcess, type ServeProcess } from '../cli/cli-process.js';

describe('a body the server refuses while the client still sends it', () => {
  const tmp = tempDir('oktell-refused-body-');
  let server: ServeProcess;
  let auth: string;
  before(async () => {
    const dataDir = join(tmp.dir, 'var');
    server = await startServeProcess({ dataDir, env: { OKTELL_BODY_LIMIT: '1mb', SMTP_URL: '' } });
    const user = JSON.parse(readFileSync(join(dataDir, 'server-user.json'), 'utf8')) as { login: string; password: string };
    auth = `Basic ${Buffer.from(`${user.login}:${user.password}`).toString('base64')}`;
  });
  after(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it('gets its answer: 413 on the hook and the Web-API, 415 and 405 on the Web-API', { timeout: 120_000 }, async () => {
    const body = Buffer.alloc(16 * 1024 * 1024, 0x61);
    const cases: Array<[string, string, string, string, number]> = [
      ['hook', '/Bpium/NewTask', 'POST', 'application/json', 413],
      ['Web-API form', '/execsvcscript?name=BpiumNewTask&async=1', 'POST', 'application/x-www-form-urlencoded', 413],
      ['Web-API JSON', '/execsvcscript?name=BpiumNewTask&async=1', 'POST', 'application/json', 415],
      ['Web-API PUT', '/execsvcscript?name=BpiumNewTask&async=1', 'PUT', 'application/x-www-form-urlencoded', 405],
    ];
    const got: string[] = [];
    for (const [what, path, method, type, want] of cases) {
      for (let i = 0; i < 5; i++) {
        let status: string;
        try {
          const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: auth, 'content-type': type }, body });
          await res.text();
          status = String(res.status);
        } catch (e) {
          status = String((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message);
        }
        got.push(`${what}: ${status}${status === String(want) ? '' : ` (want ${want})`}`);
      }
    }
    assert.deepEqual(got.filter((g) => g.includes('want')), [], got.join('\n'));
  });
});
