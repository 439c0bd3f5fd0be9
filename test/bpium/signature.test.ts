// X-Hook-Signature: Base64(HMAC-MD5(secret, raw body)), checked in constant time.
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signBpiumBody, verifyBpiumSignature } from '../../adapters/bpium/signature.js';

const secret = 'demo-webhook-secret';
const body = Buffer.from('{"timestamp":"1459500623","hook":{"id":"2","event":"record.created","sequenceId":84}}', 'utf8');
const expected = createHmac('md5', secret).update(body).digest('base64');

test('the signature is the Base64 HMAC-MD5 of the raw body under the secret', () => {
  assert.equal(signBpiumBody(secret, body), expected);
  assert.equal(signBpiumBody(secret, body.toString('utf8')), expected);
  assert.equal(expected.length, 24);
});

test('a matching header verifies, also with surrounding spaces', () => {
  assert.equal(verifyBpiumSignature(secret, body, expected), true);
  assert.equal(verifyBpiumSignature(secret, body, ` ${expected} `), true);
});

test('a signature made with another secret or over other bytes does not verify', () => {
  assert.equal(verifyBpiumSignature('other-secret', body, expected), false);
  const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8')), null, 1));
  assert.equal(verifyBpiumSignature(secret, reserialised, expected), false);
});

test('a missing, empty or garbled header is false, never an exception', () => {
  for (const header of [undefined, '', 'abc', 'not base64 at all!!!!!!!', `${expected}x`, expected.slice(0, 22), '='.repeat(24)]) {
    assert.equal(verifyBpiumSignature(secret, body, header), false, `header ${String(header)}`);
  }
});

test('a hex digest of the right HMAC is not accepted in place of Base64', () => {
  const hex = createHmac('md5', secret).update(body).digest('hex');
  assert.equal(verifyBpiumSignature(secret, body, hex), false);
});
