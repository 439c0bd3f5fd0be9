// Findings of trial 56 (an integrator writing a webhook route, an async scenario and a service task from the docs
// alone): the hints for the slips made there give the line that loads. Each row is a file text, the problem it must
// give (code, line, column) and the hint it must (or must not) give.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';
import { itGivesIssues, type IssueCase } from './issue-cases.helper.js';


/** A scenario whose AsyncScenario block has `params` written as `value`. */
const start = (value: string) => `variables: { body: string }
blocks:
  s:
    kind: AsyncScenario
    scenario: Other
    params: ${value}
`;

/** A scenario answering with return value 1 written as `value`. */
const answer = (value: string) => `variables: { reason: string }
blocks:
  r:
    kind: ReturnValue
    values:
      1: ${value}
      2: 400
`;

const CASES: IssueCase[] = [
  {
    // Was "write params: '[body]'", which is refused in turn.
    name: 'AsyncScenario params written as a list: the mapping form',
    text: start(`[ '[body]' ]`),
    code: 'E_INVALID_PROPERTY',
    line: 6,
    col: 13,
    hint: /^YAML reads \[ … \] as a list, and "params" takes a mapping: e\.g\. params: \{ 1: '\[body\]' \} \(input parameters of the started scenario\)$/,
    notHint: /write params: '\[body\]'/,
  },
  {
    // Was "e.g. params: # input parameters of the started scenario": the example's comment, without the mapping.
    name: 'AsyncScenario params written as one expression: the mapping form',
    text: start(`'[body]'`),
    code: 'E_INVALID_PROPERTY',
    line: 6,
    col: 13,
    hint: /^e\.g\. params: \{ 1: '\[body\]' \} \(input parameters of the started scenario\)$/,
  },
  {
    name: 'a JSONPath without the "." after "$"',
    text: `variables: { body: string, orderNo: string }\nblocks:\n  p:\n    kind: Parser\n    mode: json\n    document: '[body]'\n    extract: { orderNo: $orderNo }\n`,
    code: 'E_INVALID_JSONPATH',
    line: 7,
    col: 25,
    hint: /^a "\." goes between "\$" and a name: write \$\.orderNo$/,
  },
  {
    // Was the list of Parser's properties only.
    name: 'a Parser\'s extract written query:',
    text: `variables: { body: string, orderNo: string }\nblocks:\n  p:\n    kind: Parser\n    mode: json\n    document: '[body]'\n    query: { orderNo: $.orderNo }\n`,
    code: 'E_UNKNOWN_KEY',
    line: 7,
    col: 5,
    hint: /^did you mean "extract"\?/,
  },
  {
    // Was "quote the value: 1: 'Bad order: + [reason]'", which is refused in turn as an expression (a second round).
    name: 'unquoted text joined to a variable, with ": " in it (YAML): the hint quotes the text for the expression too',
    text: answer('Bad order: + [reason]'),
    code: 'E_YAML_SYNTAX',
    line: 6,
    col: 10,
    hint: /quote the value, and its text for the expression: 1: '"Bad order: " \+ \[reason\]'$/,
  },
  {
    // The second round of the same slip: quoted for YAML, still not quoted for the expression.
    name: 'unquoted text joined to a variable, quoted for YAML only: the hint quotes the text',
    text: answer(`'Bad order: + [reason]'`),
    code: 'E_INVALID_EXPRESSION',
    line: 6,
    col: 20,
    hint: /^write '"Bad order: " \+ \[reason\]' — /,
  },
  {
    // Plain text with ": " (a subject, a title) keeps the hint that quotes it whole.
    name: 'text with ": " and no value joined to it: quoted whole',
    text: `blocks:\n  m:\n    kind: SendMail\n    to: a@example.com\n    subject: Сделка: Поставка + монтаж\n    text: x\n`,
    code: 'E_YAML_SYNTAX',
    line: 5,
    col: 14,
    hint: /quote the value: subject: 'Сделка: Поставка \+ монтаж'$/,
  },
];

describe('trial 56: the hints for an integrator\'s slips give the line that loads', () => {
  itGivesIssues(CASES);
});

describe('an unknown key named as a property of every object (constructor, __proto__)', () => {
  // The table of other tools' words is looked up by the key: Object's own `constructor` is no list of words.
  const text = (key: string) => `blocks:\n  p:\n    kind: Parser\n    mode: json\n    document: '[body]'\n    extract: { a: $.a }\n    ${key}: 1\n`;
  for (const key of ['constructor', 'Constructor']) {
    it(`${key}: reported as an unknown key, the load not thrown`, () => {
      const r = loadScenarioText('T.yaml', text(key), { registry: defaultRegistry });
      assert.equal(r.ok, false, 'the file must be refused');
      const issues = r.ok ? [] : r.issues;
      assert.ok(issues.some((i) => i.code === 'E_UNKNOWN_KEY' && i.line === 7 && i.col === 5), issues.map((i) => `${i.line}:${i.col} ${i.code} ${i.message}`).join('\n'));
    });
  }
  it('__proto__: the load not thrown', () => {
    const r = loadScenarioText('T.yaml', text('__proto__'), { registry: defaultRegistry });
    assert.equal(r.ok, false, 'the file must be refused (its other problems)');
  });
});
