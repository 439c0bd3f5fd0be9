// A template read while the process is out of open files (a burst of connections under a low `ulimit -n`): the render
// fails as a thing of the moment (the job is tried again), and the template is not remembered as broken. Before, the
// delivery thread, which reads its templates when first used, failed such letters for good (R_TEMPLATE, not retried)
// and every later render of the template failed the same way until a reload. A child process under `ulimit -n 64`
// opens files until EMFILE, renders, frees some files and renders again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TemplateRenderError } from '../../adapters/mail/templates.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock } from '../../engine/index.js';
import type { MailerPort, TemplatePort } from '../../engine/ports.js';
import { repoPath, tempDir } from '../helpers.js';

const CHILD = `
import { openSync, closeSync } from 'node:fs';
const { createTemplateRenderer } = await import(process.env.TEMPLATES_MODULE);
const t = createTemplateRenderer({ dir: process.env.TEMPLATES_DIR });
const ctx = { taskName: 'Позвонить', taskDescription: 'd', taskRecordId: 1, recordUrl: 'https://x.example/1', userName: 'Иван' };
const held = [];
try { for (;;) held.push(openSync(process.execPath, 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
const out = {};
try { t.render('bpium-new-task', ctx); out.first = 'rendered'; } catch (e) { out.first = { name: e.name, transient: e.transient === true, message: e.message }; }
for (const fd of held.splice(0, 16)) closeSync(fd);
try { out.second = t.render('bpium-new-task', ctx).subject; } catch (e) { out.second = { name: e.name, message: e.message }; }
for (const fd of held) closeSync(fd);
console.log(JSON.stringify(out));
`;

describe('a mail template read while the process is out of open files', () => {
  it('fails as transient, and renders once files are free again', () => {
    const r = spawnSync('sh', ['-c', 'ulimit -n 64 && exec "$@"', 'sh', process.execPath, '--input-type=module', '-e', CHILD], {
      encoding: 'utf8',
      env: { ...process.env, TEMPLATES_MODULE: pathToFileURL(repoPath('dist', 'adapters', 'mail', 'templates.js')).href, TEMPLATES_DIR: repoPath('scenarios', 'templates') },
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { first: { name: string; transient: boolean; message: string } | string; second: unknown };
    assert.equal(typeof out.first, 'object', `the first render could not read its file: ${JSON.stringify(out.first)}`);
    const first = out.first as { name: string; transient: boolean; message: string };
    assert.equal(first.name, 'TemplateRenderError');
    assert.match(first.message, /EMFILE/);
    assert.equal(first.transient, true, 'out of open files is a thing of the moment');
    assert.equal(out.second, 'Новая задача: Позвонить', 'read again once files are free, not remembered as broken');
  });

  it('makes SendMail fail retryable (the job is tried again), not for good; a broken template still fails for good', async () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Notify.yaml'), `blocks:\n  m: { kind: SendMail, to: '"ivan@example.com"', template: bpium-new-task }\n`);
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
      assert.deepEqual(lib.issues, []);
      // A fake renderer that fails as the real one did in the test above (out of open files), or as for a broken file.
      const run = (transient: boolean) =>
        runScenario(lib, 'Notify', {
          ports: {
            clock: systemClock,
            ids: randomIds,
            asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))),
            templates: {
              render: (name: string) => {
                throw new TemplateRenderError(transient ? 'cannot read the template: EMFILE: too many open files' : 'template syntax error: unexpected end', { template: name, ...(transient ? { transient } : {}) });
              },
            } as unknown as TemplatePort,
            mailer: { send: () => assert.fail('no letter is sent without its template') } as unknown as MailerPort,
          },
        });
      const outOfFiles = await run(true);
      assert.equal(outOfFiles.status, 'failed');
      assert.equal(outOfFiles.error?.code, 'R_TEMPLATE');
      assert.equal(outOfFiles.error?.retryable, true);
      const broken = await run(false);
      assert.equal(broken.error?.code, 'R_TEMPLATE');
      assert.equal(broken.error?.retryable, false);
    } finally {
      tmp.cleanup();
    }
  });
});
