// The console's parts on their own: the flowchart layout and its cache, the path marks, the variables after each
// step, the YAML colouring, CSRF tokens and the outbox letter reader.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createOutboxMailer } from '../../adapters/mail/index.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText, type Scenario } from '../../engine/index.js';
import { createCsrf } from '../../server/console/console-security.js';
import { parseLetter } from '../../server/console/eml-reader.js';
import { jobRow } from '../../server/console/run.routes.js';
import { runView } from '../../server/console/run-view.js';
import { diagramOf, layoutScenario, markDiagram, pathMarks, START_NODE, wrapText } from '../../server/console/scenario-graph.js';
import { yamlTokens } from '../../server/console/scenario-pages.js';
import { repoPath, tempDir } from '../helpers.js';

function loadRepoScenario(name: string): Scenario {
  const r = loadScenarioText(`${name}.yaml`, readFileSync(repoPath('scenarios', `${name}.yaml`), 'utf8'), { registry: defaultRegistry });
  assert.ok(r.ok, `${name} loads`);
  return r.scenario;
}

describe('scenario diagram', () => {
  const s = loadRepoScenario('BpiumNewTask');

  it('has a node per block with its title and kind, and a start dot', () => {
    const d = layoutScenario(s);
    assert.deepEqual(new Set(d.nodes.filter((n) => n.shape !== 'end').map((n) => n.id)), new Set([START_NODE, ...s.blocks.keys()]));
    const getUser = d.nodes.find((n) => n.id === 'getUser')!;
    assert.deepEqual(getUser.titleLines, ['Получить e-mail', 'сотрудника']);
    assert.equal(getUser.sub, 'Bpium · getUser');
    assert.equal(getUser.group, 'effect');
    // Every kind with side effects gets the effect band, the blocks added after the article's too.
    const groupOf = (scenario: string, block: string) => layoutScenario(loadRepoScenario(scenario)).nodes.find((n) => n.id === block)?.group;
    assert.equal(groupOf('BpiumTaskChat', 'post'), 'effect'); // WebRequest
    assert.equal(groupOf('RecordNotification', 'record'), 'effect'); // DbQuery
    assert.equal(d.nodes.find((n) => n.id === 'hasMore')!.shape, 'hex');
    for (const n of d.nodes) {
      assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.w <= d.width + 0.5 && n.y + n.h <= d.height + 0.5, `${n.id} lies inside the drawing`);
    }
  });

  it('draws an arrow per exit, labelled unless it is the plain next; an unwired one ends in a box saying how the run ends', () => {
    const d = layoutScenario(s);
    const all = [...s.blocks.values()].flatMap((b) => b.def.exits.map((e) => `${b.id}:${e}`));
    assert.deepEqual(new Set(d.edges.filter((e) => e.from !== START_NODE).map((e) => `${e.from}:${e.exit}`)), new Set(all));
    const endOf = (block: string, exit: string) => {
      const edge = d.edges.find((e) => e.from === block && e.exit === exit)!;
      const node = d.nodes.find((n) => n.id === edge.to)!;
      return [node.shape, node.end, node.titleLines[0]];
    };
    assert.deepEqual(endOf('getUser', 'timeout'), ['end', 'retry', 'retry, then dead letter']);
    assert.deepEqual(endOf('done', 'next'), ['end', 'ends', 'ends the scenario']);
    const trueEdge = d.edges.find((e) => e.from === 'hasMore' && e.exit === 'true')!;
    assert.equal(trueEdge.to, 'pickUser');
    assert.equal(trueEdge.label, 'true');
    assert.ok(trueEdge.labelBox);
    assert.match(trueEdge.path, /^M[\d.]+,[\d.]+/);
    assert.equal(d.edges.find((e) => e.from === 'readTask')!.label, undefined);
  });

  it('is laid out once per scenario version', () => {
    assert.equal(diagramOf(s), diagramOf(s));
  });

  it('marks the blocks and exits a run went through, and the block where it failed', () => {
    const trace = [
      { step: 1, scenario: 'BpiumNewTask', block: 'begin', exit: 'next' },
      { step: 2, scenario: 'BpiumNewTask', block: 'parseWebhook', exit: 'success' },
      { step: 3, scenario: 'BpiumNewTask', block: 'readTask', exit: 'next' },
      { step: 4, scenario: 'BpiumNewTask', block: 'hasMore', exit: 'true' },
      { step: 5, scenario: 'BpiumNewTask', block: 'pickUser', exit: 'next' },
      { step: 6, scenario: 'BpiumNewTask', block: 'getUser', exit: 'failed' },
      { step: 7, scenario: 'Other', block: 'elsewhere', exit: 'next' },
    ];
    const m = markDiagram(diagramOf(s), pathMarks('BpiumNewTask', trace, 'getUser'));
    const byState = (st: string) => m.nodes.filter((n) => n.state === st && n.id !== START_NODE).map((n) => n.id).sort();
    assert.deepEqual(byState('visited'), ['begin', 'hasMore', 'parseWebhook', 'pickUser', 'readTask']);
    assert.deepEqual(byState('failed'), ['getUser']);
    assert.ok(byState('idle').includes('notify'));
    assert.deepEqual(m.edges.filter((e) => e.taken).map((e) => `${e.from}:${e.exit}`).sort(), ['__start:start', 'begin:next', 'hasMore:true', 'parseWebhook:success', 'pickUser:next', 'readTask:next']);
  });

  it('wraps long titles into at most three lines', () => {
    assert.deepEqual(wrapText('Одно'), ['Одно']);
    const lines = wrapText('очень длинное название блока которое никак не помещается в одну строку и даже в три');
    assert.equal(lines.length, 3);
    assert.ok(lines.every((l) => l.length <= 24));
    assert.ok(lines[2]!.endsWith('…'));
  });
});

describe('run view', () => {
  it('accumulates the changed variables into the state after each step', () => {
    const s = loadRepoScenario('HTTP404');
    const v = runView({
      scenarioName: 'HTTP404',
      scenario: s,
      versionRan: s.version,
      trace: [
        { step: 1, scenario: 'HTTP404', block: 'saveRequest', kind: 'Variable', exit: 'next', ms: 0.1, changed: { address: '/Bpium/NewTask', body: '{}' } },
        { step: 2, scenario: 'HTTP404', block: 'isNewTask', kind: 'Condition', exit: 'true', ms: 0 },
        { step: 3, scenario: 'HTTP404', block: 'acknowledge', kind: 'ReturnValue', exit: 'next', ms: 0, changed: { 'Return value 2': 200 } },
      ],
    });
    assert.deepEqual(Object.fromEntries(v.steps[0]!.state!), { address: '/Bpium/NewTask', body: '{}' });
    assert.deepEqual(v.steps[1]!.changedVars, []);
    assert.deepEqual(Object.fromEntries(v.steps[1]!.state!), { address: '/Bpium/NewTask', body: '{}' });
    assert.deepEqual(v.steps[2]!.returnsSet, [['Return value 2', 200]]);
    assert.equal(v.steps[0]!.title, 'Сохранить адрес и содержимое');
    assert.equal(v.diagramNote, undefined);
    assert.deepEqual(v.diagram!.nodes.filter((n) => n.state === 'visited' && n.shape !== 'end').map((n) => n.id).sort(), ['__start', 'acknowledge', 'isNewTask', 'saveRequest']);
    // The run ended at acknowledge's unwired exit: that end is reached, the one after isNewTask's false is not.
    assert.deepEqual(v.diagram!.nodes.filter((n) => n.shape === 'end').map((n) => n.state).sort(), ['idle', 'visited']);
  });
});

describe('YAML colouring', () => {
  it('tells keys, strings, numbers and comments apart without losing a character', () => {
    const line = `    record: '[userId]'   # the id, "quoted"`;
    const tokens = yamlTokens(line);
    assert.equal(tokens.map((t) => t.t).join(''), line);
    assert.deepEqual(tokens.filter((t) => t.c !== 'plain' && t.c !== 'punct').map((t) => [t.c, t.t.trim()]), [
      ['key', 'record'],
      ['str', `'[userId]'`],
      ['com', '# the id, "quoted"'],
    ]);
    assert.deepEqual(yamlTokens('  # only a comment'), [{ c: 'com', t: '  # only a comment' }]);
    assert.equal(yamlTokens("  text: 'a # not a comment'").find((t) => t.c === 'com'), undefined);
  });
});

describe('CSRF token', () => {
  it('is stable for a login, differs between logins, passwords and secrets, and is checked in full', () => {
    const a = createCsrf('secret-one');
    const b = createCsrf('secret-two');
    const admin = { login: 'admin', password: 'pw-1' };
    const token = a.tokenFor(admin);
    assert.equal(a.tokenFor({ ...admin }), token);
    assert.ok(a.verify(admin, token));
    assert.ok(!a.verify({ login: 'other', password: 'pw-1' }, token));
    assert.ok(!a.verify({ login: 'admin', password: 'pw-2' }, token), 'a new password ends the old token');
    assert.ok(!b.verify(admin, token));
    assert.ok(!a.verify(admin, token.slice(0, -1)));
    assert.ok(!a.verify(admin, undefined));
    assert.ok(!a.verify(undefined, token));
    assert.ok(!a.verify(admin, ['x']));
  });
});

describe('outbox letter reader', () => {
  it('reads back the text and HTML of a letter the outbox wrote', async () => {
    const tmp = tempDir('oktell-console-eml-');
    try {
      const mailer = createOutboxMailer({ dir: tmp.dir, from: 'Oktell <oktell@example.com>' });
      const html = `<p>Здравствуйте, <b>Мария</b>! ${'Длинная строка письма. '.repeat(20)}</p>`;
      const { file } = await mailer.send({ to: ['maria@example.org'], cc: [], bcc: [], subject: 'Новая задача', text: 'Текст письма — по-русски.\nВторая строка.', html });
      const letter = parseLetter(readFileSync(file!));
      assert.equal(letter.text?.trim(), 'Текст письма — по-русски.\nВторая строка.');
      assert.equal(letter.html?.trim(), html);
      assert.ok(letter.headers.some(([k]) => k === 'subject'));
    } finally {
      tmp.cleanup();
    }
  });

  it('decodes quoted-printable and base64 parts in other charsets', () => {
    const raw = Buffer.from(
      [
        'Subject: x',
        'Content-Type: multipart/alternative; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        '=D0=9F=D1=80=D0=B8=D0=B2=D0=B5=D1=82 soft=',
        'break',
        '--b1',
        'Content-Type: text/html; charset=windows-1251',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]).toString('base64'),
        '--b1--',
        '',
      ].join('\r\n'),
      'latin1',
    );
    const letter = parseLetter(raw);
    assert.equal(letter.text, 'Привет softbreak');
    assert.equal(letter.html, 'Привет');
  });
});

describe('the jobs table', () => {
  const job = (status: 'succeeded' | 'dead' | 'queued') => ({
    id: 'j1', scenario: 'BpiumNewTask', params: {}, variables: null, parentRunId: null, parentBlock: null, trigger: null, inboxId: null, priority: 0,
    attempts: 2, maxAttempts: 8, nextRunAt: 0, status, leaseOwner: null, leaseExpiresAt: null, claimedAt: null, cancelRequest: null, lastError: { code: 'SMTP', message: 'SMTP transient failure' },
    lastRunId: 'r1', pinnedVersion: null, replayCount: 1, createdAt: 0, updatedAt: 0, finishedAt: 0,
  });
  for (const [status, past] of [['succeeded', true], ['dead', false], ['queued', false]] as const) {
    it(`a ${status} job's last error is ${past ? 'history' : 'its state'}`, () => {
      const row = jobRow(job(status) as Parameters<typeof jobRow>[0], () => '');
      assert.equal(row.error, 'SMTP transient failure');
      assert.equal(row.errorIsPast, past);
    });
  }
});

