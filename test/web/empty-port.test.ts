// A WebRequest url with a ":" after its host and no port (`http://crm.example.ru:/api`) loads and runs (the client
// sends it to the scheme's default port), but a port was most likely left out: validate, and the server's start
// (the same scenario warnings), say so at the url, with the two ways to write it. A url that gives its port from a
// variable (`"http://crm:" + [port]`) is not named; nor is one with its port.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateFolder } from '../cli/cli.helper.js';

/** A scenario whose WebRequest url is on line 5, its value at column 10. */
const scenario = (url: string) => `variables: { id: string, port: string, code: string }\nblocks:\n  call:\n    kind: WebRequest\n    url: ${url}\n    errorCode: code\n`;

describe('validate: a WebRequest url with an empty port', () => {
  it('warns at the url, for a constant url and for one whose first text holds the host, with the fix', () => {
    const r = validateFolder({
      'Plain.yaml': scenario(`'"http://crm.example.ru:/api/v1"'`),
      'Tls.yaml': scenario(`'"https://crm.example.ru:?q=1"'`),
      'Joined.yaml': scenario(`'"http://10.0.0.5:/orders/" + [id]'`),
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.warnings, [
      `warning: Joined.yaml:5:10: WebRequest block call of Joined: the url "http://10.0.0.5:/orders/" + … has a ":" after its host and no port, so it is sent to the scheme's default port (80): a port left out? write it after the ":", url: '"http://10.0.0.5:8080/orders/" + [id]' (your service's port), or leave the ":" out, url: '"http://10.0.0.5/orders/" + [id]'`,
      `warning: Plain.yaml:5:10: WebRequest block call of Plain: the url "http://crm.example.ru:/api/v1" has a ":" after its host and no port, so it is sent to the scheme's default port (80): a port left out? write it after the ":", url: '"http://crm.example.ru:8080/api/v1"' (your service's port), or leave the ":" out, url: '"http://crm.example.ru/api/v1"'`,
      `warning: Tls.yaml:5:10: WebRequest block call of Tls: the url "https://crm.example.ru:?q=1" has a ":" after its host and no port, so it is sent to the scheme's default port (443): a port left out? write it after the ":", url: '"https://crm.example.ru:8080?q=1"' (your service's port), or leave the ":" out, url: '"https://crm.example.ru?q=1"'`,
    ]);
  });

  it('names no url with its port, with its port from a variable, or with no port at all', () => {
    const r = validateFolder({
      'Port.yaml': scenario(`'"http://crm.example.ru:8080/api"'`),
      'FromVariable.yaml': scenario(`'"http://crm.example.ru:" + [port] + "/api"'`),
      'NoPort.yaml': scenario(`'"https://crm.example.ru/api"'`),
      'Ipv6.yaml': scenario(`'"http://[::1]:8080/api"'`),
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.warnings, []);
  });
});
