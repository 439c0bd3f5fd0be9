// The article's scenarios, as shipped in scenarios/, load without a problem and behave as the article says.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { createTemplateRenderer } from '../../adapters/mail/templates.js';
import { loadScenarioLibrary } from '../../engine/index.js';
import { repoPath } from '../helpers.js';

describe('the shipped scenarios', () => {
  it('HTTP404, BpiumNewTask and the BpiumTaskChat example load with their templates and no problem', async () => {
    const dir = repoPath('scenarios');
    const templates = createTemplateRenderer({ dir: repoPath('scenarios', 'templates') });
    const lib = await loadScenarioLibrary(dir, { registry: defaultRegistry, templates });
    assert.deepEqual(lib.issues, []);
    assert.deepEqual([...lib.scenarios.keys()].sort(), ['BpiumNewTask', 'BpiumTaskChat', 'DailyReport', 'HTTP404', 'RecordNotification']);
    const http404 = lib.scenarios.get('HTTP404')!;
    assert.deepEqual([...http404.blocks.values()].map((b) => b.kind), ['Variable', 'Condition', 'AsyncScenario', 'Condition', 'AsyncScenario', 'ReturnValue']);
    assert.deepEqual(http404.calls.map((c) => c.scenario), ['BpiumNewTask', 'BpiumTaskChat']);
    // The example's gateway is not configured as shipped: out of the box it sends nothing.
    assert.equal(lib.scenarios.get('BpiumTaskChat')!.variables.get('chatUrl')!.initial, '');
    const task = lib.scenarios.get('BpiumNewTask')!;
    assert.deepEqual(task.templates.map((t) => t.name), ['bpium-new-task']);
    assert.equal(task.variables.get('usersCatalog')!.initial, '3');
  });

  it('the database examples: RecordNotification writes the notifications table, DailyReport reads it and mails', async () => {
    const templates = createTemplateRenderer({ dir: repoPath('scenarios', 'templates') });
    const lib = await loadScenarioLibrary(repoPath('scenarios'), { registry: defaultRegistry, templates });
    assert.deepEqual([...lib.scenarios.get('RecordNotification')!.blocks.values()].map((b) => b.kind), ['Start', 'Variable', 'DbQuery', 'ReturnValue', 'ReturnValue']);
    const report = lib.scenarios.get('DailyReport')!;
    assert.ok([...report.blocks.values()].some((b) => b.kind === 'DbQuery'));
    assert.deepEqual(report.templates.map((t) => t.name), ['daily-report']);
  });
});
