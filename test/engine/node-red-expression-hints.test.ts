// Node-RED's ways of reading a value, written where an expression belongs (trial "nodered"): the hint says where the
// value comes from here, rather than quoting the words as text (which would send "msg.payload.orderId" as the value),
// and a url that begins with ${NAME} is pointed at a variable from the environment, not at "https://${NAME}".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText, parseExpression } from '../../engine/index.js';

function issuesOf(block: string): Array<{ code: string; hint: string }> {
  const text = `variables: { body: string, orderId: string }\nblocks:\n  a:\n${block}`;
  const r = loadScenarioText('N.yaml', text, { registry: defaultRegistry });
  return r.ok ? [] : r.issues.map((i) => ({ code: i.code, hint: i.hint ?? '' }));
}

describe('Node-RED habits in expressions', () => {
  it('msg.payload.orderId: the input parameters and JsonGet, not a quoted text', () => {
    const [i] = issuesOf('    kind: Variable\n    set: { orderId: msg.payload.orderId }\n');
    assert.equal(i?.code, 'E_INVALID_EXPRESSION');
    assert.doesNotMatch(i!.hint, /write '"msg/);
    assert.match(i!.hint, /^msg is Node-RED's message: .*the body as text as 4.* JsonGet\(\[body\], "orderId"\) or a Parser block/);
    const fix = /(JsonGet\(\[body\], "orderId"\))/.exec(i!.hint)![1]!;
    assert.ok(parseExpression(fix).ok, 'the JsonGet given parses');
  });
  it('env.get("SHOP_URL"): a variable with env:', () => {
    const [i] = issuesOf(`    kind: Variable\n    set: { orderId: 'env.get("SHOP_URL")' }\n`);
    assert.match(i!.hint, /^env\.get is Node-RED's: declare a variable .*shop_url: \{ type: string, env: SHOP_URL \}/);
  });
  it('flow.get("last"): a database table', () => {
    const [i] = issuesOf(`    kind: Variable\n    set: { orderId: 'flow.get("last")' }\n`);
    assert.match(i!.hint, /^flow, global and node context are Node-RED's: .*database table/);
  });
  for (const [url, line] of [
    [`'"\${SHOP_URL}/orders/" + [orderId]'`, `url: '[shopUrl] + "/orders/" + [orderId]'`],
    [`'"{{env.SHOP_URL}}/orders"'`, `url: '[shopUrl] + "/orders"'`],
    // The text quoted with '…' keeps its quotes: "/orders/' would be an unclosed text.
    [`"'\${SHOP_URL}/orders/' + [orderId]"`, `url: '[shopUrl] + ''/orders/'' + [orderId]'`],
    [`'«\${SHOP_URL}/orders/» + [orderId]'`, `url: '[shopUrl] + «/orders/» + [orderId]'`],
  ] as const) {
    it(`url: ${url} is pointed at a variable from the environment`, () => {
      const [i] = issuesOf(`    kind: WebRequest\n    url: ${url}\n`);
      assert.equal(i?.code, 'E_INVALID_PROPERTY');
      assert.doesNotMatch(i!.hint, /https:\/\/\$\{|https:\/\/\{\{/);
      assert.ok(i!.hint.endsWith(`shopUrl: { type: string, env: SHOP_URL, secret: false }, and begin the url with it: ${line}`), i!.hint);
      // The line given, with the variable declared as said, loads.
      const fixed = loadScenarioText('F.yaml', `variables: { orderId: string, shopUrl: { type: string, env: SHOP_URL, initial: "", secret: false } }\nblocks:\n  a:\n    kind: WebRequest\n    ${line}\n`, { registry: defaultRegistry });
      assert.ok(fixed.ok, JSON.stringify(fixed.ok ? [] : fixed.issues));
    });
  }
});
