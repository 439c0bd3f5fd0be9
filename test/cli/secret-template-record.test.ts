// A letter rendered from a template that changes a secret (a filter, the html part's escaping), sent by a live
// `oktell-emu run`: the letter (the outbox .eml) carries what the template made of the secret, while the run's stored
// record (`show --json`, and the bytes of every file of the data folder but the outbox) has no copy of it.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const SCENARIO = `variables:
  tok: { type: string, env: SEC_MAIL_TOKEN }
start: mail
blocks:
  mail:
    kind: SendMail
    to: '"ops@example.ru"'
    subject: '"Settings"'
    template: settings
    exits: { success: done, error: done }
  done: { kind: ReturnValue, values: { 1: '"ok"' } }
`;

/** The files under `dir` (but `skip`) whose bytes contain `text`. */
function filesHolding(dir: string, text: string, skip: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (path === skip) continue;
    if (statSync(path).isDirectory()) found.push(...filesHolding(path, text, skip));
    else if (readFileSync(path).includes(text)) found.push(path);
  }
  return found;
}

const CASES: Array<{ name: string; part: 'text' | 'html'; template: string; secret: string; sent: string; stored: string }> = [
  { name: 'upper-cased by a filter', part: 'text', template: 'Key: {{ tok | upper }}', secret: 'zebra-mail-77aa', sent: 'Key: ZEBRA-MAIL-77AA', stored: '***' },
  { name: 'URL-encoded by a filter', part: 'text', template: 'https://x.example/?k={{ tok | urlencode }}', secret: 'zebra mail/77aa', sent: 'https://x.example/?k=zebra%20mail%2F77aa', stored: '***' },
  { name: 'escaped by the html part', part: 'html', template: '<p>{{ tok }}</p>', secret: 'zebra&mail<77aa>', sent: '<p>zebra&amp;mail&lt;77aa&gt;</p>', stored: '***' },
  { name: 'printed as it is', part: 'text', template: 'Key: {{ tok }}.', secret: 'zebra-mail-77aa', sent: 'Key: zebra-mail-77aa.', stored: 'Key: ***.' },
];

describe('a secret changed by a mail template, in the stored run record', () => {
  for (const c of CASES) {
    it(`${c.name}: sent as rendered, stored as ${JSON.stringify(c.stored)}`, async () => {
      const tmp = tempDir();
      try {
        const scenarios = join(tmp.dir, 'scenarios');
        mkdirSync(join(scenarios, 'templates'), { recursive: true });
        writeFileSync(join(scenarios, 'Mail.yaml'), SCENARIO);
        writeFileSync(join(scenarios, 'templates', `settings.${c.part}.njk`), c.template);
        const data = join(tmp.dir, 'data');
        const run = runCli(['run', 'Mail', '-s', scenarios, '--data-dir', data, '--json'], { env: { SEC_MAIL_TOKEN: c.secret }, unset: ['OKTELL_SCENARIOS', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR', 'OKTELL_STORE'], timeoutMs: 60_000 });
        assert.equal(run.code, 0, run.stdout + run.stderr);
        const { runId } = JSON.parse(run.stdout) as { runId: string };

        // The letter as sent.
        const outbox = join(data, 'outbox');
        const [eml] = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
        const letter = await simpleParser(readFileSync(join(outbox, eml!)));
        assert.equal((c.part === 'html' ? String(letter.html) : letter.text ?? '').trimEnd(), c.sent);

        // The stored record, as `show --json` reads it back from the store.
        const show = runCli(['show', runId, '--json', '--data-dir', data], { unset: ['OKTELL_CONFIG', 'OKTELL_DATA_DIR', 'OKTELL_STORE'], timeoutMs: 60_000 });
        assert.equal(show.code, 0, show.stderr);
        const stored = JSON.parse(show.stdout) as { mails: Array<Record<string, unknown>> };
        assert.equal(stored.mails[0]![c.part], c.stored);
        for (const form of [c.secret, c.sent]) {
          assert.ok(!show.stdout.includes(form), `${form} in ${show.stdout}`);
          assert.deepEqual(filesHolding(data, form, outbox), []);
        }
      } finally {
        tmp.cleanup();
      }
    });
  }
});
