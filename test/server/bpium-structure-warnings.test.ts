// The running server says what `validate` says about a Bpium filters/values entry that is request text as it came (a
// plain string variable, InputParameter(n)): text in it that looks like JSON goes to Bpium as structure. Said at start
// (the banner's warnings and the log) and in the log again when an edit brings such an entry in (hot reload), from
// the same rule as validate's (bpiumStructureWarnings), with the entry's file:line:col.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bpiumScenario as scenario } from '../warning-scenarios.helper.js';
import { saveByRename } from '../helpers.js';
import { capturingLogger, startTestServer, waitFor } from './server-helpers.js';

const STRUCTURE = 'looks like a JSON array or object';

describe('Bpium entries that are request text, told by the running server', () => {
  it('are named at start, in the banner warnings and the log, at the entry\'s line and column', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger, extraScenarios: { 'Find.yaml': scenario('findRecord', `filters: { 4: '[userId]' }`) }, env: { SMTP_URL: '' } });
    try {
      const found = t.server.warnings.filter((w) => w.includes(STRUCTURE));
      assert.equal(found.length, 1, t.server.warnings.join('\n'));
      assert.match(
        found[0]!,
        /^Find\.yaml:8:19: block find of Find: filters entry 4 is \[userId\], a string variable; text in it that looks like a JSON array or object \(\["1","2"\], \{"\$or": …\}\) is sent to Bpium as query structure, .*: declare userId as json .*filtersJson: '«\{"4": » \+ JsonString\(\[userId\]\) \+ «\}»'/,
      );
      assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === found[0]), 'and logged');
    } finally {
      await t.cleanup();
    }
  });

  it('are not named for the shipped scenarios, and are named when an edit brings one in (hot reload)', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, watch: true, logger: log.logger, env: { SMTP_URL: '' } });
    try {
      assert.deepEqual(t.server.warnings.filter((w) => w.includes(STRUCTURE)), []);
      saveByRename(join(t.scenariosDir, 'Find.yaml'), scenario('createRecord', `values: { 5: 'InputParameter(1)', 2: '"Задача"' }`));
      const said = await waitFor('the warning after the edit', () => log.lines.find((l) => l.level === 'warn' && l.msg?.includes(STRUCTURE)));
      assert.match(said.msg!, /^Find\.yaml:8:18: block find of Find: values entry 5 is InputParameter\(1\), a start parameter as the run got it \(request text\); .* is sent to Bpium as field structure, /);
    } finally {
      await t.cleanup();
    }
  });
});
