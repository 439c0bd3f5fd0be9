// A Node-RED user's words for blocks (trial "nodered"): a node that has a block here gets that block's kind; a node
// that has none here (inject, catch, debug, function, http in) gets what takes its place, not only the list of kinds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText, type BlockRegistry } from '../../engine/index.js';

function hintFor(kind: string, registry: BlockRegistry = defaultRegistry): string {
  const r = loadScenarioText('K.yaml', `blocks:\n  a: { kind: ${kind} }\n`, { registry });
  const i = r.ok ? undefined : r.issues[0];
  assert.equal(i?.code, 'E_UNKNOWN_KIND');
  return i!.hint!;
}

describe('unknown kinds named as Node-RED names its nodes', () => {
  const cases: Array<[string, RegExp]> = [
    ['inject', /^no block starts a scenario on a schedule: a service task does, one entry under serviceTasks: in oktell\.config\.yaml with cron: or every: \(docs\/service-tasks\.md\); known kinds: /],
    ['catch', /^there is no catch block: wire the error exit \(and timeout, where the block has one\) of each block that can fail .*dead letter/],
    ['debug', /^there is no debug block: every run keeps a trace .*oktell-emu show <runId>/],
    ['function', /^no block runs code: compute values with expressions in a Variable block/],
    ['"http in"', /^no block receives a request: the server runs the hook scenario \(HTTP404\) .*the body as 4/],
    ['"http response"', /^did you mean "ReturnValue"\? a return value \(the answer to a webhook\) is kind: ReturnValue/],
    ['change', /^did you mean "Variable"\? an assignment is kind: Variable/],
    ['json', /^did you mean "Parser"\? reading values out of JSON is kind: Parser/],
  ];
  for (const [kind, want] of cases) it(`kind: ${kind}`, () => assert.match(hintFor(kind), want));
  it('every such hint still lists the known kinds', () => {
    for (const [kind] of cases) assert.match(hintFor(kind), /known kinds: Start, Stop, /);
  });
});

describe('the catch hint names the blocks that can fail from the registry', () => {
  it('every kind with an error exit, DbProcedure included, in the registry\'s order', () => {
    assert.match(hintFor('catch'), /of each block that can fail \(Parser, Bpium, SendMail, DbQuery, DbProcedure, WebRequest\) to the blocks/);
  });
  it('a kind added to the registry with an error exit is named too; one without is not', () => {
    const registry: BlockRegistry = new Map([
      ...[...defaultRegistry].filter(([kind]) => kind !== 'Parser'),
      ['Ftp', { ...defaultRegistry.get('WebRequest')!, kind: 'Ftp', oktellName: 'FTP' }],
    ]);
    assert.match(hintFor('catch', registry), /can fail \(Bpium, SendMail, DbQuery, DbProcedure, WebRequest, Ftp\) to/);
  });
});
