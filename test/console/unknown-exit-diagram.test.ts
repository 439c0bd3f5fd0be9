// An exit a block's kind does not have (`flase` beside a Condition's real `true`): the console's diagram of the invalid
// file draws it once, dashed and red with what `oktell-emu validate` says of it, and does not draw the exit it stands
// for (`false`) a second time as unwired; `oktell-emu graph` draws it the same way, in SVG and in Mermaid.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../cli/cli.helper.js';
import { get, startConsoleServer } from './console-helpers.js';

/** `flase` for `false`, beside the real `true`. */
const MISSPELT_YAML = `start: check
blocks:
  check:
    kind: Condition
    expression: 1 = 1
    exits: { true: yes, flase: no }
  yes: { kind: Stop }
  no: { kind: Stop }
`;

/** An exit that resembles none of the kind's: it is marked, and the real `false` still ends the scenario unwired. */
const STRAY_YAML = `start: check
blocks:
  check:
    kind: Condition
    expression: 1 = 1
    exits: { true: yes, banana: no }
  yes: { kind: Stop }
  no: { kind: Stop }
`;

/** The `<path class="edge…">` elements of a diagram, with their attributes. */
function edgesOf(svg: string): Array<{ cls: string; from: string; to: string; exit: string; problem?: string }> {
  return [...svg.matchAll(/<path class="(edge[^"]*)" d="[^"]*" data-from="([^"]*)" data-to="([^"]*)" data-exit="([^"]*)"(?: data-problem="([^"]*)")?/g)].map((m) => ({
    cls: m[1]!,
    from: m[2]!,
    to: m[3]!,
    exit: m[4]!,
    ...(m[5] !== undefined ? { problem: m[5].replace(/&quot;/g, '"') } : {}),
  }));
}

describe('console diagram: an exit the block kind does not have', () => {
  let t: Awaited<ReturnType<typeof startConsoleServer>>;
  before(async () => {
    t = await startConsoleServer({ 'Misspelt.yaml': MISSPELT_YAML, 'Stray.yaml': STRAY_YAML });
  });
  after(async () => t?.cleanup());

  it('is drawn once, dashed and red with the problem validate reports, and its meant exit is not drawn again', { timeout: 30_000 }, async () => {
    const v = runCli(['validate', '--scenarios', t.scenariosDir]);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    const reported = /Misspelt\.yaml:6:\d+ E_UNKNOWN_EXIT (Condition has no exit "flase")/.exec(v.stdout + v.stderr);
    assert.ok(reported, `validate reports the misspelt exit:\n${v.stdout}${v.stderr}`);

    const page = await (await get(`${t.base}/scenarios/Misspelt`)).text();
    assert.match(page, /E_UNKNOWN_EXIT/, 'the page lists the problem');
    const svg = /<svg class="diagram[\s\S]*?<\/svg>/.exec(page)?.[0];
    assert.ok(svg, 'the console draws the invalid scenario');
    const fromCheck = edgesOf(svg).filter((e) => e.from === 'check');
    assert.deepEqual(
      fromCheck.map((e) => [e.exit, e.to, e.cls]),
      [
        ['true', 'yes', 'edge'],
        ['flase', 'no', 'edge unknown-exit'],
      ],
      'one edge per written exit; no second, unwired "false"',
    );
    const flase = fromCheck.find((e) => e.exit === 'flase')!;
    assert.ok(flase.problem?.startsWith(reported[1]!), `the edge carries validate's words: ${flase.problem}`);
    assert.match(flase.problem!, /did you mean "false"\?/);
    assert.match(svg, /<g class="edge-label exit-flase unknown-exit"><title>[^<]*<\/title><rect[^>]*\/><text[^>]*>✗ flase<\/text>/);
    assert.doesNotMatch(svg, /ends the scenario/, 'the misspelt exit is not taken for a second, unwired one');
    assert.doesNotMatch(svg, /<g class="edge-label exit-true[^"]*unknown-exit/, 'the real exit is not marked');
  });

  it('an exit resembling none of the kind\'s is marked, and the real ones left unwired still end the scenario', { timeout: 30_000 }, async () => {
    const page = await (await get(`${t.base}/scenarios/Stray`)).text();
    const svg = /<svg class="diagram[\s\S]*?<\/svg>/.exec(page)?.[0] ?? '';
    const fromCheck = edgesOf(svg).filter((e) => e.from === 'check');
    assert.deepEqual(
      fromCheck.map((e) => [e.exit, e.cls]),
      [
        ['true', 'edge'],
        ['banana', 'edge unknown-exit'],
        ['false', 'edge'],
      ],
    );
    assert.equal(fromCheck[1]!.problem, 'Condition has no exit "banana": exits of Condition: true, false');
    assert.match(svg, /ends the scenario/);
  });

  it('oktell-emu graph draws it the same: once, dotted and red in Mermaid, as in the console in SVG', { timeout: 30_000 }, async () => {
    const r = runCli(['graph', 'Misspelt', '--scenarios', t.scenariosDir]);
    assert.equal(r.code, 1, r.stderr);
    const links = r.stdout.split('\n').filter((l) => /-->|-\.->/.test(l)).map((l) => l.trim().replace(/\b[bem]\d+\b/g, 'N'));
    assert.deepEqual(links, ['start((("Misspelt"))) --> N', 'N -->|true| N', 'N -.->|✗ flase| N']);
    assert.match(r.stdout, /%% Condition has no exit "flase": did you mean "false"\?/);
    assert.match(r.stdout, /\n {2}linkStyle 2 stroke:#c3292e,color:#c3292e\n/);
    const svg = runCli(['graph', 'Misspelt', '--scenarios', t.scenariosDir, '--format', 'svg']).stdout;
    assert.deepEqual(
      edgesOf(svg).filter((e) => e.from === 'check').map((e) => [e.exit, e.cls]),
      [
        ['true', 'edge'],
        ['flase', 'edge unknown-exit'],
      ],
    );
  });
});
