// validate, run and graph find the scenarios folder as serve and test do: -s, else OKTELL_SCENARIOS, else `scenarios:`
// of the configuration file (--config, OKTELL_CONFIG or ./oktell.config.yaml), else ./scenarios. The real binary, in a
// folder whose configuration file names ./flows and which has no ./scenarios folder.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const UNSET = ['OKTELL_SCENARIOS', 'OKTELL_CONFIG', 'OKTELL_STORE', 'OKTELL_DATA_DIR'];

/** Answers with a word of its folder, and its block is named so, so each case shows which folder's scenario ran. */
const hello = (word: string) => `start: ${word}
blocks:
  ${word}:
    kind: ReturnValue
    values: { 1: "'${word}'" }
    exits: { next: s }
  s: { kind: Stop }
`;

describe('validate, run and graph read the scenarios folder of the configuration file when no -s is given', () => {
  let tmp: ReturnType<typeof tempDir>;
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: tmp.dir, env, unset: UNSET.filter((n) => !(n in env)) });
  before(() => {
    tmp = tempDir();
    for (const [folder, word] of [['flows', 'flows'], ['other', 'other']] as const) {
      mkdirSync(join(tmp.dir, folder));
      writeFileSync(join(tmp.dir, folder, 'Hello.yaml'), hello(word));
    }
    writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'scenarios: ./flows\n');
    writeFileSync(join(tmp.dir, 'emu.yaml'), 'scenarios: ./other\n');
  });
  after(() => tmp.cleanup());

  const cases: Array<{ how: string; args: string[]; env?: Record<string, string>; word: string }> = [
    { how: './oktell.config.yaml', args: [], word: 'flows' },
    { how: '--config', args: ['--config', 'emu.yaml'], word: 'other' },
    { how: 'OKTELL_CONFIG', args: [], env: { OKTELL_CONFIG: 'emu.yaml' }, word: 'other' },
    { how: '-s over the file', args: ['-s', 'other'], word: 'other' },
    { how: 'OKTELL_SCENARIOS over the file', args: [], env: { OKTELL_SCENARIOS: 'other' }, word: 'other' },
  ];
  for (const c of cases) {
    it(`${c.how}: run, validate and graph use ${c.word}/`, () => {
      const run = cli(['run', 'Hello', '--dry-run', '--json', ...c.args], c.env);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.deepEqual(JSON.parse(run.stdout).returnValues, { 1: c.word });
      const validate = cli(['validate', '--json', ...c.args], c.env);
      assert.equal(validate.code, 0, validate.stdout + validate.stderr);
      assert.deepEqual([JSON.parse(validate.stdout).valid, JSON.parse(validate.stdout).scenarios], [true, 1]);
      const graph = cli(['graph', 'Hello', ...c.args], c.env);
      assert.equal(graph.code, 0, graph.stdout + graph.stderr);
      assert.match(graph.stdout, new RegExp(`\\["${c.word}<br/>`));
    });
  }

  it('OKTELL_CONFIG naming a missing file is said even beside -s, as serve says it', () => {
    for (const command of [['validate', '-s', 'other'], ['run', 'Hello', '--dry-run', '-s', 'other'], ['graph', 'Hello', '-s', 'other']]) {
      const r = cli(command, { OKTELL_CONFIG: 'gone.yaml' });
      assert.equal(r.code, 2, `${command[0]}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr, 'oktell-emu: config file gone.yaml does not exist\n', command[0]);
    }
  });

  it('a configuration file whose form is wrong is refused as serve refuses it (exit 2, at its line)', () => {
    writeFileSync(join(tmp.dir, 'bad.yaml'), 'scenario: ./flows\n');
    for (const command of [['validate'], ['run', 'Hello', '--dry-run'], ['graph', 'Hello']]) {
      const r = cli([...command, '--config', 'bad.yaml']);
      assert.equal(r.code, 2, `${command[0]}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /bad\.yaml:1:1: unknown key "scenario" at the top level \(did you mean "scenarios"\?\)/, command[0]);
    }
  });
});
