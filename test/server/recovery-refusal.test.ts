// A start refused because another program holds the store's lock says what is known (the lock), not that jobs
// were left running: after a clean stop none were, and the requeue is only the start's first write.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoveryRefusal } from '../../server/serve.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';

describe('recoveryRefusal', () => {
  it('busy: names the lock and the first write, without blaming jobs left running', () => {
    const e = recoveryRefusal(new StoreUnavailableError('busy', 'database is locked', 1), '/srv/var/oktell.sqlite', undefined) as Error;
    assert.ok(e instanceof StoreUnavailableError);
    assert.match(e.message, /^\/srv\/var\/oktell\.sqlite: the server does not start: its first write to the store .* another program holds a lock on the file \(a sqlite3 shell, a backup\); end it and start again$/);
    assert.doesNotMatch(e.message, /jobs left running by the previous process/);
  });
});
