// Trial 50, mutations 177 and 178: a variable whose `initial:` is an address the mailer refuses, sent to as it is by a
// SendMail block (`to: '[reportTo]'`), was valid without a word, and every run that kept the initial failed its letter
// (MAIL_BAD_ADDRESS). validate now warns at the `initial`, naming the uses; the file stays valid (a parameter or a
// block may replace the value), and a good or empty initial, or one used otherwise, is not named.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateFolder } from './cli.helper.js';

/** A scenario whose variable `reportTo` starts as `initial` (line 2) and whose block `mail` sends with `props`. */
const report = (initial: string, props: string) => `variables:
  reportTo: { type: string, initial: ${initial} }
  other: string
blocks:
  mail:
    kind: SendMail
${props}
    subject: '"Отчёт"'
    text: '"Готово"'
`;

describe('validate: an initial address the mailer refuses', () => {
  it('is a warning at the initial, naming where the variable is sent to', () => {
    const r = validateFolder({
      'Report.yaml': report('"reports-at-example.com"', `    to: '[reportTo]'`),
      'Copy.yaml': report('"boss@@example.com"', `    to: '[other]'\n    cc: '[reportTo]'\n    bcc: '[ reportTo ]'`),
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.warnings, [
      'warning: Copy.yaml:2:38: variable reportTo of Copy starts as text the mailer refuses (address "boss@@example.com" has characters not allowed before @), ' +
        'and it is "cc" of block mail (line 8) and "bcc" of block mail (line 9): a run that does not set reportTo first fails that letter (MAIL_BAD_ADDRESS); ' +
        'write the initial as name@domain or Name <name@domain>, several separated by "," or ";"',
      'warning: Report.yaml:2:38: variable reportTo of Report starts as text the mailer refuses (address "reports-at-example.com" is not of the form name@domain), ' +
        'and it is "to" of block mail (line 7): a run that does not set reportTo first fails that letter (MAIL_BAD_ADDRESS); ' +
        'write the initial as name@domain or Name <name@domain>, several separated by "," or ";"',
    ]);
  });

  it('is not said of a good or empty initial, nor of a variable used inside a longer expression', () => {
    const r = validateFolder({
      'Good.yaml': report('"reports@example.com; Иван <ivan@example.com>"', `    to: '[reportTo]'`),
      'Empty.yaml': report('""', `    to: '[reportTo]'`),
      'Built.yaml': report('"reports"', `    to: '[reportTo] + "@example.com"'`),
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.warnings, []);
  });
});
