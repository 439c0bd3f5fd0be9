// Two scenarios whose names differ only in letter case (C007_Notify.yaml and C007_notify.yaml, trial 48) both load on
// Linux, but a copy of the folder on Windows or macOS keeps one of the two files, and a name typed in the wrong case
// starts the other scenario. validate (and serve's start) warn once per group; the files stay valid (exit 0).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const answering = (text: string) => `blocks:\n  r: { kind: ReturnValue, values: { 1: '"${text}"' } }\n`;

describe('validate: scenario names that differ only in letter case', () => {
  it('warns once per group, naming every file, and not for names that differ otherwise', () => {
    const tmp = tempDir();
    try {
      const files: Record<string, string> = {
        'Notify.yaml': answering('a'),
        'notify.yaml': answering('b'),
        'NOTIFY.yml': answering('c'),
        'Уведомить.yaml': answering('d'),
        'уведомить.yaml': answering('e'),
        'Notify2.yaml': answering('f'),
      };
      for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp.dir, name), text);
      const r = runCli(['validate', '--scenarios', tmp.dir], { cwd: tmp.dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const warnings = r.stdout.split('\n').filter((l) => l.startsWith('warning:'));
      assert.deepEqual(warnings, [
        'warning: NOTIFY.yml:1:1: scenarios NOTIFY, Notify and notify differ only in letter case (NOTIFY.yml, Notify.yaml, notify.yaml): a copy of the folder on Windows or macOS keeps one file of them, and a name typed in the wrong case starts another of them rather than being refused; rename all but one of them',
        'warning: Уведомить.yaml:1:1: scenarios Уведомить and уведомить differ only in letter case (Уведомить.yaml, уведомить.yaml): a copy of the folder on Windows or macOS keeps one file of them, and a name typed in the wrong case starts another of them rather than being refused; rename one of them',
      ]);
    } finally {
      tmp.cleanup();
    }
  });

  it('also names written with the same letters composed two ways (é as one character, or e and an accent)', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Caf\u00e9.yaml'), answering('a'));
      writeFileSync(join(tmp.dir, 'cafe\u0301.yaml'), answering('b'));
      const r = runCli(['validate', '--scenarios', tmp.dir], { cwd: tmp.dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const warnings = r.stdout.split('\n').filter((l) => l.startsWith('warning:'));
      assert.equal(warnings.length, 1, r.stdout);
      assert.ok(warnings[0]!.startsWith('warning: Caf\u00e9.yaml:1:1: scenarios Caf\u00e9 and cafe\u0301 differ only in letter case or in how an accented letter is encoded ('), warnings[0]);
    } finally {
      tmp.cleanup();
    }
  });
});
