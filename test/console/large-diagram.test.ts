// A scenario too large to lay out on the server's thread (an integrator's HTTP404 routing dozens of customers' paths
// to one answer block) is shown with its YAML and a note instead of a diagram, on its page and on its runs' pages:
// laying it out held the server, webhooks included, for seconds (40 s for 70 customers: trial 48). Smaller ones are
// drawn as before, and `oktell-emu graph --format svg` still draws the large one, in its own process.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { outlineOfText } from '../../engine/index.js';
import { defaultRegistry } from '../../components/registry.js';
import { runCli } from '../cli/cli.helper.js';
import { AUTH, csrfToken, get, runPageOf, startConsoleServer } from './console-helpers.js';

/** A chain of `routes` Conditions, each leading to a Variable that goes to the one answer block at the bottom. */
function routerYaml(routes: number): string {
  let y = `variables:\n  address: string\n  route: number\nstart: r1\nblocks:\n`;
  for (let i = 1; i <= routes; i++) {
    y += `  r${i}:\n    kind: Condition\n    expression: Contains([address], "/c${i}/")\n    exits: { true: go${i}, false: ${i < routes ? `r${i + 1}` : 'answer'} }\n`;
    y += `  go${i}:\n    kind: Variable\n    set: { route: ${i} }\n    exits: { next: answer }\n`;
  }
  return `${y}  answer:\n    kind: ReturnValue\n    values: { 1: '"route " + [route]', 2: 200 }\n`;
}

const ROUTER = routerYaml(60);

describe('console: a scenario too large to lay out', () => {
  let t: Awaited<ReturnType<typeof startConsoleServer>>;
  before(async () => {
    t = await startConsoleServer({ 'Router.yaml': ROUTER });
  });
  after(async () => t?.cleanup());

  it('its layout size is over the limit, a small router far under it', async () => {
    const { DRAW_LIMIT, layoutSize } = await import('../../server/console/scenario-graph.js');
    const size = layoutSize(outlineOfText('Router.yaml', ROUTER, defaultRegistry));
    assert.ok(size > DRAW_LIMIT, `Router's size ${size}`);
    assert.ok(layoutSize(outlineOfText('Small.yaml', routerYaml(3), defaultRegistry)) < 50);
  });

  it('its page names why there is no diagram and still shows the YAML; a small scenario is drawn', { timeout: 60_000 }, async () => {
    const page = await (await get(`${t.base}/scenarios/Router`)).text();
    assert.match(page, /Not drawn: Router has 121 blocks, and its layout \(size \d+, over the console's 1000\) would hold the server/);
    // The command names the server's folder, so it draws the scenario the server runs wherever it is pasted.
    assert.ok(page.includes(`<code>npx oktell-emu graph Router -s ${t.scenariosDir} --format svg -o Router.svg</code>`), page.match(/<code>npx[^<]*<\/code>/)?.[0]);
    assert.doesNotMatch(page, /<svg class="diagram/);
    assert.doesNotMatch(page, /Click a block to see its YAML/, 'no legend for a diagram not drawn');
    assert.match(page, /r60/, 'the YAML is shown');
    const small = await (await get(`${t.base}/scenarios/ReadUser`)).text();
    assert.match(small, /<svg class="diagram/);
    assert.match(small, /Click a block to see its YAML/);
    assert.doesNotMatch(small, /Not drawn/);
  });

  it('a run of it shows its steps and the note, not a diagram', { timeout: 60_000 }, async () => {
    const { html } = await runPageOf(t, 'Router');
    assert.match(html, /Not drawn: Router has 121 blocks, too many to lay out on the server's thread/);
    assert.doesNotMatch(html, /<svg class="diagram/);
    assert.doesNotMatch(html, /Click a block to jump to its step/, 'no legend for a diagram not drawn');
  });

  it('a dry run of it from the console says why there is no diagram, not an empty one', { timeout: 60_000 }, async () => {
    const csrf = await csrfToken(t.base);
    const res = await fetch(`${t.base}/dry-run`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: t.server.url },
      body: new URLSearchParams({ csrf, scenario: 'Router', mode: 'params' }).toString(),
      redirect: 'manual',
    });
    assert.equal(res.status, 303, await res.text());
    const html = await (await get(new URL(res.headers.get('location')!, t.server.url).toString())).text();
    assert.match(html, /Not drawn: Router has 121 blocks, too many to lay out on the server's thread/);
    assert.doesNotMatch(html, /<svg class="diagram/);
  });

  it('the command its page gives draws it all the same, from any working folder', { timeout: 120_000 }, async () => {
    const page = await (await get(`${t.base}/scenarios/Router`)).text();
    const command = /<code>npx oktell-emu (graph [^<]*)<\/code>/.exec(page)![1]!;
    const elsewhere = mkdtempSync(join(tmpdir(), 'oktell-graph-'));
    try {
      const r = runCli(command.split(' '), { cwd: elsewhere });
      assert.equal(r.code, 0, r.stderr);
      assert.match(readFileSync(join(elsewhere, 'Router.svg'), 'utf8'), /<svg[\s\S]*data-block="go60"/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('names the folder, absolute, and quotes what a shell would split', async () => {
    const { graphCommand } = await import('../../server/console/console-views.js');
    assert.equal(graphCommand('HTTP404', '/srv/oktell/scenarios'), 'npx oktell-emu graph HTTP404 -s /srv/oktell/scenarios --format svg -o HTTP404.svg');
    assert.equal(graphCommand('Маршруты', '/srv/oktell/сценарии'), 'npx oktell-emu graph Маршруты -s /srv/oktell/сценарии --format svg -o Маршруты.svg');
    assert.equal(graphCommand('Router', "/srv/Bob's files/sc"), "npx oktell-emu graph Router -s '/srv/Bob'\\''s files/sc' --format svg -o Router.svg");
  });
});
