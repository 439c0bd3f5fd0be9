// What an editor shows with the published JSON Schemas must agree with `oktell-emu validate` and `oktell-emu test`.
// The schemas are checked here as the YAML language server (VS Code's YAML extension) reads them, without it: a
// small evaluator of the keywords the schemas use, reading mapping keys as YAML types them (`2:` is the number 2,
// `true:` the boolean), as that server does. Every row is a mutation of a shipped file; the loader's verdict and the
// schema's must agree: both accept, both refuse (a misspelt key, a wrong type, a missing property, a bad enum), or the
// loader alone refuses ("semantic": exit targets, expressions, variables, which no schema can say).
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { buildScenarioJsonSchema } from '../../components/json-schema.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary } from '../../engine/index.js';
import { buildTestFileJsonSchema, loadTestFile } from '../../cli/testing/test-file.js';
import { repoPath, tempDir } from '../helpers.js';

type Json = Record<string, unknown>;
/** A YAML mapping as the language server sees it: its keys keep their YAML types. */
class YamlMapping {
  constructor(readonly entries: Array<[unknown, unknown]>) {}
}
type Verdict = 'accepts' | 'refuses' | 'semantic';
/** [id, file (under scenarios/ or scenarios/tests/), text replaced, replacement, what validate/test and the editor say] */
type Row = [string, string, string, string, Verdict];

function yamlValue(node: Node | null | undefined): unknown {
  if (!node) return null;
  if (isMap(node)) return new YamlMapping(node.items.map((p) => [isScalar(p.key) ? p.key.value : p.key, yamlValue(p.value as Node)]));
  if (isSeq(node)) return node.items.map((n) => yamlValue(n as Node));
  if (isScalar(node)) return node.value;
  return null;
}

const ANNOTATIONS = new Set(['$schema', '$id', '$defs', 'title', 'description', 'default', 'examples']);

/** The problems of `value` against `schema` (empty: valid). An unresolved `$ref` or an unknown keyword throws. */
function problems(schema: unknown, value: unknown, root: Json, at = '$'): string[] {
  if (schema === true || schema === undefined) return [];
  if (schema === false) return [`${at}: not allowed`];
  const s = schema as Json;
  const out: string[] = [];
  const add = (p: string) => out.push(`${at}: ${p}`);
  for (const [k, rule] of Object.entries(s)) {
    switch (k) {
      case '$ref': {
        const ref = rule as string;
        assert.ok(ref.startsWith('#/'), `${at}: $ref ${ref} is not local`);
        const target = ref.slice(2).split('/').reduce<unknown>((o, seg) => (o as Json | undefined)?.[seg], root);
        assert.ok(target !== undefined, `${at}: $ref ${ref} cannot be resolved from the root of the schema`);
        out.push(...problems(target, value, root, at));
        break;
      }
      case 'type': {
        const types = Array.isArray(rule) ? rule : [rule];
        if (!types.some((t) => typeOk(t as string, value))) add(`expected ${types.join(' | ')}`);
        break;
      }
      case 'enum':
        if (!(rule as unknown[]).some((e) => e === value)) add(`not one of ${JSON.stringify(rule)}`);
        break;
      case 'const':
        if (rule !== value) add(`not ${JSON.stringify(rule)}`);
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(rule as string, 'u').test(value)) add(`does not match ${rule as string}`);
        break;
      case 'minLength':
        if (typeof value === 'string' && [...value].length < (rule as number)) add('too short');
        break;
      case 'minimum':
        if (typeof value === 'number' && value < (rule as number)) add('too small');
        break;
      case 'maximum':
        if (typeof value === 'number' && value > (rule as number)) add('too large');
        break;
      case 'exclusiveMinimum':
        if (typeof value === 'number' && value <= (rule as number)) add('too small');
        break;
      case 'minItems':
        if (Array.isArray(value) && value.length < (rule as number)) add('too few items');
        break;
      case 'items':
        if (Array.isArray(value)) value.forEach((v, i) => out.push(...problems(rule, v, root, `${at}[${i}]`)));
        break;
      case 'minProperties':
        if (value instanceof YamlMapping && value.entries.length < (rule as number)) add('too few properties');
        break;
      case 'required':
        if (value instanceof YamlMapping) for (const name of rule as string[]) if (!value.entries.some(([key]) => String(key) === name)) add(`missing ${name}`);
        break;
      case 'properties':
        // The server finds a property's value by the key's text…
        if (value instanceof YamlMapping) for (const [key, v] of value.entries) if (Object.hasOwn(rule as Json, String(key))) out.push(...problems((rule as Json)[String(key)], v, root, `${at}.${String(key)}`));
        break;
      case 'additionalProperties':
        // …but counts a key as one of `properties` only when it is that very text: `true:` is no property "true".
        if (value instanceof YamlMapping) {
          const named = (s.properties ?? {}) as Json;
          for (const [key, v] of value.entries) if (!(typeof key === 'string' && Object.hasOwn(named, key))) out.push(...problems(rule, v, root, `${at}.${String(key)}`));
        }
        break;
      case 'propertyNames':
        if (value instanceof YamlMapping) for (const [key] of value.entries) out.push(...problems(rule, key, root, `${at} key ${String(key)}`));
        break;
      case 'anyOf':
        if (!(rule as unknown[]).some((r) => !problems(r, value, root, at).length)) add('matches no form');
        break;
      case 'oneOf':
        if ((rule as unknown[]).filter((r) => !problems(r, value, root, at).length).length !== 1) add('matches not exactly one form');
        break;
      case 'allOf':
        for (const r of rule as unknown[]) out.push(...problems(r, value, root, at));
        break;
      case 'not':
        if (!problems(rule, value, root, at).length) add('matches a form that is not allowed');
        break;
      case 'if':
        if (!problems(rule, value, root, at).length) out.push(...problems(s.then, value, root, at));
        else if (s.else !== undefined) out.push(...problems(s.else, value, root, at));
        break;
      case 'then':
      case 'else':
        break;
      default:
        assert.ok(ANNOTATIONS.has(k), `${at}: the evaluator does not know the keyword "${k}"; teach it`);
    }
  }
  return out;
}

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return v instanceof YamlMapping;
    case 'array':
      return Array.isArray(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'null':
      return v === null;
    default:
      return typeof v === type;
  }
}

/** The YAML's own errors (the server shows them too), else the schema's problems. */
function schemaProblems(schema: Json, text: string): string[] {
  const doc = parseDocument(text);
  if (doc.errors.length) return doc.errors.map((e) => e.message);
  return problems(schema, yamlValue(doc.contents as Node), schema);
}

function mutated(text: string, [id, , from, to]: Row): string {
  const i = text.indexOf(from);
  assert.ok(i >= 0, `${id}: the text to replace is not in the file`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

const SCENARIO_ROWS: Row[] = [
  ["top-key-misspelt", "HTTP404.yaml", "start: saveRequest", "strat: saveRequest", 'refuses'],
  ["top-key-unknown", "HTTP404.yaml", "start: saveRequest", "start: saveRequest\nversion: 2", 'refuses'],
  ["variables-misspelt", "HTTP404.yaml", "variables:", "varibles:", 'refuses'],
  ["var-long-key-misspelt", "HTTP404.yaml", "{ type: string, description: \"Resource", "{ type: string, descripton: \"Resource", 'refuses'],
  ["var-long-unknown-key", "BpiumNewTask.yaml", "usersCatalog: { type: string, initial: \"3\",", "usersCatalog: { type: string, initial: \"3\", default: \"3\",", 'refuses'],
  ["block-key-kind-misspelt", "HTTP404.yaml", "    kind: Variable", "    knd: Variable", 'refuses'],
  ["block-key-exits-misspelt", "HTTP404.yaml", "    exits: { next: isNewTask }", "    exit: { next: isNewTask }", 'refuses'],
  ["block-key-title-misspelt", "HTTP404.yaml", "    title: Сохранить", "    titel: Сохранить", 'refuses'],
  ["start-param-misspelt", "BpiumNewTask.yaml", "    param: body", "    parm: body", 'refuses'],
  ["parser-document-misspelt", "BpiumNewTask.yaml", "    document: '[body]'", "    documnet: '[body]'", 'refuses'],
  ["parser-extract-item-key", "BpiumTaskChat.yaml", "      event: $.hook.event", "      event: { path: $.hook.event, requird: true }", 'refuses'],
  ["condition-operator-misspelt-key", "BpiumNewTask.yaml", "    operator: '='", "    operater: '='", 'refuses'],
  ["bpium-catalog-misspelt", "BpiumNewTask.yaml", "    catalog: '[usersCatalog]'", "    catalogue: '[usersCatalog]'", 'refuses'],
  ["sendmail-template-misspelt", "BpiumNewTask.yaml", "    template: bpium-new-task", "    templte: bpium-new-task", 'refuses'],
  ["dbquery-rowcount-case", "RecordNotification.yaml", "    rowCount: added", "    rowcount: added", 'refuses'],
  ["webrequest-headers-misspelt", "BpiumTaskChat.yaml", "    auth: { bearer: '[chatToken]' }", "    auth: { bearer: '[chatToken]' }\n    header: { X-A: '\"1\"' }", 'refuses'],
  ["webrequest-auth-key-misspelt", "BpiumTaskChat.yaml", "auth: { bearer: '[chatToken]' }", "auth: { barer: '[chatToken]' }", 'refuses'],
  ["asyncscenario-params-misspelt", "HTTP404.yaml", "    params:\n      1: '[body]'\n    exits: { next: acknowledge }", "    parameters:\n      1: '[body]'\n    exits: { next: acknowledge }", 'refuses'],
  ["returnvalue-values-misspelt", "HTTP404.yaml", "    values:\n      2: 200", "    value:\n      2: 200", 'refuses'],
  ["stop-property-unknown", "BpiumNewTask.yaml", "  done:\n    kind: ReturnValue", "  fin:\n    kind: Stop\n    returnControll: true\n  done:\n    kind: ReturnValue", 'refuses'],
  ["kind-misspelt", "HTTP404.yaml", "kind: Condition", "kind: Conditon", 'refuses'],
  ["kind-lowercase", "HTTP404.yaml", "kind: Condition", "kind: condition", 'refuses'],
  ["kind-oktell-name", "HTTP404.yaml", "kind: Variable", "kind: Присвоение", 'refuses'],
  ["kind-missing", "HTTP404.yaml", "    kind: ReturnValue\n", "", 'refuses'],
  ["kind-list", "HTTP404.yaml", "kind: Variable", "kind: [Variable]", 'refuses'],
  ["kind-number", "HTTP404.yaml", "kind: Variable", "kind: 5", 'refuses'],
  ["block-not-mapping", "HTTP404.yaml", "  acknowledge:\n    kind: ReturnValue\n    title: Ответ 200\n    values:\n      2: 200", "  acknowledge: ReturnValue", 'refuses'],
  ["blocks-as-list", "RecordNotification.yaml", "  begin:\n    kind: Start", "  - kind: Start", 'refuses'],
  ["blocks-missing", "HTTP404.yaml", "blocks:", "blocs:", 'refuses'],
  ["exit-name-unknown", "HTTP404.yaml", "exits: { next: isNewTask }", "exits: { nxt: isNewTask }", 'refuses'],
  ["exit-name-wrong-kind", "HTTP404.yaml", "exits: { next: isNewTask }", "exits: { success: isNewTask }", 'refuses'],
  ["exit-target-unknown", "HTTP404.yaml", "exits: { next: isNewTask }", "exits: { next: isNewTsk }", 'semantic'],
  ["exit-target-null", "HTTP404.yaml", "exits: { true: startTaskChat }", "exits: { true: startTaskChat, false: null }", 'accepts'],
  ["exit-target-number", "HTTP404.yaml", "exits: { next: isNewTask }", "exits: { next: 5 }", 'refuses'],
  ["exits-as-string", "HTTP404.yaml", "exits: { next: isNewTask }", "exits: isNewTask", 'refuses'],
  ["exits-as-list", "HTTP404.yaml", "exits: { next: isNewTask }", "exits: [ { next: isNewTask } ]", 'refuses'],
  ["stop-with-exit", "BpiumNewTask.yaml", "  done:\n    kind: ReturnValue", "  fin:\n    kind: Stop\n    exits: { next: done }\n  done:\n    kind: ReturnValue", 'refuses'],
  ["condition-exit-yes", "HTTP404.yaml", "exits: { true: startTaskChat }", "exits: { yes: startTaskChat }", 'refuses'],
  ["condition-exits-quoted", "HTTP404.yaml", "exits: { true: startTaskChat }", "exits: { \"true\": startTaskChat }", 'accepts'],
  ["condition-exit-True", "HTTP404.yaml", "exits: { true: startTaskChat }", "exits: { True: startTaskChat }", 'accepts'],
  ["start-unknown", "HTTP404.yaml", "start: saveRequest", "start: saveRequst", 'semantic'],
  ["start-number", "HTTP404.yaml", "start: saveRequest", "start: 5", 'refuses'],
  ["operator-bad", "BpiumNewTask.yaml", "    operator: '<'", "    operator: '=>'", 'refuses'],
  ["operator-word", "BpiumNewTask.yaml", "    operator: '<'", "    operator: lessThan", 'refuses'],
  ["operator-contains", "BpiumNewTask.yaml", "    operator: '<'", "    operator: contains", 'accepts'],
  ["async-mode-bad", "HTTP404.yaml", "    mode: async", "    mode: sync", 'refuses'],
  ["async-mode-case", "HTTP404.yaml", "    mode: async", "    mode: Async", 'refuses'],
  ["parser-mode-bad", "BpiumNewTask.yaml", "    mode: json", "    mode: jsonpath", 'refuses'],
  ["bpium-method-bad", "BpiumNewTask.yaml", "    method: getRecord", "    method: getRecords", 'refuses'],
  ["webrequest-method-lower", "BpiumTaskChat.yaml", "    method: POST", "    method: post", 'refuses'],
  ["webrequest-method-bad", "BpiumTaskChat.yaml", "    method: POST", "    method: SEND", 'refuses'],
  ["var-type-bad", "HTTP404.yaml", "address: { type: string,", "address: { type: text,", 'refuses'],
  ["var-short-type-bad", "RecordNotification.yaml", "  dbError: string", "  dbError: str", 'refuses'],
  ["var-short-type-int", "RecordNotification.yaml", "  dbError: string", "  dbError: integer", 'refuses'],
  ["var-type-missing", "HTTP404.yaml", "address: { type: string,", "address: {", 'refuses'],
  ["parser-function-bad", "BpiumTaskChat.yaml", "      event: $.hook.event", "      event: { path: $.hook.event, function: first }", 'refuses'],
  ["returncontrol-yes", "BpiumNewTask.yaml", "  done:\n    kind: ReturnValue", "  fin:\n    kind: Stop\n    returnControl: yes\n  done:\n    kind: ReturnValue", 'refuses'],
  ["returncontrol-string-true", "BpiumNewTask.yaml", "  done:\n    kind: ReturnValue", "  fin:\n    kind: Stop\n    returnControl: \"true\"\n  done:\n    kind: ReturnValue", 'refuses'],
  ["returncontrol-false", "BpiumNewTask.yaml", "  done:\n    kind: ReturnValue", "  fin:\n    kind: Stop\n    returnControl: false\n  done:\n    kind: ReturnValue", 'semantic'],
  ["cookies-yes", "BpiumTaskChat.yaml", "    idempotencyKey: true", "    idempotencyKey: yes", 'refuses'],
  ["idempotency-string", "BpiumTaskChat.yaml", "    idempotencyKey: true", "    idempotencyKey: \"true\"", 'refuses'],
  ["copyvariables-on", "HTTP404.yaml", "    mode: async", "    mode: async\n    copyVariables: on", 'refuses'],
  ["bpium-timeout-string", "BpiumNewTask.yaml", "    timeout: 10", "    timeout: \"10\"", 'refuses'],
  ["bpium-timeout-negative", "BpiumNewTask.yaml", "    timeout: 10", "    timeout: -5", 'refuses'],
  ["bpium-timeout-words", "BpiumNewTask.yaml", "    timeout: 10", "    timeout: 10s", 'refuses'],
  ["webrequest-timeout-string", "BpiumTaskChat.yaml", "    timeout: 10", "    timeout: \"10\"", 'refuses'],
  ["webrequest-timeout-zero", "BpiumTaskChat.yaml", "    timeout: 10", "    timeout: 0", 'refuses'],
  ["webrequest-maxredirects-string", "BpiumTaskChat.yaml", "    timeout: 10", "    timeout: 10\n    maxRedirects: \"3\"", 'refuses'],
  ["dbquery-maxrows-string", "RecordNotification.yaml", "    rowCount: added", "    rowCount: added\n    maxRows: \"5\"", 'refuses'],
  ["dbquery-maxrows-zero", "RecordNotification.yaml", "    rowCount: added", "    rowCount: added\n    maxRows: 0", 'refuses'],
  ["dbquery-maxrows-float", "RecordNotification.yaml", "    rowCount: added", "    rowCount: added\n    maxRows: 2.5", 'refuses'],
  ["dbquery-sql-number", "RecordNotification.yaml", "    sql: |\n      INSERT INTO notifications (task_id, employee_id, email, sent_at)\n      VALUES (:taskId, :employeeId, :email, :sentAt)\n      ON CONFLICT (task_id, employee_id) DO NOTHING", "    sql: 5", 'refuses'],
  ["dbquery-sql-empty", "RecordNotification.yaml", "    sql: |\n      INSERT INTO notifications (task_id, employee_id, email, sent_at)\n      VALUES (:taskId, :employeeId, :email, :sentAt)\n      ON CONFLICT (task_id, employee_id) DO NOTHING", "    sql: \"\"", 'refuses'],
  ["expr-number", "HTTP404.yaml", "      2: 200", "      2: 404", 'accepts'],
  ["expr-list", "HTTP404.yaml", "      2: 200", "      2: [200]", 'refuses'],
  ["expr-mapping", "HTTP404.yaml", "      2: 200", "      2: { code: 200 }", 'refuses'],
  ["expr-null", "HTTP404.yaml", "      2: 200", "      2:", 'refuses'],
  ["set-empty", "HTTP404.yaml", "    set:\n      address: InputParameter(1)\n      body: InputParameter(4)", "    set: {}", 'refuses'],
  ["set-list", "HTTP404.yaml", "    set:\n      address: InputParameter(1)\n      body: InputParameter(4)", "    set:\n      - address: InputParameter(1)", 'refuses'],
  ["title-number", "HTTP404.yaml", "    title: Ответ 200", "    title: 200", 'refuses'],
  ["description-top-list", "HTTP404.yaml", "description: Receives webhooks;", "description:\n  - Receives webhooks;", 'refuses'],
  ["var-initial-list", "BpiumNewTask.yaml", "usersCatalog: { type: string, initial: \"3\",", "usersCatalog: { type: string, initial: [3],", 'refuses'],
  ["var-initial-number", "BpiumNewTask.yaml", "usersCatalog: { type: string, initial: \"3\",", "usersCatalog: { type: string, initial: 3,", 'accepts'],
  ["var-secret-yes", "BpiumTaskChat.yaml", "chatToken: { type: string, env: OKTELL_CHAT_TOKEN,", "chatToken: { type: string, env: OKTELL_CHAT_TOKEN, secret: yes,", 'refuses'],
  ["var-env-bad", "BpiumTaskChat.yaml", "env: OKTELL_CHAT_TOKEN", "env: OKTELL-CHAT-TOKEN", 'refuses'],
  ["var-name-bracket", "RecordNotification.yaml", "  dbError: string", "  db[Error]: string", 'refuses'],
  ["returnvalue-slot-0", "HTTP404.yaml", "      2: 200", "      0: 200", 'refuses'],
  ["returnvalue-slot-100", "HTTP404.yaml", "      2: 200", "      100: 200", 'refuses'],
  ["returnvalue-slot-quoted", "HTTP404.yaml", "      2: 200", "      \"2\": 200", 'accepts'],
  ["returnvalue-slot-word", "HTTP404.yaml", "      2: 200", "      two: 200", 'refuses'],
  ["async-param-0", "HTTP404.yaml", "    params:\n      1: '[body]'\n    exits: { next: acknowledge }", "    params:\n      0: '[body]'\n    exits: { next: acknowledge }", 'refuses'],
  ["inputparameter-block", "RecordNotification.yaml", "  readParams:\n    kind: Variable\n    title: Сотрудник и адрес\n    set:\n      employeeId: InputParameter(2)\n      email: InputParameter(3)", "  readParams:\n    kind: InputParameter\n    params:\n      employeeId: 2\n      email: 3", 'accepts'],
  ["inputparameter-101", "RecordNotification.yaml", "  readParams:\n    kind: Variable\n    title: Сотрудник и адрес\n    set:\n      employeeId: InputParameter(2)\n      email: InputParameter(3)", "  readParams:\n    kind: InputParameter\n    params:\n      employeeId: 101\n      email: 3", 'refuses'],
  ["inputparameter-string", "RecordNotification.yaml", "  readParams:\n    kind: Variable\n    title: Сотрудник и адрес\n    set:\n      employeeId: InputParameter(2)\n      email: InputParameter(3)", "  readParams:\n    kind: InputParameter\n    params:\n      employeeId: \"2\"\n      email: 3", 'refuses'],
  ["condition-no-expression", "HTTP404.yaml", "    expression: Contains([address], \"/Bpium/NewTask\")\n", "", 'refuses'],
  ["condition-no-right", "BpiumNewTask.yaml", "    right: '[responsibleCount]'\n", "", 'refuses'],
  ["condition-both-forms", "BpiumNewTask.yaml", "    right: '[responsibleCount]'\n", "    right: '[responsibleCount]'\n    expression: '[i] < 3'\n", 'refuses'],
  ["parser-no-extract", "BpiumNewTask.yaml", "    extract:\n      event: $.hook.event\n      values: $.payload.values\n      taskCatalogId: $.payload.catalogId\n      taskRecordId: $.payload.recordId\n", "", 'refuses'],
  ["sendmail-no-to", "BpiumNewTask.yaml", "    to: '[userEmail]'\n", "", 'refuses'],
  ["async-no-scenario", "HTTP404.yaml", "    scenario: BpiumNewTask\n", "", 'refuses'],
  ["returnvalue-no-values", "HTTP404.yaml", "    values:\n      2: 200", "", 'refuses'],
  ["bpium-no-method", "BpiumNewTask.yaml", "    method: getRecord\n", "", 'refuses'],
  ["webrequest-no-url", "BpiumTaskChat.yaml", "    url: '[chatUrl]'\n", "", 'refuses'],
  ["unknown-variable", "HTTP404.yaml", "      body: InputParameter(4)", "      bodyy: InputParameter(4)", 'semantic'],
  ["bad-expression", "HTTP404.yaml", "expression: Contains([address], \"/Bpium/NewTask\")", "expression: Contains([address], \"/Bpium/NewTask\"", 'semantic'],
  ["unknown-scenario", "HTTP404.yaml", "    scenario: BpiumNewTask", "    scenario: BpiumNewTsk", 'semantic'],
  ["bad-jsonpath", "BpiumTaskChat.yaml", "      event: $.hook.event", "      event: $.hook[event", 'semantic'],
  ["duplicate-key", "HTTP404.yaml", "    title: Ответ 200", "    title: Ответ 200\n    title: again", 'refuses'],
  ["unreachable-block", "HTTP404.yaml", "exits: { next: acknowledge }\n\n  isTaskChat", "exits: { next: acknowledge }\n\n  orphan:\n    kind: ReturnValue\n    values: { 1: '\"x\"' }\n\n  isTaskChat", 'semantic'],
];
const TEST_FILE_ROWS: Row[] = [
  ["t-top-key-misspelt", "record-notification.test.yaml", "timeZone: Europe/Moscow", "timezone: Europe/Moscow", 'refuses'],
  ["t-cases-missing", "record-notification.test.yaml", "cases:", "case:", 'refuses'],
  ["t-cases-empty", "record-notification.test.yaml", "clock: 2026-11-28T09:00:00Z", "clock: 2026-11-28T09:00:00Z\ncases: []\nx:", 'refuses'],
  ["t-case-name-missing", "record-notification.test.yaml", "  - name: a first notification is recorded with the time it was sent\n    scenario", "  - scenario", 'refuses'],
  ["t-case-scenario-missing", "record-notification.test.yaml", "    scenario: RecordNotification\n    params: { 1: \"42\", 2: \"7\", 3: ivan.petrov@example.com }\n    expect:\n      returnValues: { 1: recorded }", "    params: { 1: \"42\", 2: \"7\", 3: ivan.petrov@example.com }\n    expect:\n      returnValues: { 1: recorded }", 'refuses'],
  ["t-expect-misspelt", "record-notification.test.yaml", "    expect:\n      returnValues: { 1: recorded }\n      dbCalls:", "    expct:\n      returnValues: { 1: recorded }\n      dbCalls:", 'refuses'],
  ["t-expect-key-misspelt", "record-notification.test.yaml", "returnValues: { 1: recorded }\n      dbCalls:", "returnValue: { 1: recorded }\n      dbCalls:", 'refuses'],
  ["t-status-bad", "task-chat.test.yaml", "    expect:\n      status: completed", "    expect:\n      status: complete", 'refuses'],
  ["t-param-0", "record-notification.test.yaml", "params: { 1: \"42\", 2: \"7\", 3: ivan", "params: { 0: \"42\", 2: \"7\", 3: ivan", 'refuses'],
  ["t-param-word", "record-notification.test.yaml", "params: { 1: \"42\", 2: \"7\", 3: ivan", "params: { first: \"42\", 2: \"7\", 3: ivan", 'refuses'],
  ["t-param-number-value", "record-notification.test.yaml", "params: { 1: \"42\", 2: \"7\", 3: ivan", "params: { 1: 42, 2: \"7\", 3: ivan", 'accepts'],
  ["t-param-list-value", "record-notification.test.yaml", "params: { 1: \"42\", 2: \"7\", 3: ivan", "params: { 1: [42], 2: \"7\", 3: ivan", 'refuses'],
  ["t-dbcall-key-misspelt", "record-notification.test.yaml", "          status: ok\n          rowCount: 1", "          status: ok\n          rowcount: 1", 'refuses'],
  ["t-dbcall-rowcount-string", "record-notification.test.yaml", "          status: ok\n          rowCount: 1", "          status: ok\n          rowCount: \"1\"", 'refuses'],
  ["t-matcher-misspelt", "task-chat.test.yaml", "{ contains: \"malformed webhook: \" }", "{ contain: \"malformed webhook: \" }", 'refuses'],
  ["t-matcher-two-keys", "task-chat.test.yaml", "{ contains: \"malformed webhook: \" }", "{ contains: \"malformed\", equals: x }", 'refuses'],
  ["t-matches-number", "task-chat.test.yaml", "{ contains: \"malformed webhook: \" }", "{ matches: 5 }", 'refuses'],
  ["t-clock-bad", "record-notification.test.yaml", "clock: 2026-11-28T09:00:00Z", "clock: tomorrow", 'refuses'],
  ["t-clock-object-misspelt", "record-notification.test.yaml", "clock: 2026-11-28T09:00:00Z", "clock: { start: 2026-11-28T09:00:00Z, read: [] }", 'refuses'],
  ["t-maxeffects-string", "record-notification.test.yaml", "timeZone: Europe/Moscow", "timeZone: Europe/Moscow\nmaxEffects: \"10\"", 'refuses'],
  ["t-maxeffects-zero", "record-notification.test.yaml", "timeZone: Europe/Moscow", "timeZone: Europe/Moscow\nmaxEffects: 0", 'refuses'],
  ["t-http-fixture-misspelt", "task-chat.test.yaml", "        status: 201\n        json: { id: m-1 }", "        stauts: 201\n        json: { id: m-1 }", 'refuses'],
  ["t-http-status-string", "task-chat.test.yaml", "        status: 201\n        json: { id: m-1 }", "        status: \"201\"\n        json: { id: m-1 }", 'refuses'],
  ["t-variables-list", "task-chat.test.yaml", "variables: { chatUrl: \"https://chat.example.ru/api/messages\", chatToken: t0ken }", "variables: [chatUrl]", 'refuses'],
  ["t-variables-bool", "task-chat.test.yaml", "variables: { chatUrl: \"https://chat.example.ru/api/messages\", chatToken: t0ken }", "variables: { chatUrl: \"https://chat.example.ru/api/messages\", chatToken: yes }", 'accepts'],
  ["t-db-connection-bad", "record-notification.test.yaml", "    db:\n      main: |", "    db:\n      1main: |", 'refuses'],
  ["t-tables-rows", "record-notification.test.yaml", "      returnValues: { 1: recorded }\n      dbCalls:", "      returnValues: { 1: recorded }\n      tables: { main: { notifications: [ { task_id: \"42\" } ] } }\n      dbCalls:", 'accepts'],
  ["t-tables-query-misspelt", "record-notification.test.yaml", "      returnValues: { 1: recorded }\n      dbCalls:", "      returnValues: { 1: recorded }\n      tables: { main: { mine: { qury: \"SELECT 1\", rows: [] } } }\n      dbCalls:", 'refuses'],
  ["t-asyncstarted-misspelt", "task-chat.test.yaml", "        - scenario: BpiumTaskChat\n          result:", "        - scenario: BpiumTaskChat\n          results:", 'refuses'],
  ["t-path-string", "task-chat.test.yaml", "path: [begin, isConfigured, parseWebhook, malformed]", "path: begin", 'refuses'],
  ["t-returnvalues-0", "task-chat.test.yaml", "returnValues: { 1: posted to chat }", "returnValues: { 0: posted to chat }", 'accepts'],
  ["t-edges", "task-chat.test.yaml", "path: [begin, isConfigured, parseWebhook, malformed]", "path: { edges: { first: [begin], length: 4 } }", 'accepts'],
  ["t-edges-misspelt", "task-chat.test.yaml", "path: [begin, isConfigured, parseWebhook, malformed]", "path: { edges: { frist: [begin] } }", 'refuses'],
];

const scenarioSchema = buildScenarioJsonSchema(defaultRegistry);
const testFileSchema = buildTestFileJsonSchema();

describe('the scenario JSON Schema in editors\' hovers', () => {
  it('describes every property of every kind, and the kind itself', () => {
    const blocks = (scenarioSchema.properties as { blocks: { additionalProperties: { allOf: Array<{ title: string; then: Json }> } } }).blocks.additionalProperties.allOf;
    const undescribed: string[] = [];
    for (const variant of blocks) {
      for (const form of (variant.then.anyOf as Json[] | undefined) ?? [variant.then]) {
        for (const [name, p] of Object.entries(form.properties as Json)) if (!(p as Json).description) undescribed.push(`${variant.title}: ${name}`);
      }
    }
    assert.deepEqual(undescribed, []);
  });
});

describe('the JSON Schemas, read as the YAML language server reads them', () => {
  it('accept every shipped scenario and test file', () => {
    for (const f of readdirSync(repoPath('scenarios')).filter((n) => n.endsWith('.yaml'))) {
      assert.deepEqual(schemaProblems(scenarioSchema, readFileSync(repoPath('scenarios', f), 'utf8')), [], f);
    }
    for (const f of readdirSync(repoPath('scenarios', 'tests')).filter((n) => n.endsWith('.test.yaml'))) {
      assert.deepEqual(schemaProblems(testFileSchema, readFileSync(repoPath('scenarios', 'tests', f), 'utf8')), [], f);
    }
  });

  it('accept the docs\' complete example scenario and their test-file example', () => {
    const format = readFileSync(repoPath('docs', 'scenario-format.md'), 'utf8');
    const files = [...format.matchAll(/```yaml\n# file: ([\w-]+\.yaml)\n([\s\S]*?)```/g)];
    assert.ok(files.length >= 1);
    for (const [, name, body] of files) assert.deepEqual(schemaProblems(scenarioSchema, body!), [], name);
    const testing = readFileSync(repoPath('docs', 'testing-scenarios.md'), 'utf8');
    const examples = [...testing.matchAll(/```yaml\n(# yaml-language-server: \$schema=[^\n]*scenario-test\.schema\.json\n[\s\S]*?)```/g)];
    assert.ok(examples.length >= 1);
    for (const [, body] of examples) assert.deepEqual(schemaProblems(testFileSchema, body!), []);
  });

  it('judge each mutated scenario as validate does', async () => {
    const tmp = tempDir();
    try {
      cpSync(repoPath('scenarios'), tmp.dir, { recursive: true });
      const wrong: string[] = [];
      for (const row of SCENARIO_ROWS) {
        const [id, base, , , verdict] = row;
        const original = readFileSync(repoPath('scenarios', base), 'utf8');
        const text = mutated(original, row);
        writeFileSync(join(tmp.dir, base), text);
        const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
        writeFileSync(join(tmp.dir, base), original);
        const loader = lib.issues.filter((i) => i.file.endsWith(base)).map((i) => `${i.code} ${i.message}`);
        const editor = schemaProblems(scenarioSchema, text);
        const expected = { accepts: [false, false], refuses: [true, true], semantic: [true, false] }[verdict];
        if (loader.length > 0 !== expected[0] || editor.length > 0 !== expected[1]) wrong.push(`${id} (${verdict}): validate ${JSON.stringify(loader)}, editor ${JSON.stringify(editor)}`);
      }
      assert.deepEqual(wrong, []);
    } finally {
      tmp.cleanup();
    }
  });

  it('judge each mutated test file as test does', () => {
    const tmp = tempDir();
    try {
      cpSync(repoPath('scenarios'), tmp.dir, { recursive: true });
      const wrong: string[] = [];
      for (const row of TEST_FILE_ROWS) {
        const [id, base, , , verdict] = row;
        const text = mutated(readFileSync(repoPath('scenarios', 'tests', base), 'utf8'), row);
        const path = join(tmp.dir, 'tests', `${id}.test.yaml`);
        writeFileSync(path, text);
        const load = loadTestFile(path, tmp.dir);
        const loader = (load.ok ? load.file.issues : load.issues).map((i) => `${i.code} ${i.message}`);
        const editor = schemaProblems(testFileSchema, text);
        const expected = { accepts: [false, false], refuses: [true, true], semantic: [true, false] }[verdict];
        if (loader.length > 0 !== expected[0] || editor.length > 0 !== expected[1]) wrong.push(`${id} (${verdict}): test ${JSON.stringify(loader)}, editor ${JSON.stringify(editor)}`);
      }
      assert.deepEqual(wrong, []);
    } finally {
      tmp.cleanup();
    }
  });
});
