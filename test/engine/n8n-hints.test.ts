// Trial "n8n" (an n8n user writes a scenario): n8n's node names as kinds and n8n's expressions ({{ $json.body.x }},
// $env.X, $now, $('Webhook')…) were met with hints that sent the user the wrong way — kind: Webhook was "did you mean
// WebRequest?" (an outgoing request, where n8n's Webhook receives one), and $json got "quote text that holds $", which
// makes a value of the words themselves. Each now says what takes its place here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';

function firstIssue(text: string) {
  const r = loadScenarioText('K.yaml', text, { registry: defaultRegistry });
  assert.equal(r.ok, false, 'the file is refused');
  return r.ok ? undefined! : r.issues[0]!;
}

describe("n8n's node names as kinds", () => {
  const hintFor = (kind: string) => {
    const i = firstIssue(`blocks:\n  a: { kind: ${kind} }\n`);
    assert.equal(i.code, 'E_UNKNOWN_KIND');
    assert.equal([i.line, i.col].join(':'), '2:14');
    return i.hint!.replace(/;? ?known kinds: .*$/, '');
  };
  it('Webhook (and its workflow-JSON type) is the hook scenario, not an outgoing WebRequest', () => {
    for (const k of ['Webhook', 'n8n-nodes-base.webhook', 'WebhookTrigger']) {
      const h = hintFor(k);
      assert.doesNotMatch(h, /WebRequest/, k);
      assert.match(h, /^no block receives a request: the server runs the hook scenario \(HTTP404\)/, k);
    }
  });
  const cases: Array<[string, RegExp]> = [
    ['RespondToWebhook', /^did you mean "ReturnValue"\? the answer to a webhook \(return value 1 the body, 2 the status, 3 the content type\)/],
    ['EmailSend', /^did you mean "SendMail"\?/],
    ['n8n-nodes-base.emailSend', /^did you mean "SendMail"\?/],
    ['ScheduleTrigger', /^no block starts a scenario on a schedule: a service task does/],
    ['Postgres', /^did you mean "DbQuery"\? an SQL statement on a database is kind: DbQuery/],
    ['ErrorTrigger', /^there is no error trigger: a scenario named DeadLetter in the scenarios folder is the catch-all/],
    ['SplitInBatches', /^there is no block that merges, waits or loops over items/],
    ['Wait', /^there is no block that merges, waits or loops over items/],
  ];
  for (const [kind, hint] of cases) it(`kind: ${kind}`, () => assert.match(hintFor(kind), hint));
});

describe("n8n's expressions where an expression belongs", () => {
  const hintFor = (expr: string) => {
    const i = firstIssue(`variables: { x: string }\nblocks:\n  a:\n    kind: Variable\n    set: { x: '${expr}' }\n`);
    assert.equal(i.code, 'E_INVALID_EXPRESSION');
    assert.equal(i.line, 5);
    return i.hint!;
  };
  it('{{ $json.body.orderId }}: no braces, and the body field through JsonGet or a Parser', () => {
    const h = hintFor('{{ $json.body.orderId }}');
    assert.match(h, /^n8n's \{\{ \}\} are not written here: the whole value is the expression, so leave the braces out; \$json is n8n's item/);
    assert.match(h, /JsonGet\(\[body\], "orderId"\) or a Parser block with mode: json \(extract: \{ orderId: \$\.orderId \}\)/);
    assert.doesNotMatch(h, /quote text|to build JSON/);
  });
  it('$json inside a longer expression', () => {
    assert.match(hintFor('"Order " + $json.body.customer.name'), /JsonGet\(\[body\], "customer\.name"\)/);
  });
  it('$env.NAME: a variable with env:', () => {
    assert.equal(hintFor('$env.SHOP_TOKEN'), "$env is n8n's: declare a variable that takes the value from the environment, under variables: shop_token: { type: string, env: SHOP_TOKEN } (secret unless secret: false), and read it as '[shop_token]'");
  });
  it('$now and $today: Now() and Today()', () => {
    assert.match(hintFor('{{ $now }}'), /\$now is n8n's: write Now\(\)/);
    assert.match(hintFor('$today'), /\$today is n8n's: write Today\(\)/);
  });
  it("another node's data: variables the blocks fill", () => {
    for (const e of ['$("Webhook").item.json.body', '$node["HTTP Request"].json.total', '$input.first().json.x', '$execution.id']) {
      assert.match(hintFor(e), /^n8n's \$ data \(another node's output, the execution, \$vars\) does not exist here: each block puts what it gets into variables you name/, e);
    }
  });
  // Review of the n8n batch: a `$` inside quoted text ("Pay $now") was taken for n8n's, and its hint replaced the one
  // for the real mistake (here a + with nothing after it).
  it("a $ word inside quoted text is the writer's text: the hint is for the real mistake", () => {
    for (const e of ['"Pay $now or later: " + [x] +', '«Send $json as is» +']) assert.equal(hintFor(e), 'complete the expression, e.g. [a] + 1', e);
    assert.match(hintFor('$env["SHOP_TOKEN"]'), /^\$env is n8n's: declare a variable .* env: SHOP_TOKEN/);
  });
  it('text in n8n braces', () => {
    assert.match(hintFor('{{ "Order" }}'), /leave the braces out; text in it needs quotes and a variable is read as \[name\]/);
  });
});
