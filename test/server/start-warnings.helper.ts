// The rig of the "told by the running server" tests of a scenario warning (validate's rules, shown by serve): the
// warnings a server names at start for given scenarios, and the one it logs when an edit brings a case in (hot reload).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { saveByRename } from '../helpers.js';
import { capturingLogger, startTestServer, waitFor } from './server-helpers.js';

/**
 * Starts a server with the shipped scenarios and `scenarios` (file name → text) under `env`, and gives the start
 * warnings that contain `marker`, after checking that each is also logged as a warning.
 */
export async function startWarnings(marker: string, scenarios: Record<string, string>, env: Record<string, string> = {}): Promise<{ found: string[]; all: string[] }> {
  const log = capturingLogger();
  const t = await startTestServer({ smtp: false, logger: log.logger, extraScenarios: scenarios, env: { SMTP_URL: '', ...env } });
  try {
    const found = t.server.warnings.filter((w) => w.includes(marker));
    for (const w of found) assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === w), `logged: ${w}`);
    return { found, all: t.server.warnings };
  } finally {
    await t.cleanup();
  }
}

/**
 * Starts a watching server with the shipped scenarios, checks that none of its start warnings (nor its log) contains
 * `marker`, saves `text` as `file` in its scenarios folder, and gives the message of the warning logged on the reload.
 */
export async function warningAfterEdit(marker: string, file: string, text: string): Promise<string> {
  const log = capturingLogger();
  const t = await startTestServer({ smtp: false, watch: true, logger: log.logger, env: { SMTP_URL: '' } });
  try {
    assert.deepEqual(t.server.warnings.filter((w) => w.includes(marker)), []);
    assert.ok(!log.lines.some((l) => l.msg?.includes(marker)), 'nothing logged before the edit');
    saveByRename(join(t.scenariosDir, file), text);
    const said = await waitFor('the warning after the edit', () => log.lines.find((l) => l.level === 'warn' && l.msg?.includes(marker)));
    return said.msg!;
  } finally {
    await t.cleanup();
  }
}
