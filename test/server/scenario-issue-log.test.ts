// A scenario problem in the server's log names its file as a person reads it: relative to the scenarios folder (the
// `scenarios` field gives the folder), not to wherever the server was started; `file:line:col` leads the message.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileInFolder } from '../../server/scenario-host.js';
import { capturingLogger, startTestServer } from './server-helpers.js';

const BROKEN = 'name: Broken\nblocks:\n  - bogus: 1\n';

describe('scenario problems in the server log', () => {
  it('name the file relative to the scenarios folder, in the field and in file:line:col', { timeout: 60_000 }, async () => {
    const { lines, logger } = capturingLogger();
    const t = await startTestServer({ smtp: false, logger, extraScenarios: { 'Broken.yaml': BROKEN } });
    try {
      const issue = lines.find((l) => l.level === 'error' && l.obj.code !== undefined);
      assert.ok(issue, JSON.stringify(lines));
      assert.equal(issue.obj.file, 'Broken.yaml');
      assert.equal(issue.obj.scenarios, t.scenariosDir);
      assert.match(issue.msg ?? '', new RegExp(`^Broken\\.yaml:${String(issue.obj.line)}:${String(issue.obj.col)} ${String(issue.obj.code)} `));
    } finally {
      await t.cleanup();
    }
  });

  it('a file outside the scenarios folder is named by its absolute path', () => {
    const dir = resolve('/srv/oktell/scenarios');
    assert.equal(fileInFolder(join(dir, 'HTTP404.yaml'), dir), 'HTTP404.yaml');
    assert.equal(fileInFolder(join(dir, 'templates', 'report.text.njk'), dir), join('templates', 'report.text.njk'));
    assert.equal(fileInFolder(join(dir, '..', 'shared', 'x.yaml'), dir), resolve('/srv/oktell/shared/x.yaml'));
    assert.equal(fileInFolder(join(dir, '..fancy.yaml'), dir), '..fancy.yaml');
    // The loader's names are relative to the working directory.
    assert.equal(fileInFolder('scenarios/HTTP404.yaml', resolve('scenarios')), 'HTTP404.yaml');
  });
});
