// OKTELL_DEAD_LETTER_MAX_ATTEMPTS / deadLetterMaxAttempts: the attempts of each dead-letter catch-all job, 5 unless set,
// the variable over the file, 1–100 as OKTELL_MAX_ATTEMPTS, and a wrong value refused at the start with where it is set.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jobBackoff, loadServerConfig } from '../../server/config.js';
import { retryWindowShortText } from '../../server/store/backoff.js';
import { tempDir } from '../helpers.js';

function configOf(env: Record<string, string>, file?: string) {
  const tmp = tempDir('oktell-dl-attempts-');
  try {
    if (file !== undefined) writeFileSync(join(tmp.dir, 'oktell.config.yaml'), file);
    return loadServerConfig({}, env, tmp.dir);
  } finally {
    tmp.cleanup();
  }
}

describe('the dead-letter catch-all\'s attempts setting', () => {
  it('5 by default, about 40 s of waits with the default delays, however many more OKTELL_MAX_ATTEMPTS allows', () => {
    const c = configOf({ OKTELL_MAX_ATTEMPTS: '20' });
    assert.equal(c.deadLetterMaxAttempts, 5);
    assert.equal(c.workers.maxAttempts, 20);
    assert.equal(retryWindowShortText(c.deadLetterMaxAttempts, jobBackoff(c.workers)), '5 attempts, waiting about 40 s in all between them, then a dead letter');
    assert.equal(retryWindowShortText(1, jobBackoff(c.workers)), '1 attempt, no retry');
  });

  it('unset, never more than a job\'s own attempts; set, as set', () => {
    assert.equal(configOf({ OKTELL_MAX_ATTEMPTS: '2' }).deadLetterMaxAttempts, 2);
    assert.equal(configOf({}, 'workers:\n  maxAttempts: 1\n').deadLetterMaxAttempts, 1);
    assert.equal(configOf({ OKTELL_MAX_ATTEMPTS: '2', OKTELL_DEAD_LETTER_MAX_ATTEMPTS: '7' }).deadLetterMaxAttempts, 7);
  });

  it('the file sets it, and the variable over the file (a blank variable leaves the file in force)', () => {
    assert.equal(configOf({}, 'deadLetterMaxAttempts: 3\n').deadLetterMaxAttempts, 3);
    assert.equal(configOf({ OKTELL_DEAD_LETTER_MAX_ATTEMPTS: '100' }, 'deadLetterMaxAttempts: 3\n').deadLetterMaxAttempts, 100);
    assert.equal(configOf({ OKTELL_DEAD_LETTER_MAX_ATTEMPTS: ' ' }, 'deadLetterMaxAttempts: 3\n').deadLetterMaxAttempts, 3);
  });

  const refused: Array<[Record<string, string>, string | undefined, RegExp]> = [
    [{ OKTELL_DEAD_LETTER_MAX_ATTEMPTS: '0' }, undefined, /^OKTELL_DEAD_LETTER_MAX_ATTEMPTS="0" must be a whole number, from 1 to 100$/],
    [{ OKTELL_DEAD_LETTER_MAX_ATTEMPTS: '101' }, undefined, /^OKTELL_DEAD_LETTER_MAX_ATTEMPTS="101" must be a whole number, from 1 to 100$/],
    [{ OKTELL_DEAD_LETTER_MAX_ATTEMPTS: '2.5' }, undefined, /OKTELL_DEAD_LETTER_MAX_ATTEMPTS="2.5" must be a whole number/],
    [{}, 'port: 4055\ndeadLetterMaxAttempts: 0\n', /^oktell\.config\.yaml:2:24: deadLetterMaxAttempts: /],
    [{}, 'deadLetterMaxAttempts: "five"\n', /^oktell\.config\.yaml:1:24: deadLetterMaxAttempts: /],
  ];
  for (const [env, file, want] of refused) {
    it(`refused at start: ${JSON.stringify(env)}${file ? ` with ${JSON.stringify(file)}` : ''}`, () => {
      assert.throws(() => configOf(env, file), (e: Error) => {
        assert.equal(e.name, 'ConfigError');
        assert.match(e.message, want);
        return true;
      });
    });
  }
});
