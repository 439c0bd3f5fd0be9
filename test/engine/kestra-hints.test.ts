// Trial "Kestra" (a Kestra user writes a flow the Kestra way first): id/namespace/tasks/triggers/errors at the top got
// "known keys: name, description, …"; io.kestra.plugin.core.http.Request as a kind only the list of kinds;
// url: "http://…/{{ inputs.orderId }}" the hint to quote it whole, which then validated and sent the braces as written;
// [inputs.orderId] "declare inputs.orderId"; retry: the list of properties; timeout: PT10S "expected number"; and
// SQL holding '{{ inputs.orderId }}' loaded without a word. Each now says what takes its place here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';

function issuesOf(text: string) {
  const r = loadScenarioText('K.yaml', text, { registry: defaultRegistry });
  assert.equal(r.ok, false, 'the file is refused');
  return r.ok ? [] : r.issues;
}

describe("Kestra's flow keys at the top", () => {
  it('each key is named with what it is here, at its line', () => {
    const issues = issuesOf(`id: order-flow\nnamespace: company.orders\ninputs: [ { id: orderId, type: STRING } ]\ntasks: []\nerrors: []\ntriggers: []\nblocks:\n  a: { kind: Stop }\n`);
    const byKey = new Map(issues.filter((i) => i.code === 'E_UNKNOWN_KEY').map((i) => [/"(\w+)"/.exec(i.message)![1], i]));
    assert.deepEqual([...byKey.keys()], ['id', 'namespace', 'inputs', 'tasks', 'errors', 'triggers']);
    assert.equal(byKey.get('id')!.line, 1);
    assert.equal(byKey.get('triggers')!.line, 6);
    assert.match(byKey.get('id')!.hint!, /^Kestra's flow id: a scenario is named by its file/);
    assert.match(byKey.get('tasks')!.hint!, /^Kestra's tasks are blocks here: blocks: is a mapping of block id → block/);
    assert.match(byKey.get('inputs')!.hint!, /Start block's param: \(input parameter 1\) or InputParameter\(N\)/);
    assert.match(byKey.get('triggers')!.hint!, /a Webhook trigger is the hook scenario HTTP404 .* a Schedule trigger a service task under serviceTasks: in oktell\.config\.yaml/);
    assert.match(byKey.get('errors')!.hint!, /wire the error exit .* starts the scenario DeadLetter once/);
    for (const i of byKey.values()) assert.match(i.hint!, /see docs\/coming-from-kestra\.md$/);
  });
  // The hint table was read by plain property access: `constructor:` got "function Object() { [native code] }" as its
  // hint, `__proto__:` "[object Object]"; and inside a block `__proto__:` went unreported (the block's properties were
  // copied by assignment, which set the copy's prototype instead).
  for (const key of ['constructor', 'toString', '__proto__']) {
    it(`${key}: at the top is an unknown key with the list of keys`, () => {
      const i = issuesOf(`${key}: 1\nblocks:\n  a: { kind: Stop }\n`).find((x) => x.code === 'E_UNKNOWN_KEY')!;
      assert.equal(i.message, `unknown top-level key "${key}"`);
      assert.equal(i.hint, 'known keys: name, description, variables, start, blocks');
      assert.equal(i.line, 1);
    });
    it(`${key}: inside a block is an unknown property of the block, at its line`, () => {
      const issues = issuesOf(`blocks:\n  a:\n    kind: Variable\n    set: { }\n    ${key}: { set: { x: '1' } }\n    exits: { next: b }\n  b: { kind: Stop }\n`);
      const i = issues.find((x) => x.code === 'E_UNKNOWN_KEY');
      assert.ok(i, JSON.stringify(issues));
      assert.equal(i.message, `unknown property "${key}" for Variable`);
      assert.equal([i.line, i.col].join(':'), '5:5');
      assert.match(i.hint!, /^properties of every block: kind, title, description, exits; of Variable: set$/);
    });
  }
  it('another unknown key keeps its "did you mean"', () => {
    const i = issuesOf(`blockz:\n  a: { kind: Stop }\n`).find((x) => x.code === 'E_UNKNOWN_KEY')!;
    assert.match(i.hint!, /^did you mean "blocks"\?/);
  });
});

describe("Kestra's task types", () => {
  const hintFor = (kind: string) => {
    const i = issuesOf(`blocks:\n  a: { kind: ${kind} }\n`)[0]!;
    assert.equal(i.code, 'E_UNKNOWN_KIND');
    assert.equal([i.line, i.col].join(':'), '2:14');
    return i.hint!.replace(/;? ?known kinds: .*$/, '');
  };
  const cases: Array<[string, RegExp]> = [
    ['io.kestra.plugin.core.http.Request', /^Kestra's http\.Request is kind: WebRequest here/],
    ['io.kestra.plugin.jdbc.sqlite.Query', /^Kestra's sqlite\.Query is kind: DbQuery here/],
    ['io.kestra.plugin.jdbc.postgresql.Query', /^Kestra's postgresql\.Query is kind: DbQuery here/],
    ['io.kestra.plugin.notifications.mail.MailSend', /^Kestra's mail\.MailSend is kind: SendMail here/],
    ['io.kestra.plugin.core.flow.If', /^Kestra's flow\.If is kind: Condition here/],
    ['io.kestra.plugin.core.flow.Subflow', /^Kestra's flow\.Subflow is kind: AsyncScenario here/],
    ['io.kestra.core.tasks.log.Log', /^Kestra's log\.Log: there is no debug block: every run keeps a trace/],
    ['io.kestra.plugin.core.trigger.Schedule', /^Kestra's trigger\.Schedule: no block starts a scenario on a schedule: a service task does/],
    ['io.kestra.plugin.core.trigger.Webhook', /^Kestra's trigger\.Webhook: no block receives a request: the server runs the hook scenario \(HTTP404\)/],
    ['io.kestra.plugin.scripts.python.Script', /^Kestra's python\.Script: no block runs code/],
    ['io.kestra.plugin.core.flow.ForEach', /^Kestra's flow\.ForEach: there is no block that merges, waits or loops/],
    // Fail has no block of its own: what takes its place (a ReturnValue with the reason and a Stop; DeadLetter).
    ['io.kestra.plugin.core.execution.Fail', /^Kestra's execution\.Fail: no block fails a run on purpose: end it with a ReturnValue that says why, then a Stop \(in the hook scenario HTTP404 return value 2 a status such as 400 .* starts the scenario DeadLetter .*; see docs\/coming-from-kestra\.md$/],
    ['io.kestra.core.tasks.executions.Fail', /^Kestra's executions\.Fail: no block fails a run on purpose/],
    ['Fail', /^no block fails a run on purpose: end it with a ReturnValue that says why/],
    ['io.kestra.plugin.core.execution.Exit', /^io\.kestra\.plugin\.core\.execution\.Exit is a Kestra task type: .*docs\/coming-from-kestra\.md/],
  ];
  for (const [kind, hint] of cases) it(`kind: ${kind}`, () => assert.match(hintFor(kind), hint));

  it('type: io.kestra… in place of kind: the kind to write, at type', () => {
    const [i] = issuesOf(`blocks:\n  a:\n    type: io.kestra.plugin.core.http.Request\n    url: '"http://x.test"'\n`);
    assert.equal(i!.code, 'E_MISSING_PROPERTY');
    assert.equal([i!.line, i!.col].join(':'), '3:5');
    assert.equal(i!.message, `block "a" has no "kind"; "type: io.kestra.plugin.core.http.Request" is Kestra's`);
    assert.match(i!.hint!, /^write kind: WebRequest in place of type: \(Kestra's http\.Request is kind: WebRequest here/);
  });
});

describe("Kestra's {{ … }} where an expression belongs", () => {
  const issueFor = (value: string, variables = '{ orderId: string, x: string }') =>
    issuesOf(`variables: ${variables}\nblocks:\n  a:\n    kind: Variable\n    set: { x: ${value} }\n`)[0]!;
  it('{{ inputs.orderId }} inside a text: the expression joined, not the text quoted whole', () => {
    const i = issueFor('"http://127.0.0.1:8080/orders/{{ inputs.orderId }}"');
    assert.equal(i.code, 'E_INVALID_EXPRESSION');
    assert.match(i.hint!, /^Kestra's \{\{ \}\} do not put a value into a text here: join the text in quotes and the value with \+; Kestra's inputs are input parameters here: read \[orderId\] \(declared\)/);
    assert.match(i.hint!, /write '"http:\/\/127\.0\.0\.1:8080\/orders\/" \+ \[orderId\]'; see docs\/coming-from-kestra\.md$/);
    assert.doesNotMatch(i.hint!, /\{\{ inputs/, 'no fix that keeps the braces');
  });
  it('{{ outputs.fetch.body }} whole: no braces, and the variables the blocks fill', () => {
    const i = issueFor('"{{ outputs.fetch.body }}"');
    assert.match(i.hint!, /^Kestra's \{\{ \}\} are not written here: the whole value is the expression, so leave the braces out; another task's outputs do not exist here: each block puts what it gets into variables you name \(a WebRequest's responseBody:/);
    assert.doesNotMatch(i.hint!, /n8n/);
  });
  it("{{ secret('API_TOKEN') }}: a variable with env:", () => {
    assert.match(issueFor(`"{{ secret('API_TOKEN') }}"`).hint!, /under variables: api_token: \{ type: string, env: API_TOKEN \}/);
  });
  it('{{ trigger.body.orderId }}: the hook scenario\'s input parameter 4', () => {
    assert.match(issueFor('"{{ trigger.body.orderId }}"').hint!, /InputParameter\(4\)/);
  });
  it('[inputs.orderId]: the declared variable, not "declare inputs.orderId"', () => {
    const i = issueFor("'[inputs.orderId]'");
    assert.equal(i.code, 'E_UNKNOWN_VARIABLE');
    assert.match(i.hint!, /^Kestra's inputs are input parameters here: read \[orderId\] \(declared\)/);
  });
});

describe("Kestra's task settings", () => {
  it('retry: on a block names where retries are set', () => {
    const i = issuesOf(`blocks:\n  a:\n    kind: WebRequest\n    url: '"http://x.test"'\n    retry: { type: constant, maxAttempt: 3, interval: PT5S }\n`).find((x) => x.code === 'E_UNKNOWN_KEY')!;
    assert.equal([i.line, i.col].join(':'), '5:5');
    assert.match(i.hint!, /^retries are not a block's setting here: remove retry:; .*WEB_REQUEST_ATTEMPTS.*OKTELL_MAX_ATTEMPTS.*see docs\/coming-from-kestra\.md$/);
  });
  it('timeout: PT10S is 10 seconds', () => {
    const i = issuesOf(`blocks:\n  a:\n    kind: WebRequest\n    url: '"http://x.test"'\n    timeout: PT1M30S\n`)[0]!;
    assert.equal(i.message, '"timeout": "PT1M30S" is an ISO 8601 duration, not a number of seconds');
    assert.equal(i.hint, 'write timeout: 90 (seconds, without quotes)');
  });
  it("SQL holding '{{ inputs.orderId }}': a bound :orderId, at the braces", () => {
    const i = issuesOf(`variables: { orderId: string }\nblocks:\n  q:\n    kind: DbQuery\n    sql: |\n      SELECT name FROM customers\n      WHERE order_id = '{{ inputs.orderId }}'\n`)[0]!;
    assert.equal(i.code, 'E_INVALID_PROPERTY');
    assert.equal([i.line, i.col].join(':'), '7:25');
    assert.match(i.hint!, /^write :orderId in its place \(without quotes around it\), with params: \{ orderId: '\[orderId\]' \}/);
  });
  // Review 66: the error fired in comments and within longer texts, so a statement that loaded before was refused.
  it('in a comment, or within a longer quoted text, the braces are left alone; outside quotes they are not', () => {
    const loads = (sql: string) => loadScenarioText('K.yaml', `variables: { name: string }\nblocks:\n  q:\n    kind: DbQuery\n    params: { name: '[name]' }\n    sql: |\n${sql.split('\n').map((l) => `      ${l}`).join('\n')}\n`, { registry: defaultRegistry });
    for (const sql of [
      "-- from Kestra: {{ inputs.name }}\nSELECT 'Hello {{ vars.name }}' AS body, :name AS n",
      "/* {{ inputs.name }} */ SELECT :name AS n",
      "SELECT $$Dear {{ inputs.name }},$$ AS template, :name AS n",
    ]) {
      const r = loads(sql);
      assert.ok(r.ok, `${sql}: ${r.ok ? '' : JSON.stringify(r.issues.map((i) => i.message))}`);
    }
    for (const [sql, at] of [
      ['SELECT :name AS n WHERE x = {{ inputs.name }}', '7:35'],
      ["SELECT :name AS n WHERE x = $${{ inputs.name }}$$", '7:37'],
    ] as const) {
      const r = loads(sql);
      assert.equal(r.ok, false, sql);
      const i = r.ok ? undefined : r.issues[0];
      assert.match(i!.message, /holds Kestra's \{\{ inputs\.name \}\}/);
      assert.equal([i!.line, i!.col].join(':'), at, sql);
    }
  });
});
