// A save of one scenario file reloads the whole folder. The problems of the files not saved were logged before, so the
// reload counts them on one line instead of logging each again: in a folder of 400 scenarios with 16 broken files,
// every save anywhere logged the same 16 errors (trial 48). The file saved gets its problems again, and a scenario
// kept on its last good version is said so once, not at every later save of another file.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createScenarioHost } from '../../server/scenario-host.js';
import { tempDir } from '../helpers.js';
import { capturingLogger, type CapturedLine } from './server-helpers.js';

const good = (answer: string) => `blocks:\n  answer:\n    kind: ReturnValue\n    values: { 1: '"${answer}"' }\n`;
const unknownKind = (note: string) => `# ${note}\nblocks:\n  answer:\n    kind: SendSms\n`;

async function until(lines: CapturedLine[], from: number, what: (l: CapturedLine) => boolean): Promise<CapturedLine[]> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const since = lines.slice(from);
    if (since.some(what)) {
      await new Promise((r) => setTimeout(r, 300)); // the rest of that reload's lines
      return lines.slice(from);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not logged; lines since: ${JSON.stringify(lines.slice(from).map((l) => l.msg))}`);
}

test('a reload logs again only the problems of the files saved, and counts the others', { timeout: 90_000 }, async () => {
  const tmp = tempDir();
  const { lines, logger } = capturingLogger();
  const folder = join(tmp.dir, 'scenarios');
  mkdirSync(folder);
  writeFileSync(join(folder, 'Good.yaml'), good('v1'));
  writeFileSync(join(folder, 'Kept.yaml'), good('kept'));
  writeFileSync(join(folder, 'Broken.yaml'), unknownKind('first'));
  const host = await createScenarioHost(folder, { timeZone: 'UTC', logger });
  try {
    const errors = (ls: CapturedLine[]) => ls.filter((l) => l.level === 'error').map((l) => l.msg!.split('\n')[0]);
    const warnings = (ls: CapturedLine[]) => ls.filter((l) => l.level === 'warn').map((l) => l.msg);
    assert.deepEqual(errors(lines), ['Broken.yaml:4:11 E_UNKNOWN_KIND unknown block kind "SendSms" [block answer]']);

    // Kept breaks: its problem and its kept version are logged, Broken's problem is counted.
    let from = lines.length;
    writeFileSync(join(folder, 'Kept.yaml'), unknownKind('broken while serving'));
    let since = await until(lines, from, (l) => /scenario Kept is invalid after an edit/.test(l.msg ?? ''));
    assert.deepEqual(errors(since).sort(), ['Kept.yaml:4:11 E_UNKNOWN_KIND unknown block kind "SendSms" [block answer]', `scenario Kept is invalid after an edit; still running version ${host.library().scenarios.get('Kept')!.version}`].sort());
    assert.deepEqual(warnings(since), ['1 problem(s) in 1 file(s) not saved since are still there, as logged before (npx oktell-emu validate lists them)']);

    // An edit of Good: no error is logged again, both broken files are counted.
    from = lines.length;
    writeFileSync(join(folder, 'Good.yaml'), good('v2'));
    since = await until(lines, from, (l) => l.msg === 'scenarios reloaded');
    assert.deepEqual(errors(since), []);
    assert.deepEqual(warnings(since), ['2 problem(s) in 2 file(s) not saved since are still there, as logged before (npx oktell-emu validate lists them)']);

    // Broken saved again, still broken: its problem is logged again, Kept's is counted.
    from = lines.length;
    writeFileSync(join(folder, 'Broken.yaml'), unknownKind('second try'));
    since = await until(lines, from, (l) => l.level === 'error');
    assert.deepEqual(errors(since), ['Broken.yaml:4:11 E_UNKNOWN_KIND unknown block kind "SendSms" [block answer]']);
    assert.deepEqual(warnings(since), ['1 problem(s) in 1 file(s) not saved since are still there, as logged before (npx oktell-emu validate lists them)']);
  } finally {
    host.close();
    tmp.cleanup();
  }
});
