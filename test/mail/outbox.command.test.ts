// `oktell-emu outbox`: run in-process for the listing rules, and once as a real process for the JSON contract.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, stripVTControlCharacters } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createOutboxMailer } from '../../adapters/mail/outbox.adapter.js';
import { outboxCommand } from '../../cli/commands/outbox.command.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

async function runInProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  let out = '';
  const cmd = outboxCommand({ env, write: (t) => void (out += t) }).exitOverride();
  await cmd.parseAsync(args, { from: 'user' });
  // Colours follow the test's own environment (picocolors turns them on under CI=true, as CI logs show them): the
  // table is checked as text.
  return stripVTControlCharacters(out);
}

describe('outbox command', { timeout: 20_000 }, () => {
  let dataDir: string;
  let emptyDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'oktell-data-'));
    emptyDir = await mkdtemp(join(tmpdir(), 'oktell-empty-'));
    let t = Date.parse('2025-05-01T08:00:00Z');
    const mailer = createOutboxMailer({ dir: join(dataDir, 'outbox'), from: 'robot@example.com', clock: { now: () => new Date((t += 60_000)) } });
    await mailer.send({ to: ['Иван <ivan@example.com>'], cc: [], bcc: [], subject: 'Новая задача: Позвонить клиенту', text: 'x' });
    await mailer.send({ to: ['petr@example.org'], cc: ['boss@example.com'], bcc: [], subject: 'Новая задача: Отправить счёт', text: 'y' });
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(emptyDir, { recursive: true, force: true });
  });

  it('prints a table under a header, oldest first, with time, recipients, subject and file, and a count', async () => {
    const out = await runInProcess(['--data-dir', dataDir]);
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    // A header names the columns, each above its values (as `runs` has one).
    assert.match(lines[0]!, /^time\s+to\s+subject\s+file$/);
    for (const [name, value] of [['to', 'ivan@example.com'], ['subject', 'Новая задача'], ['file', '20250501-']] as const) {
      assert.equal(lines[0]!.indexOf(` ${name}`) + 1, lines[1]!.indexOf(value), `the ${name} column`);
    }
    // In the server's zone (Moscow by default, UTC+3), as runs and show print times.
    assert.match(lines[1]!, /^2025-05-01T11:01:00\+03:00\s+ivan@example\.com\s+Новая задача: Позвонить клиенту\s+20250501-080100-000-\d{6}-[0-9a-f]{8}\.eml$/);
    assert.match(lines[2]!, /petr@example\.org, cc:boss@example\.com\s+Новая задача: Отправить счёт/);
    assert.match(lines[3]!, /^2 letters in .*outbox/);
    const utc = await runInProcess(['--data-dir', dataDir], { OKTELL_TZ: 'UTC' });
    assert.match(utc.split('\n')[1]!, /^2025-05-01T08:01:00Z\s+ivan/, 'OKTELL_TZ picks the zone');
  });

  it('prints exactly one JSON array with one object per letter for --json', async () => {
    const parsed = JSON.parse(await runInProcess(['--json', '--data-dir', dataDir])) as Array<Record<string, unknown>>;
    assert.equal(parsed.length, 2);
    assert.deepEqual(Object.keys(parsed[0]!).sort(), ['cc', 'file', 'messageId', 'subject', 'time', 'to']);
    assert.deepEqual(parsed.map((p) => p.subject), ['Новая задача: Позвонить клиенту', 'Новая задача: Отправить счёт']);
    assert.deepEqual(parsed[1]!.cc, ['boss@example.com']);
  });

  it('keeps the newest letters with --limit', async () => {
    const parsed = JSON.parse(await runInProcess(['--json', '--limit', '1', '--data-dir', dataDir])) as Array<{ subject: string }>;
    assert.deepEqual(parsed.map((p) => p.subject), ['Новая задача: Отправить счёт']);
  });

  it('reads the data dir from OKTELL_DATA_DIR when no flag is given', async () => {
    const parsed = JSON.parse(await runInProcess(['--json'], { OKTELL_DATA_DIR: dataDir })) as unknown[];
    assert.equal(parsed.length, 2);
  });

  it('says the outbox is empty in words, and prints [] with --json', async () => {
    assert.match(await runInProcess(['--data-dir', emptyDir]), /is empty: no letters stored yet\. It keeps letters only while no SMTP server is configured \(SMTP_URL unset\); with SMTP_URL set they go to that server, and the letters of each run are in `npx oktell-emu show <run>`/);
    assert.equal((await runInProcess(['--json', '--data-dir', emptyDir])).trim(), '[]');
  });

  it('writes only the JSON array to stdout when run as oktell-emu outbox --json', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'bin', 'oktell-emu.js'), 'outbox', '--json', '--data-dir', dataDir], {
      cwd: root,
      timeout: 15_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const parsed = JSON.parse(stdout) as Array<{ to: string[] }>;
    assert.ok(Array.isArray(parsed));
    assert.deepEqual(parsed.map((p) => p.to), [['ivan@example.com'], ['petr@example.org']]);
  });
});
