// Two scenarios whose names differ only in letter case (C007_Notify.yaml and C007_notify.yaml, trial 48) both load on
// Linux, but a copy of the folder on Windows or macOS keeps one of the two files, and a name typed in the wrong case
// starts the other scenario. validate (and serve's start) warn once per group; the files stay valid (exit 0).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateFolder } from './cli.helper.js';

const answering = (text: string) => `blocks:\n  r: { kind: ReturnValue, values: { 1: '"${text}"' } }\n`;

describe('validate: scenario names that differ only in letter case', () => {
  it('warns once per group, naming every file, and not for names that differ otherwise', () => {
    const r = validateFolder({
      'Notify.yaml': answering('a'),
      'notify.yaml': answering('b'),
      'NOTIFY.yml': answering('c'),
      'Уведомить.yaml': answering('d'),
      'уведомить.yaml': answering('e'),
      'Notify2.yaml': answering('f'),
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.warnings, [
      'warning: NOTIFY.yml:1:1: scenarios NOTIFY, Notify and notify differ only in letter case (NOTIFY.yml, Notify.yaml, notify.yaml): a copy of the folder on Windows or macOS keeps one file of them, and a name typed in the wrong case starts another of them rather than being refused; rename all but one of them',
      'warning: Уведомить.yaml:1:1: scenarios Уведомить and уведомить differ only in letter case (Уведомить.yaml, уведомить.yaml): a copy of the folder on Windows or macOS keeps one file of them, and a name typed in the wrong case starts another of them rather than being refused; rename one of them',
    ]);
  });

  it('also names written with the same letters composed two ways (é as one character, or e and an accent)', () => {
    const r = validateFolder({ 'Caf\u00e9.yaml': answering('a'), 'cafe\u0301.yaml': answering('b') });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.warnings.length, 1, r.stdout);
    assert.ok(r.warnings[0]!.startsWith('warning: Caf\u00e9.yaml:1:1: scenarios Caf\u00e9 and cafe\u0301 differ only in letter case or in how an accented letter is encoded ('), r.warnings[0]);
  });
});
