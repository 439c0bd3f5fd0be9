// Variables whose initial value comes from the environment or a file, and secret variables: how they load, what
// validation says about them, and what a run records of them (the masked value) while its blocks use the real one.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { createOutboxMailer, listOutbox } from '../../adapters/mail/outbox.adapter.js';
import { createTemplateRenderer } from '../../adapters/mail/templates.js';
import { defaultRegistry } from '../../components/registry.js';
import { answerValues, fixedClock, loadScenarioLibrary, loadScenarioText, randomIds, runScenario, variableSourceWarnings, type AsyncStartRequest, type EnginePorts, type LoadOptions, type Scenario, type ScenarioLibrary } from '../../engine/index.js';
import { tempDir } from '../helpers.js';

function load(text: string, env: Record<string, string> = {}, name = 'Sec'): ReturnType<typeof loadScenarioText> {
  const opts: LoadOptions = { registry: defaultRegistry, env };
  return loadScenarioText(`scenarios/${name}.yaml`, text, opts);
}

function loaded(text: string, env: Record<string, string> = {}, name = 'Sec'): Scenario {
  const r = load(text, env, name);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  return r.scenario;
}

const TOKEN = 'ZEBRA-ENGINE-77aa';

/** Builds a header text from the secret, keeps it, returns it, and starts Child (which declares `tok` and `header`). */
const SEC = `variables:
  tok: { type: string, env: SEC_TOKEN }
  header: string
start: build
blocks:
  build:
    kind: Variable
    set: { header: '"Bearer " + [tok]' }
    exits: { next: child }
  child:
    kind: AsyncScenario
    scenario: Child
    exits: { next: answer }
  answer:
    kind: ReturnValue
    values: { 1: '"sent " + Len([tok])' }
`;
const CHILD = `variables: { tok: string, header: string }
start: r
blocks:
  r: { kind: ReturnValue, values: { 1: '[tok]' } }
`;

describe('a variable from the environment', () => {
  it('takes the environment variable as its initial value, converted to its type, and is secret by default', () => {
    const s = loaded(`variables:\n  tok: { type: string, env: SEC_TOKEN }\n  port: { type: number, env: SEC_PORT, secret: false }\n  plain: string\nstart: r\nblocks:\n  r: { kind: ReturnValue, values: { 1: '[tok]' } }\n`, { SEC_TOKEN: TOKEN, SEC_PORT: '8080' });
    assert.equal(s.variables.get('tok')!.initial, TOKEN);
    assert.equal(s.variables.get('tok')!.secret, true);
    assert.equal(s.variables.get('port')!.initial, 8080);
    assert.equal(s.variables.get('port')!.secret, undefined);
    assert.equal(s.variables.get('plain')!.secret, undefined);
    assert.deepEqual(variableSourceWarnings(s), []);
  });

  it('not set: starts empty with a warning naming file:line:col, or with its initial: as the chosen fallback, silently', () => {
    const s = loaded(`variables:\n  tok: { type: string, env: SEC_TOKEN }\n  url: { type: string, env: SEC_URL, initial: "none" }\nstart: r\nblocks:\n  r: { kind: ReturnValue, values: { 1: '[tok] + [url]' } }\n`);
    assert.equal(s.variables.get('tok')!.initial, '');
    assert.equal(s.variables.get('url')!.initial, 'none');
    assert.deepEqual(variableSourceWarnings(s), [
      'scenarios/Sec.yaml:2:3: variable tok takes its value from environment variable SEC_TOKEN, which is not set: it starts empty (set it, or give the declaration an initial: to make that the intended fallback)',
    ]);
  });

  it('set but blank: the warning says "is blank", not "is not set", so nobody looks for a variable that is there', () => {
    for (const blank of ['', '   ', '\t']) {
      const s = loaded(`variables:\n  tok: { type: string, env: SEC_TOKEN }\nstart: r\nblocks:\n  r: { kind: ReturnValue, values: { 1: '[tok]' } }\n`, { SEC_TOKEN: blank });
      assert.equal(s.variables.get('tok')!.initial, '');
      assert.deepEqual(variableSourceWarnings(s), [
        'scenarios/Sec.yaml:2:3: variable tok takes its value from environment variable SEC_TOKEN, which is blank: it starts empty (set it, or give the declaration an initial: to make that the intended fallback)',
      ], JSON.stringify(blank));
    }
  });

  it('a file: its text without the final line break; an unreadable one is warned about like an unset variable', () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'token');
      writeFileSync(file, `${TOKEN}\n`);
      const s = loaded(`variables:\n  tok: { type: string, file: ${file} }\n  gone: { type: string, file: ${file}-missing }\nstart: r\nblocks:\n  r: { kind: ReturnValue, values: { 1: '[tok] + [gone]' } }\n`);
      assert.equal(s.variables.get('tok')!.initial, TOKEN);
      assert.equal(s.variables.get('tok')!.secret, true);
      assert.match(variableSourceWarnings(s).join('\n'), new RegExp(`^scenarios/Sec\\.yaml:3:3: variable gone takes its value from file ${file}-missing, which cannot be read: it starts empty`));
    } finally {
      tmp.cleanup();
    }
  });

  it('problems are reported at their place, and a value that does not fit is not quoted', () => {
    const r = load(`variables:\n  n: { type: number, env: SEC_N }\n  bad: { type: string, env: "not a name" }\n  both: { type: string, env: A, file: /x }\n  flag: { type: string, secret: "yes" }\n  typo: { type: string, enf: A }\nstart: r\nblocks:\n  r: { kind: ReturnValue, values: { 1: '[n]' } }\n`, { SEC_N: 'ZEBRA-NOT-A-NUMBER' });
    assert.ok(!r.ok);
    const issues = r.issues.map((i) => `${i.line}:${i.col} ${i.code} ${i.message}`);
    assert.deepEqual(issues, [
      '2:27 E_INVALID_VARIABLE the value of environment variable SEC_N does not fit variable "n" (number)',
      '3:29 E_INVALID_VARIABLE "env" of variable "bad" must be the name of an environment variable',
      '4:33 E_INVALID_VARIABLE variable "both" has both "env" and "file"',
      '5:33 E_INVALID_VARIABLE "secret" of variable "flag" must be true or false',
      '6:25 E_UNKNOWN_KEY unknown key "enf" in variable "typo"',
    ]);
    assert.ok(!JSON.stringify(r.issues).includes('ZEBRA'), 'the value is in no message');
    assert.match(r.issues[4]!.hint ?? '', /did you mean "env"\?/);
  });

  it('a secret written in the file is warned about: the console shows the file', () => {
    const s = loaded(`variables:\n  pw: { type: string, initial: "hunter22", secret: true }\nstart: r\nblocks:\n  r: { kind: ReturnValue, values: { 1: '[pw]' } }\n`);
    assert.match(variableSourceWarnings(s)[0]!, /^scenarios\/Sec\.yaml:2:3: secret variable pw has its value written in the scenario file/);
  });
});

describe('a run with a secret variable', () => {
  it('uses the value, records *** for it and for the texts made from it, and does not copy it to an async start (a text made from it is copied, named as carrying it)', async () => {
    const library: ScenarioLibrary = {
      dir: 'scenarios',
      scenarios: new Map([
        ['Sec', loaded(SEC, { SEC_TOKEN: TOKEN })],
        ['Child', loaded(CHILD, {}, 'Child')],
      ]),
      issues: [],
    };
    const starts: AsyncStartRequest[] = [];
    const ports: EnginePorts = { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async (req) => (starts.push(req), { runId: 'child-1' }) } };
    const r = await runScenario(library, 'Sec', { dryRun: true, ports });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    // The block used the value (its length); the return value holds no secret text and is kept as it is.
    assert.equal(r.returnValues['1'], `sent ${TOKEN.length}`);
    assert.deepEqual(r.variables, { tok: '***', header: 'Bearer ***' });
    assert.deepEqual(r.trace[0]!.changed, { header: 'Bearer ***' });
    assert.ok(!JSON.stringify(r).includes(TOKEN), JSON.stringify(r));
    // The secret stays in this run; the plain variable made from it is copied, masked nowhere but in the record.
    assert.equal(starts.length, 1);
    assert.deepEqual(Object.keys(starts[0]!.variables ?? {}).sort(), ['header']);
    assert.equal(starts[0]!.variables!.header, `Bearer ${TOKEN}`);
    // …and named as carrying a secret, so the started run masks it in its own record.
    assert.deepEqual(starts[0]!.carriesSecret, { variables: ['header'] });
  });

  // Texts an expression computes from a secret: masked when they carry its text in another form, kept when they only
  // tell something about it or are a text written in the expression.
  const DERIVED: { name: string; expr: string; value: string; masked: boolean }[] = [
    { name: 'upper-cased', expr: 'Upper([tok])', value: TOKEN.toUpperCase(), masked: true },
    { name: 'lower-cased', expr: 'Lower([tok])', value: TOKEN.toLowerCase(), masked: true },
    { name: 'cut', expr: 'SubStr([tok], 0, 8)', value: TOKEN.slice(0, 8), masked: true },
    { name: 'replaced in', expr: 'Replace([tok], "-", ":")', value: TOKEN.replace(/-/g, ':'), masked: true },
    { name: 'escaped and joined', expr: '"key=" + UrlEncode(Lower([tok]))', value: `key=${encodeURIComponent(TOKEN.toLowerCase())}`, masked: true },
    { name: 'chosen by If from it', expr: 'If(IsEmpty([tok]), "", Upper([tok]))', value: TOKEN.toUpperCase(), masked: true },
    { name: 'its length', expr: '"length " + Len([tok])', value: `length ${TOKEN.length}`, masked: false },
    { name: 'a yes/no about it, as text', expr: 'Str(Contains([tok], "ZEBRA")) + " found"', value: 'true found', masked: false },
    { name: 'a text written in the expression', expr: 'If(IsEmpty([tok]), "empty", "present")', value: 'present', masked: false },
    // A changed copy beside the secret as it is: the changed one must not stay readable next to the masked one.
    { name: 'changed and joined to itself', expr: 'Upper([tok]) + [tok]', value: TOKEN.toUpperCase() + TOKEN, masked: true },
    { name: 'cut and joined to itself', expr: 'SubStr([tok], 0, 8) + "/" + [tok]', value: `${TOKEN.slice(0, 8)}/${TOKEN}`, masked: true },
  ];
  for (const c of DERIVED) {
    it(`a text computed from the secret (${c.name}) is ${c.masked ? 'masked' : 'kept'} in the record, and used as computed`, async () => {
      const text = `variables:\n  tok: { type: string, env: SEC_TOKEN }\n  out: string\nstart: v\nblocks:\n  v:\n    kind: Variable\n    set: { out: '${c.expr}' }\n    exits: { next: r }\n  r: { kind: ReturnValue, values: { 1: '[out]', 2: '"got " + [out]' } }\n`;
      const library: ScenarioLibrary = { dir: 'scenarios', scenarios: new Map([['Sec', loaded(text, { SEC_TOKEN: TOKEN })]]), issues: [] };
      const r = await runScenario(library, 'Sec', { dryRun: true, ports: { clock: fixedClock(new Date()), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } } });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      const shown = c.masked ? '***' : c.value;
      assert.deepEqual(r.trace[0]!.changed, { out: shown });
      assert.deepEqual(r.variables, { tok: '***', out: shown });
      assert.deepEqual(r.returnValues, { 1: shown, 2: `got ${shown}` });
      if (c.masked) assert.ok(!JSON.stringify(r).includes(c.value), JSON.stringify(r));
      // The caller's answer has the values as computed.
      assert.deepEqual(answerValues(r), { 1: c.value, 2: `got ${c.value}` });
    });
  }

  // Parts a Parser takes out of a secret document: masked like the document, which is searched for only as a whole.
  const CREDS = JSON.stringify({ user: 'svc-robot', key: 'KEY-77aa-QUOKKA', tries: 3 });
  const TAKEN: { name: string; mode: 'json' | 'regex'; document: string; query: string; value: string | number; masked: boolean }[] = [
    { name: 'a JSONPath value', mode: 'json', document: '[creds]', query: '$.key', value: 'KEY-77aa-QUOKKA', masked: true },
    { name: 'all matches of a JSONPath', mode: 'json', document: '[creds]', query: "{ path: '$.user', function: all }", value: '["svc-robot"]', masked: true },
    { name: 'a regex group', mode: 'regex', document: '[creds]', query: '"\\"key\\":\\"([^\\"]+)"', value: 'KEY-77aa-QUOKKA', masked: true },
    { name: 'from a text joined to the secret', mode: 'json', document: '«{"wrapped": » + [creds] + "}"', query: '$.wrapped.user', value: 'svc-robot', masked: true },
    { name: 'a count of matches', mode: 'json', document: '[creds]', query: "{ path: '$.*', function: count }", value: 3, masked: false },
    { name: 'a value of a document with no secret', mode: 'json', document: '[plain]', query: '$.key', value: 'KEY-77aa-QUOKKA', masked: false },
  ];
  for (const c of TAKEN) {
    it(`a Parser's extraction from a secret document (${c.name}) is ${c.masked ? 'masked' : 'kept'} in the record, and used as taken`, async () => {
      const type = typeof c.value === 'number' ? 'number' : 'string';
      const text = `variables:\n  creds: { type: string, env: SEC_CREDS }\n  plain: { type: string, initial: '{"key": "KEY-77aa-QUOKKA"}' }\n  out: ${type}\nstart: p\nblocks:\n  p:\n    kind: Parser\n    mode: ${c.mode}\n    document: '${c.document.replace(/'/g, "''")}'\n    extract:\n      out: ${c.query}\n    exits: { success: r, error: r }\n  r: { kind: ReturnValue, values: { 1: '[out]' } }\n`;
      const library: ScenarioLibrary = { dir: 'scenarios', scenarios: new Map([['Sec', loaded(text, { SEC_CREDS: CREDS })]]), issues: [] };
      const r = await runScenario(library, 'Sec', { dryRun: true, ports: { clock: fixedClock(new Date()), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } } });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.deepEqual(answerValues(r), { 1: c.value });
      const shown = c.masked ? '***' : c.value;
      assert.deepEqual(r.trace[0]!.changed, { out: shown });
      assert.deepEqual(r.returnValues, { 1: shown });
      if (c.masked) assert.ok(!JSON.stringify(r).includes(String(c.value)), JSON.stringify(r));
    });
  }

  it('a started run masks what it computes from a parameter that carries a secret, read with InputParameter(n)', async () => {
    const child = loaded(`variables:\n  out: string\nstart: v\nblocks:\n  v:\n    kind: Variable\n    set: { out: 'Upper(InputParameter(1)) + " / " + InputParameter(2)' }\n    exits: { next: r }\n  r: { kind: ReturnValue, values: { 1: '[out]', 2: 'Lower(InputParameter(1 + 1))' } }\n`, {}, 'Child');
    const library: ScenarioLibrary = { dir: 'scenarios', scenarios: new Map([['Child', child]]), issues: [] };
    const ports = { clock: fixedClock(new Date()), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } };
    const r = await runScenario(library, 'Child', { dryRun: true, params: { 1: `tok=${TOKEN}`, 2: 'PLAIN' }, carriesSecret: { params: ['1'] }, ports });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.ok(!JSON.stringify(r).toUpperCase().includes(TOKEN.toUpperCase()), JSON.stringify(r));
    // Parameter 2 carries no secret, but InputParameter(1 + 1) could be any: masked, rather than shown.
    assert.deepEqual(r.returnValues, { 1: '***', 2: '***' });
    assert.deepEqual(answerValues(r), { 1: `TOK=${TOKEN.toUpperCase()} / PLAIN`, 2: 'plain' });
    // Without the mark, the same run shows what it computed.
    const plain = await runScenario(library, 'Child', { dryRun: true, params: { 1: 'tok=nothing-secret', 2: 'PLAIN' }, ports });
    assert.deepEqual(plain.returnValues, { 1: 'TOK=NOTHING-SECRET / PLAIN', 2: 'plain' });
  });

  it('a secret set during the run (secret: true, no source) is masked where it is set', async () => {
    const s = loaded(`variables:\n  pw: { type: string, secret: true }\nstart: v\nblocks:\n  v:\n    kind: Variable\n    set: { pw: '"hunter" + "2207"' }\n    exits: { next: r }\n  r: { kind: ReturnValue, values: { 1: 'Len([pw])' } }\n`);
    const library: ScenarioLibrary = { dir: 'scenarios', scenarios: new Map([['Sec', s]]), issues: [] };
    const r = await runScenario(library, 'Sec', { dryRun: true, ports: { clock: fixedClock(new Date()), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } } });
    assert.equal(r.returnValues['1'], 10);
    assert.deepEqual(r.trace[0]!.changed, { pw: '***' });
    assert.deepEqual(r.variables, { pw: '***' });
  });
});

// Letters rendered from a nunjucks template that reads a secret: the letter carries what the template made of it, and
// the run's record (what the store keeps and `show`, the console and `run --json` display) does not. A part that
// prints the secret as it is is masked at the secret; one that changes it (a filter, HTML escaping, a `set` block) is
// masked whole, as the changed text is not found by looking for the secret; a part that only tests it is kept.
describe('a letter rendered from a template that reads a secret', () => {
  const PLAIN_SECRET = 'ZEBRA-TEMPLATE-77aa';
  const HTML_SECRET = 'ZEBRA&<77aa>"q';
  const MAILED: Array<{ name: string; parts: { subject?: string; text?: string; html?: string }; files?: Record<string, string>; secret?: string; recorded: { subject?: string; text?: string; html?: string }; sent: { subject?: string; text?: string; html?: string } }> = [
    { name: 'printed as it is', parts: { text: 'Key: {{ tok }}.' }, recorded: { text: 'Key: ***.' }, sent: { text: `Key: ${PLAIN_SECRET}.` } },
    { name: 'upper-cased by a filter', parts: { text: 'Key: {{ tok | upper }}' }, recorded: { text: '***' }, sent: { text: `Key: ${PLAIN_SECRET.toUpperCase()}` } },
    { name: 'cut by a filter', parts: { text: 'Key: {{ tok | truncate(9) }}' }, recorded: { text: '***' }, sent: { text: `Key: ${PLAIN_SECRET.slice(0, 9)}...` } },
    { name: 'replaced in', parts: { text: '{{ tok | replace("-", ":") }}' }, recorded: { text: '***' }, sent: { text: PLAIN_SECRET.replace(/-/g, ':') } },
    { name: 'printed as it is and lower-cased', parts: { text: '{{ tok }} / {{ tok | lower }}' }, recorded: { text: '***' }, sent: { text: `${PLAIN_SECRET} / ${PLAIN_SECRET.toLowerCase()}` } },
    { name: 'captured by a set block, then changed', parts: { text: '{% set s %}{{ tok }}{% endset %}{{ s | upper }}' }, recorded: { text: '***' }, sent: { text: PLAIN_SECRET.toUpperCase() } },
    { name: 'in the subject, upper-cased', parts: { subject: 'Key {{ tok | upper }}', text: 'see the subject' }, recorded: { subject: '***', text: 'see the subject' }, sent: { subject: `Key ${PLAIN_SECRET.toUpperCase()}`, text: 'see the subject' } },
    { name: 'HTML-escaped by the html part', parts: { html: '<p>{{ tok }}</p>' }, secret: HTML_SECRET, recorded: { html: '***' }, sent: { html: '<p>ZEBRA&amp;&lt;77aa&gt;&quot;q</p>' } },
    { name: 'in the html part, nothing to escape', parts: { html: '<p>{{ tok }}</p>' }, recorded: { html: '<p>***</p>' }, sent: { html: `<p>${PLAIN_SECRET}</p>` } },
    { name: 'a text built from it by an expression, upper-cased by a filter', parts: { text: '{{ header | upper }}' }, recorded: { text: '***' }, sent: { text: `BEARER ${PLAIN_SECRET.toUpperCase()}` } },
    { name: 'upper-cased in an included template', parts: { text: 'Key: {% include "foot.njk" %}' }, files: { 'foot.njk': '{{ tok | upper }}' }, recorded: { text: '***' }, sent: { text: `Key: ${PLAIN_SECRET.toUpperCase()}` } },
    { name: 'printed by a template it extends', parts: { text: '{% extends "base.njk" %}{% block k %}-{% endblock %}' }, files: { 'base.njk': 'Key {{ tok | lower }} {% block k %}{% endblock %}' }, recorded: { text: '***' }, sent: { text: `Key ${PLAIN_SECRET.toLowerCase()} -` } },
    { name: 'only tested', parts: { text: '{% if tok %}configured{% else %}missing{% endif %}' }, recorded: { text: 'configured' }, sent: { text: 'configured' } },
    { name: 'not read', parts: { text: 'Hello {{ name | upper }}' }, recorded: { text: 'Hello ANNA' }, sent: { text: 'Hello ANNA' } },
  ];
  const SCENARIO = `variables:
  tok: { type: string, env: SEC_TOKEN }
  name: { type: string, initial: "Anna" }
  header: string
start: build
blocks:
  build:
    kind: Variable
    set: { header: '"Bearer " + [tok]' }
    exits: { next: mail }
  mail:
    kind: SendMail
    to: '"ops@example.ru"'
    subject: '"Settings"'
    template: t
    exits: { success: done, error: done }
  done: { kind: ReturnValue, values: { 1: '"ok"' } }
`;
  for (const c of MAILED) {
    it(`${c.name}: the letter has it as rendered, the run's record ${JSON.stringify(c.recorded)}`, async () => {
      const tmp = tempDir();
      try {
        const secret = c.secret ?? PLAIN_SECRET;
        mkdirSync(join(tmp.dir, 'scenarios', 'templates'), { recursive: true });
        // The subject comes from the template when it has one, else from the block's expression.
        writeFileSync(join(tmp.dir, 'scenarios', 'Sec.yaml'), c.parts.subject ? SCENARIO.replace(`    subject: '"Settings"'\n`, '') : SCENARIO);
        for (const [part, text] of Object.entries(c.parts)) writeFileSync(join(tmp.dir, 'scenarios', 'templates', `t.${part}.njk`), text);
        for (const [file, text] of Object.entries(c.files ?? {})) writeFileSync(join(tmp.dir, 'scenarios', 'templates', file), text);
        const templates = createTemplateRenderer({ dir: join(tmp.dir, 'scenarios', 'templates'), timeZone: 'UTC' });
        const library = await loadScenarioLibrary(join(tmp.dir, 'scenarios'), { registry: defaultRegistry, templates, env: { SEC_TOKEN: secret } });
        assert.deepEqual(library.issues, []);
        const outbox = join(tmp.dir, 'outbox');
        const mailer = createOutboxMailer({ dir: outbox, from: 'robot@example.ru' });
        const r = await runScenario(library, 'Sec', { trace: true, ports: { templates, mailer, clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } } });
        assert.equal(r.status, 'completed', JSON.stringify(r.error));

        // The letter as sent: what the template made of the secret.
        const [entry] = await listOutbox(outbox);
        const letter = await simpleParser(readFileSync(entry!.file));
        // The parts the template has (mailparser makes a text of an html-only letter too).
        const parts = { subject: letter.subject ?? '', text: (letter.text ?? '').trimEnd(), html: String(letter.html || '').trimEnd() };
        assert.deepEqual(Object.fromEntries(['subject', ...Object.keys(c.sent)].map((k) => [k, parts[k as keyof typeof parts]])), { subject: 'Settings', ...c.sent });

        // The record: the letter's parts, the step's effect; and no copy of the secret or of its changed forms anywhere.
        const m = r.mails[0]!;
        assert.deepEqual({ subject: m.subject, ...(m.text !== undefined ? { text: m.text } : {}), ...(m.html !== undefined ? { html: m.html } : {}) }, { subject: 'Settings', ...c.recorded });
        const record = JSON.stringify(r);
        const changed = Object.values(c.sent).filter((v) => !Object.values(c.recorded).includes(v));
        for (const form of [secret, secret.toUpperCase(), ...changed]) assert.ok(!record.includes(form), `${form} in ${record}`);
      } finally {
        tmp.cleanup();
      }
    });
  }
});
