// Trial 50, mutation 175: a template whose subject file is empty (or missing), used by a SendMail that gives no
// subject, sends every letter without one. validate warns at the subject file (or at `template:` when there is no
// such file), naming the blocks; a subject given in the block, or a subject file with text, is not named.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

/** A scenario whose SendMail block `mail` (line 4) uses template `name` (line 7), with `extra` lines after it. */
const mailing = (name: string, extra = '') => `variables: { email: string, day: string }
start: mail
blocks:
  mail:
    kind: SendMail
    to: '[email]'
    template: ${name}
${extra}`;

function validateWithTemplates(scenarios: Record<string, string>, templates: Record<string, string>): string[] {
  const tmp = tempDir();
  try {
    mkdirSync(join(tmp.dir, 'templates'));
    for (const [name, text] of Object.entries(scenarios)) writeFileSync(join(tmp.dir, name), text);
    for (const [name, text] of Object.entries(templates)) writeFileSync(join(tmp.dir, 'templates', name), text);
    const r = runCli(['validate', '--scenarios', tmp.dir], { cwd: tmp.dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return r.stdout.split('\n').filter((l) => l.startsWith('warning:'));
  } finally {
    tmp.cleanup();
  }
}

describe('validate: letters without a subject', () => {
  it('warns of an empty subject file and of a missing one', () => {
    const warnings = validateWithTemplates(
      { 'Report.yaml': mailing('report'), 'Again.yaml': mailing('report'), 'Note.yaml': mailing('note') },
      { 'report.subject.njk': '{# to write #}\n  \n', 'report.text.njk': 'Отчёт за {{ day }}\n', 'note.text.njk': 'Заметка\n' },
    );
    assert.deepEqual(warnings, [
      'warning: Note.yaml:7:15: template note has no subject file (note.subject.njk), and Note (block mail) gives no subject: every letter goes without one; write the subject in note.subject.njk (e.g. Отчёт за {{ day }}), or give the block a subject: expression',
      'warning: templates/report.subject.njk:1:1: the subject file of template report is empty, and Again (block mail), Report (block mail) give no subject: every letter goes without one; write the subject in report.subject.njk (e.g. Отчёт за {{ day }}), or give the block a subject: expression',
    ]);
  });

  it('is not said of a subject file with text, nor of a block with its own subject', () => {
    const warnings = validateWithTemplates(
      { 'Report.yaml': mailing('report'), 'Own.yaml': mailing('bare', `    subject: '"Заметка"'\n`) },
      { 'report.subject.njk': 'Отчёт за {{ day }}\n', 'report.text.njk': 'Отчёт\n', 'bare.text.njk': 'Заметка\n' },
    );
    assert.deepEqual(warnings, []);
  });
});
