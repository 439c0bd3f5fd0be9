// `store:` of the configuration file keeps its password out of the file as `databases:` does: passwordEnv names an
// environment variable, passwordFile a file; OKTELL_STORE still wins over the file.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadServerConfig } from '../../server/config.js';
import { tempDir } from '../helpers.js';

const URL_BASE = 'postgres://oktell@db.internal:5432/oktell?schema=cluster';

function load(file: string, env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}) {
  const tmp = tempDir();
  try {
    writeFileSync(join(tmp.dir, 'oktell.config.yaml'), file);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp.dir, name), text);
    return loadServerConfig({}, env, tmp.dir);
  } finally {
    tmp.cleanup();
  }
}

function passwordOf(config: ReturnType<typeof loadServerConfig>): string | undefined {
  return config.store.kind === 'postgres' ? decodeURIComponent(new URL(config.store.url).password) : undefined;
}

describe('store: { url, passwordEnv | passwordFile }', () => {
  it('passwordEnv: the variable\'s value is the password, percent-encoded into the URL', () => {
    const c = load(`store:\n  url: ${URL_BASE}\n  passwordEnv: STORE_PW\n`, { STORE_PW: 'p@ss:w/rd' });
    assert.equal(passwordOf(c), 'p@ss:w/rd');
    assert.equal(c.store.kind === 'postgres' && new URL(c.store.url).searchParams.get('schema'), 'cluster');
  });

  it('passwordFile: the file\'s text, trimmed, relative to the working folder', () => {
    const c = load(`store:\n  url: ${URL_BASE}\n  passwordFile: store.pw\n`, {}, { 'store.pw': 's3cret\n' });
    assert.equal(passwordOf(c), 's3cret');
  });

  it('OKTELL_STORE wins over the file', () => {
    const c = load(`store:\n  url: ${URL_BASE}\n  passwordEnv: STORE_PW\n`, { STORE_PW: 'x', OKTELL_STORE: 'sqlite' });
    assert.deepEqual(c.store, { kind: 'sqlite' });
  });

  const refused: Array<[string, string, NodeJS.ProcessEnv, RegExp]> = [
    ['an unset variable', `store:\n  url: ${URL_BASE}\n  passwordEnv: STORE_PW\n`, {}, /oktell\.config\.yaml:2:3: store: the environment variable STORE_PW \(passwordEnv\) is not set/],
    ['a missing file', `store:\n  url: ${URL_BASE}\n  passwordFile: nope.pw\n`, {}, /oktell\.config\.yaml:2:3: store: cannot read passwordFile .*nope\.pw: ENOENT/],
    ['both', `store:\n  url: ${URL_BASE}\n  passwordEnv: A\n  passwordFile: b\n`, { A: 'x' }, /store: give passwordEnv or passwordFile, not both/],
    ['a password for SQLite', `store:\n  url: sqlite\n  passwordEnv: A\n`, { A: 'x' }, /store: a password applies to a postgres:\/\/ URL only/],
    ['an unknown key', `store:\n  url: ${URL_BASE}\n  password: x\n`, {}, /unknown key "password" at store/],
  ];
  for (const [what, file, env, message] of refused) {
    it(`refuses ${what} with a configuration error`, () => {
      assert.throws(() => load(file, env), (e: unknown) => e instanceof ConfigError && message.test(e.message));
    });
  }
});
