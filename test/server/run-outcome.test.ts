// The one-line outcome the lists show for a run (`oktell-emu runs`, the console's runs and jobs): letters by what
// became of them, then the return values in their order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeOf, OUTCOME_CHARS } from '../../server/console/run.routes.js';
import { outcomeLetters, runOutcomeText } from '../../server/run-outcome.js';

describe('runOutcomeText', () => {
  it('names the letters sent, those replayed (an earlier attempt sent them) apart, of unknown outcome and failed, then the return values', () => {
    const letters = [
      { to: ['a@example.com'], status: 'sent' },
      { to: ['b@example.com'], status: 'replayed' },
      { to: ['c@example.com'], status: 'unknown' },
      { to: ['d@example.com', 'e@example.com'], status: 'failed' },
      { to: ['f@example.com'], status: 'dry-run' },
    ];
    assert.equal(
      runOutcomeText({ letters, returnValues: { 3: true, 1: 'notified 2 of 3', 2: 200, 10: '', 4: null } }),
      'letter sent to a@example.com; letter sent earlier to b@example.com; letter of unknown outcome to c@example.com; letter failed to d@example.com, e@example.com; notified 2 of 3; value 2: 200; value 3: true',
    );
  });

  it('shows three recipients and counts the rest; a letter refused before sending says so; one recipient of two letters is named once', () => {
    const to = (n: number) => Array.from({ length: n }, (_, i) => `u${i}@example.com`);
    assert.equal(runOutcomeText({ letters: [{ to: to(5), status: 'sent' }], returnValues: {} }), 'letter sent to u0@example.com, u1@example.com, u2@example.com and 2 more');
    // Refused before it was written (an empty or invalid `to`): it never had a recipient to have failed to.
    assert.equal(runOutcomeText({ letters: [{ to: [], status: 'failed' }], returnValues: null }), 'letter refused before sending');
    assert.equal(
      runOutcomeText({ letters: [{ to: [], status: 'failed' }, { to: ['a@x'], status: 'failed' }, { to: [], status: 'failed' }], returnValues: null }),
      'letter failed to a@x; 2 letters refused before sending',
    );
    assert.equal(runOutcomeText({ letters: [{ to: ['a@x'], status: 'sent' }, { to: ['a@x'], status: 'sent' }], returnValues: undefined }), '2 letters sent to a@x');
  });

  it('prints a number as runs show does', () => {
    assert.equal(runOutcomeText({ letters: [], returnValues: { 1: 0.1 + 0.2, 2: 1e21, 3: -0 } }), '0.3; value 2: 1e+21; value 3: 0');
  });

  it('is empty for a run that sent nothing and returned nothing; keeps a structured value as JSON', () => {
    assert.equal(runOutcomeText({ letters: [], returnValues: {} }), '');
    assert.equal(runOutcomeText({ letters: outcomeLetters('not a list'), returnValues: [1, 2] }), '');
    assert.equal(runOutcomeText({ letters: outcomeLetters([null, 'x', { to: ['a@x'], status: 'sent', text: 'body' }]), returnValues: { 1: { a: 1 } } }), 'letter sent to a@x; {"a":1}');
  });

  it("the console's list cuts a long outcome with a … (whole emoji), leaves a short one and a hook run's status out", () => {
    const long = 'x'.repeat(OUTCOME_CHARS - 2) + '🎉tail';
    const cut = outcomeOf('r1', new Map([['r1', { letters: [], returnValues: { 1: long } }]]));
    assert.equal(cut, `${'x'.repeat(OUTCOME_CHARS - 2)}…`);
    assert.equal(outcomeOf('r1', new Map([['r1', { letters: [], returnValues: { 1: 'short' } }]])), 'short');
    assert.equal(outcomeOf('r1', new Map([['r1', { letters: [], returnValues: { 1: 'ok', 2: 200 } }]]), '2'), 'ok');
    assert.equal(outcomeOf(null, new Map()), '');
  });
});
