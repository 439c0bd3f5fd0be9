// `oktell-emu graph` through the real binary: unwired exits and how they end the run, a Condition's expression, an
// AsyncScenario's target, the console's own SVG, and an invalid scenario drawn as far as it can be read.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoPath, repoRoot, tempDir } from '../helpers.js';
import { get, startConsoleServer } from '../console/console-helpers.js';
import { runCli } from './cli.helper.js';

const cli = (args: string[]) => runCli(args);

/** A scenario whose effect blocks leave their failure exits unwired, and whose Condition uses the operand form. */
const EFFECTS_YAML = `variables:
  email: string
  n: number
blocks:
  begin:
    kind: Start
    param: email
    exits: { next: many }
  many:
    kind: Condition
    left: '[n]'
    operator: '>'
    right: 2
    exits: { true: lookup }
  lookup:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: '"1"'
    exits: { success: mail }
  mail:
    kind: SendMail
    to: '[email]'
    subject: '"Привет"'
    text: '"Текст"'
    exits: { success: handOver }
  handOver:
    kind: AsyncScenario
    scenario: Effects
    mode: jump
`;

/** Three mistakes at once: an unknown kind, an exit to a block that does not exist, an unknown variable. */
const BROKEN_YAML = `variables:
  x: string
blocks:
  first:
    kind: Variable
    title: Первый
    set: { x: '[nope]' }
    exits: { next: second }
  second:
    kind: Sleep
    exits: { next: third }
  third:
    kind: Condition
    expression: '[x] = "a"'
    exits: { true: nowhere, false: first }
`;

describe('oktell-emu graph', () => {
  const tmp = tempDir('oktell-graph-');
  before(() => {
    writeFileSync(join(tmp.dir, 'Effects.yaml'), EFFECTS_YAML);
    writeFileSync(join(tmp.dir, 'Broken.yaml'), BROKEN_YAML);
  });
  after(() => tmp.cleanup());

  it('draws unwired exits as the end of the scenario, a Condition\'s expression and an AsyncScenario\'s target', () => {
    const r = cli(['graph', 'HTTP404']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^flowchart TD/);
    assert.match(r.stdout, /<code>Contains\(\[address\], #quot;\/Bpium\/NewTask#quot;\)<\/code>/);
    assert.match(r.stdout, /<code>→ BpiumNewTask \(async\)<\/code>/);
    assert.match(r.stdout, /<code>→ BpiumTaskChat \(async\)<\/code>/);
    // isNewTask's false exit leads to the task-chat check; that one's false exit and acknowledge's next are not wired:
    // both end the scenario.
    const isNewTask = /^ {2}(b\d+)\{"Это новая задача/m.exec(r.stdout)![1];
    const isTaskChat = /^ {2}(b\d+)\{"Сообщение о задаче в чат/m.exec(r.stdout)![1];
    assert.match(r.stdout, new RegExp(`^  ${isNewTask} -->\\|false\\| ${isTaskChat}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^  ${isTaskChat} -->\\|false\\| e\\d+\\(\\["ends the scenario"\\]\\):::ends$`, 'm'));
    assert.equal(r.stdout.match(/"ends the scenario"/g)?.length, 2);
    assert.equal(r.stderr, '');
  });

  it('says what an unwired exit of a block with side effects does: retry then dead letter, or the run fails', () => {
    const shipped = cli(['graph', 'BpiumNewTask']);
    assert.equal(shipped.code, 0, shipped.stderr);
    assert.match(shipped.stdout, /-->\|timeout\| e\d+\(\["retry, then dead letter"\]\):::retry/);

    const r = cli(['graph', 'Effects', '--scenarios', tmp.dir]);
    assert.equal(r.code, 0, r.stderr);
    const edges = r.stdout.split('\n').filter((l) => l.includes('-->')).map((l) => l.trim().replace(/\b[bem]\d+\b/g, 'N'));
    assert.deepEqual(edges, [
      'start((("Effects"))) --> N',
      'N --> N',
      'N -->|true| N',
      'N -->|false| N(["ends the scenario"]):::ends',
      'N -->|success| N',
      'N -->|timeout| N(["retry, then dead letter"]):::retry',
      'N -->|error| N(["the run fails"]):::fails',
      'N -->|success| N',
      'N -->|error| N(["the run fails"]):::fails',
    ], 'a jump hands over the run: its exit is not drawn');
    assert.match(r.stdout, /<code>\[n\] #gt; 2<\/code>/);
    assert.match(r.stdout, /<code>→ Effects \(jump\)<\/code>/);
  });

  it('draws an invalid scenario as far as it can be read, lists its problems and exits 1', () => {
    const r = cli(['graph', join(tmp.dir, 'Broken.yaml')]);
    assert.equal(r.code, 1);
    // Every block is drawn, the unknown kind and the broken ones marked; the exit to a missing block is shown.
    assert.match(r.stdout, /b0\["Первый<br\/><small>Variable · first<\/small>"\]:::problem/);
    assert.match(r.stdout, /b1\["second<br\/><small>Sleep · second<\/small>"\]:::problem/);
    assert.match(r.stdout, /b2\{"third<br\/><small>Condition · third<\/small><br\/><code>\[x\] = #quot;a#quot;<\/code>"\}:::problem/);
    assert.match(r.stdout, /b0 --> b1\n {2}b1 --> b2\n/);
    assert.match(r.stdout, /m0\(\["no block #quot;nowhere#quot;"\]\):::missing\n {2}b2 -->\|true\| m0\n {2}b2 -->\|false\| b0/);
    // The problems: on stderr as file:line:col code message, and as comments at the top of the diagram.
    const listed = r.stderr.split('\n').filter((l) => /^\S+Broken\.yaml:\d+:\d+ E_/.test(l)).map((l) => l.split(' ')[1]).sort();
    assert.deepEqual(listed, ['E_UNKNOWN_KIND', 'E_UNKNOWN_TARGET', 'E_UNKNOWN_VARIABLE']);
    assert.match(r.stderr, /3 problem\(s\) in Broken: the diagram shows what could be read/);
    assert.match(r.stdout, /^%% 3 problem\(s\); the diagram shows what could be read:$/m);
    assert.match(r.stdout, /^%% \S+Broken\.yaml:\d+:\d+ E_UNKNOWN_KIND unknown block kind "Sleep"$/m);
  });

  it('writes an invalid scenario as SVG too, with the problem blocks marked', () => {
    const out = join(tmp.dir, 'broken.svg');
    const r = cli(['graph', 'Broken', '-s', tmp.dir, '--format', 'svg', '-o', out]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, `wrote ${out}\n`);
    const svg = readFileSync(out, 'utf8');
    assert.equal(svg.match(/class="node [^"]*has-problem/g)?.length, 3);
    assert.match(svg, /<g class="end end-missing st-plain" data-end="missing"><title>no block &quot;nowhere&quot;<\/title>/);
  });

  it('refuses an unknown format and an unknown scenario with exit code 2', () => {
    const format = cli(['graph', 'HTTP404', '--format', 'png']);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /expected mermaid or svg/);
    const unknown = cli(['graph', 'NoSuchScenario']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown scenario "NoSuchScenario"/);
    const typo = cli(['graph', 'HTTP40']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown scenario "HTTP40"; did you mean "HTTP404"\?; known: /);
  });
});

/**
 * Names and values holding what Mermaid or a terminal would read as something else: a line break, a carriage return,
 * ESC sequences, BEL, a quote, a backtick, angle brackets, `|`, `&`, `#`, a backslash and a Mermaid directive; an exit
 * to a block that does not exist, so that a problem quoting them is written as a comment too.
 */
const HOSTILE_YAML = [
  'variables:',
  '  x: string',
  'blocks:',
  '  first:',
  '    kind: Variable',
  '    title: "line1\\nline2\\rcr \\e[31mred\\e[0m \\"q\\" `tick` <b>bold</b> a|b & #x \\\\ %%{init: {\\"securityLevel\\": \\"loose\\"}}%%"',
  "    set: { x: '\"a\\u001b[2J\"' }",
  '    exits: { next: second }',
  '  second:',
  '    kind: Condition',
  '    expression: "[x] = \\"<script>\\a\\""',
  '    exits: { true: "nowhere\\e]0;title\\a|x", false: first }',
  '',
].join('\n');

describe('oktell-emu graph: text from the scenario in Mermaid', () => {
  it('control characters, quotes, backticks, angle brackets, | and %%{…}%% are escaped: every line is valid Mermaid and none drives a terminal', () => {
    const tmp = tempDir('oktell-graph-hostile-');
    try {
      const file = join(tmp.dir, 'Hostile.yaml');
      writeFileSync(file, HOSTILE_YAML);
      const r = cli(['graph', file]);
      assert.equal(r.code, 1, r.stderr); // the exit to a block that does not exist
      const lines = r.stdout.split('\n').filter((l) => l !== '');
      for (const line of lines) {
        assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/, `no control character: ${JSON.stringify(line)}`);
        assert.doesNotMatch(line, /`/, `no backtick: ${line}`);
        assert.doesNotMatch(line.replace(/^ *%% /, ''), /%/, `no directive, no % but a comment's own: ${line}`);
        if (/^%%|^ {2}%%/.test(line)) continue;
        // Outside comments: a node's label is one quoted string holding no quote and only the diagram's own tags.
        const node = /^ {2}(?:b\d+|m\d+|start)(?:\["([^"]*)"\]|\{"([^"]*)"\}|\(\["([^"]*)"\]\)|\(\(\("([^"]*)"\)\)\))(?::::\w+)?(?: --> b\d+)?$/.exec(line);
        const edge = /^ {2}b\d+ (?:-->|-\.->)(?:\|([^|]*)\|)? [bem]\d+(?:\(\["[^"]*"\]\):::\w+)?$/.exec(line);
        assert.ok(line === 'flowchart TD' || node || edge || /^ {2}classDef \w+ [^"<>]+$/.test(line), `a line Mermaid reads as meant: ${line}`);
        const label = node ? node.slice(1).find((g) => g !== undefined)! : '';
        assert.doesNotMatch(label.replace(/<br\/>|<\/?small>|<\/?code>/g, ''), /[<>"]/, `no tag of the scenario's own in ${line}`);
      }
      const title = lines.find((l) => l.startsWith('  b0['))!;
      assert.equal(
        title,
        '  b0["line1 line2 cr \\u001b[31mred\\u001b[0m #quot;q#quot; #96;tick#96; #lt;b#gt;bold#lt;/b#gt; a#124;b #amp; #35;x #92; #37;#37;{init: {#quot;securityLevel#quot;: #quot;loose#quot;}}#37;#37;<br/><small>Variable · first</small>"]',
      );
      assert.equal(lines.find((l) => l.startsWith('  b1{')), '  b1{"second<br/><small>Condition · second</small><br/><code>[x] = #quot;#lt;script#gt;\\u0007#quot;</code>"}:::problem');
      assert.equal(lines.find((l) => l.startsWith('  m0')), '  m0(["no block #quot;nowhere\\u001b]0;title\\u0007#124;x#quot;"]):::missing');
      assert.equal(lines.find((l) => l.startsWith('  start')), '  start((("Hostile"))) --> b0');
      const comment = lines.find((l) => /E_UNKNOWN_TARGET/.test(l))!;
      assert.match(comment, /^%% \S+Hostile\.yaml:12:\d+ E_UNKNOWN_TARGET exit "true" leads to "nowhere\\u001b\]0;title\\u0007\|x", which is not a block of this scenario$/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('oktell-emu graph: ordinary text stays readable', () => {
  it('a Cyrillic title and a % in a title or an expression are drawn as written: % as the entity #37;, not as \\u0025', () => {
    const tmp = tempDir('oktell-graph-percent-');
    try {
      const file = join(tmp.dir, 'Скидка.yaml');
      writeFileSync(
        file,
        [
          'variables:',
          '  address: string',
          'blocks:',
          '  check:',
          '    kind: Condition',
          '    title: "Скидка 50% для «ВИП» клиентов"',
          '    expression: \'Contains([address], "%20")\'',
          '    exits: { true: done, false: done }',
          '  done:',
          '    kind: Stop',
          '',
        ].join('\n'),
      );
      const r = cli(['graph', file]);
      assert.equal(r.code, 0, r.stderr);
      const label = r.stdout.split('\n').find((l) => l.startsWith('  b0{'));
      assert.equal(label, '  b0{"Скидка 50#37; для «ВИП» клиентов<br/><small>Condition · check</small><br/><code>Contains([address], #quot;#37;20#quot;)</code>"}');
      assert.doesNotMatch(r.stdout, /\\u/, 'no \\uXXXX in a diagram of ordinary text');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('oktell-emu graph --format svg', () => {
  let t: Awaited<ReturnType<typeof startConsoleServer>>;
  before(async () => {
    t = await startConsoleServer({ 'Broken.yaml': BROKEN_YAML });
  });
  after(async () => t?.cleanup());

  /**
   * The drawing only: no embedded stylesheet, no links around blocks (nor the role that goes with them: a group of
   * links in the console, an image in a file), no layout whitespace.
   */
  function drawing(svg: string): string {
    return svg
      .replace(/<\?xml[^>]*>/, '')
      .replace(/ role="(?:img|group)"/, '')
      .replace(/<style>[\s\S]*?<\/style>/, '')
      .replace(/<a href="[^"]*">|<\/a>/g, '')
      .replace(/\s*\n\s*/g, '');
  }

  it('writes the very diagram the console draws for the scenario, styled by the console\'s stylesheet', { timeout: 30_000 }, async () => {
    const page = await (await get(`${t.base}/scenarios/BpiumNewTask`)).text();
    const inConsole = /<svg class="diagram[\s\S]*?<\/svg>/.exec(page)?.[0];
    assert.ok(inConsole, 'the console page has the diagram');
    const r = cli(['graph', 'BpiumNewTask', '--scenarios', t.scenariosDir, '--format', 'svg']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg class="diagram"/);
    assert.equal(drawing(r.stdout), drawing(inConsole));
    // The file stands alone: the console's colours and the diagram stylesheet are inside it.
    const style = /<style><!\[CDATA\[([\s\S]*?)\]\]><\/style>/.exec(r.stdout)?.[1] ?? '';
    assert.match(style, /--effect: #d9761a/);
    assert.ok(style.includes(readFileSync(repoPath('server', 'console', 'assets', 'diagram.css'), 'utf8')));
    assert.match(r.stdout, /retry, then dead letter/);
    // The console page links the same stylesheet, and serves it.
    assert.match(page, /<link rel="stylesheet" href="\/-\/console\/assets\/diagram\.css">/);
    const css = await get(`${t.base}/assets/diagram.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    assert.equal(await css.text(), readFileSync(repoPath('server', 'console', 'assets', 'diagram.css'), 'utf8'));
  });

  it('an invalid scenario gets the same partial drawing in the console as from the CLI', { timeout: 30_000 }, async () => {
    const page = await (await get(`${t.base}/scenarios/Broken`)).text();
    assert.match(page, /the diagram shows what could be read/);
    const inConsole = /<svg class="diagram[\s\S]*?<\/svg>/.exec(page)?.[0];
    assert.ok(inConsole, 'the console draws the invalid scenario');
    assert.match(inConsole, /<a href="#L4">\s*<g class="node kind-Variable group-data st-plain has-problem" id="node-first"/, 'a block links to its line in the file');
    const r = cli(['graph', 'Broken', '--scenarios', t.scenariosDir, '--format', 'svg']);
    assert.equal(r.code, 1);
    assert.equal(drawing(r.stdout), drawing(inConsole));
  });
});
