// The running server says what `validate` says about a Bpium filters/values entry that is request text as it came (a
// plain string variable, InputParameter(n)): text in it that looks like JSON goes to Bpium as structure. Said at start
// (the banner's warnings and the log) and in the log again when an edit brings such an entry in (hot reload), from
// the same rule as validate's (bpiumStructureWarnings), with the entry's file:line:col.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bpiumScenario as scenario } from '../warning-scenarios.helper.js';
import { startWarnings, warningAfterEdit } from './start-warnings.helper.js';

const STRUCTURE = 'looks like a JSON array or object';

describe('Bpium entries that are request text, told by the running server', () => {
  it('are named at start, in the banner warnings and the log, at the entry\'s line and column', { timeout: 60_000 }, async () => {
    const { found, all } = await startWarnings(STRUCTURE, { 'Find.yaml': scenario('findRecord', `filters: { 4: '[userId]' }`) });
    assert.equal(found.length, 1, all.join('\n'));
    assert.match(
      found[0]!,
      /^Find\.yaml:8:19: block find of Find: filters entry 4 is \[userId\], a string variable; text in it that looks like a JSON array or object \(\["1","2"\], \{"\$or": …\}\) is sent to Bpium as query structure, .*: declare userId as json .*filtersJson: '«\{"4": » \+ JsonString\(\[userId\]\) \+ «\}»'/,
    );
  });

  it('are not named for the shipped scenarios, and are named when an edit brings one in (hot reload)', { timeout: 60_000 }, async () => {
    const said = await warningAfterEdit(STRUCTURE, 'Find.yaml', scenario('createRecord', `values: { 5: 'InputParameter(1)', 2: '"Задача"' }`));
    assert.match(said, /^Find\.yaml:8:18: block find of Find: values entry 5 is InputParameter\(1\), a start parameter as the run got it \(request text\); .* is sent to Bpium as field structure, /);
  });
});
