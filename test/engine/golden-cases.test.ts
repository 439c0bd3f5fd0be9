// Data-driven scenario cases of the engine: each folder under test/cases holds a case.yaml (scenario, parameters,
// Bpium fixture, expected result) and, unless it points elsewhere, its own scenario files. A new case is a new
// folder, no code. The shipped scenarios' own flows are tested in the user-facing format, scenarios/tests (run by
// test/cli/test-command.test.ts through `oktell-emu test`); what stays here needs what that format does not offer:
// step limits, the full trace, live runs into the outbox.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createFixtureBpium, type BpiumFixtureFile } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { createOutboxMailer, listOutbox } from '../../adapters/mail/outbox.adapter.js';
import { createTemplateRenderer } from '../../adapters/mail/templates.js';
import { defaultRegistry } from '../../components/registry.js';
import {
  attachChildResults,
  createInProcessStarter,
  fixedClock,
  loadScenarioLibrary,
  randomIds,
  runScenario,
  type EnginePorts,
  type Value,
} from '../../engine/index.js';
import { assertSubset, repoPath, tempDir } from '../helpers.js';

interface Case {
  description: string;
  scenarios?: string;
  scenario: string;
  params?: Record<string, string | number>;
  dryRun?: boolean;
  bpium?: string | BpiumFixtureFile;
  limits?: { maxSteps?: number };
  expect: Record<string, unknown>;
  /** Letters expected in the outbox (live runs). */
  outbox?: Array<{ to: string[]; subject: string }>;
}

const casesDir = repoPath('test', 'cases');
const folders = readdirSync(casesDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

describe('scenario cases', () => {
  it('there are cases to run', () => assert.ok(folders.length >= 7));
  for (const name of folders) {
    const folder = join(casesDir, name);
    const c = parse(readFileSync(join(folder, 'case.yaml'), 'utf8')) as Case;
    it(`${name}: ${c.description}`, async () => {
      const scenarioDir = resolve(folder, c.scenarios ?? 'scenarios');
      const templatesDir = join(scenarioDir, 'templates');
      const templates = existsSync(templatesDir) ? createTemplateRenderer({ dir: templatesDir }) : undefined;
      const lib = await loadScenarioLibrary(scenarioDir, { registry: defaultRegistry, ...(templates ? { templates } : {}) });
      assert.deepEqual(lib.issues, [], 'the case scenarios are valid');
      const params: Record<string, Value> = {};
      for (const [k, v] of Object.entries(c.params ?? {})) {
        params[k] = typeof v === 'string' && v.startsWith('@') ? readFileSync(join(folder, v.slice(1)), 'utf8') : v;
      }
      const fixture = typeof c.bpium === 'string' ? (parse(readFileSync(resolve(folder, c.bpium), 'utf8')) as BpiumFixtureFile) : c.bpium;
      const tmp = tempDir();
      try {
        const ports: EnginePorts = {
          ...(fixture ? { bpium: createFixtureBpium(structuredClone(fixture)) } : {}),
          ...(c.dryRun === false ? { mailer: createOutboxMailer({ dir: join(tmp.dir, 'outbox'), from: 'test@example.com' }) } : {}),
          ...(templates ? { templates } : {}),
          clock: fixedClock(new Date('2026-11-28T09:00:00Z')),
          ids: randomIds,
          asyncStarter: undefined as never,
        };
        const opts = { dryRun: c.dryRun !== false, timeZone: 'Europe/Moscow', ports, ...(c.limits ? { limits: c.limits } : {}) };
        const starter = createInProcessStarter(randomIds, (req, runId) => runScenario(lib, req.scenario, { ...opts, params: req.params, variables: req.variables, runId }));
        ports.asyncStarter = starter;
        const result = attachChildResults(await runScenario(lib, c.scenario, { ...opts, params }), await starter.drain());
        assertSubset(JSON.parse(JSON.stringify(result)), c.expect);
        if (c.outbox) {
          const letters = await listOutbox(join(tmp.dir, 'outbox'));
          assertSubset(
            letters.map((l) => ({ to: l.to, subject: l.subject })).sort((a, b) => a.to.join().localeCompare(b.to.join())),
            c.outbox,
          );
        }
      } finally {
        tmp.cleanup();
      }
    });
  }
});
