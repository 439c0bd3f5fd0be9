// Secrets never reach the log, the console, /-/metrics, the run records or a refusal's text: a token in the query
// (`?token=…`), a Basic password, a login:password in an absolute-form request target. The server is a real one, its
// log the JSON lines pino writes (redaction included); each request below makes one of the server's log lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hookAddress } from '../../server/hook-request.js';

describe('hookAddress: an absolute-form target is stored without its login:password', () => {
  it('masks the userinfo and the secret query values, and finds the password in the trace', () => {
    const a = hookAddress('http://u:pw-SECRET456@host/hook?token=SECRET123&id=7');
    assert.equal(a.stored, 'http://***@host/hook?token=***&id=7');
    assert.ok(a.credentials.includes('pw-SECRET456'));
    assert.equal(hookAddress('/hook?id=7').stored, '/hook?id=7');
  });
});
