// What a scenario test sees of the web requests a run made (cli/testing/expectations.ts, `observe`): each call with
// the body its WebRequest step's trace kept. A run longer than its trace limit keeps the first and the last steps
// only; the bodies of the steps kept must still go to their own calls (the first ones and the last ones), and the
// calls in the cut middle get none, instead of the last steps' bodies being given to the calls after the first ones.
// Real parts: the engine and its web client against an HTTP server on loopback.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createWebClient } from '../../adapters/web/client.js';
import { observe } from '../../cli/testing/expectations.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock } from '../../engine/index.js';
import { tempDir } from '../helpers.js';

const LOOP = (url: string) => `variables: { i: number }
start: post
blocks:
  post:
    kind: WebRequest
    method: POST
    url: '"${url}/n"'
    json: { n: '[i] + 1' }
    exits: { success: count }
  count:
    kind: Variable
    set: { i: '[i] + 1' }
    exits: { next: more }
  more:
    kind: Condition
    expression: '[i] < 6'
    exits: { true: post, false: end }
  end:
    kind: Stop
`;

describe('a test run’s web requests and the bodies they sent', () => {
  for (const traceLimit of [10_000, 8]) {
    it(`each call gets its own body, trace limit ${traceLimit}`, async () => {
      const tmp = tempDir();
      const server = createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(200).end('ok'));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const web = createWebClient({ retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
      try {
        writeFileSync(join(tmp.dir, 'Loop.yaml'), LOOP(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
        const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
        assert.deepEqual(lib.issues, []);
        const r = await runScenario(lib, 'Loop', { traceLimit, ports: { web, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });
        assert.equal(r.status, 'completed');
        assert.equal(r.traceTruncated !== undefined, traceLimit === 8, 'the short limit cuts the trace');
        const bodies = observe(r).httpCalls!.map((c) => c.body ?? null);
        // With the whole trace every call has its body; with the cut one, the first two and the last (the steps kept).
        const all = ['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}', '{"n":5}', '{"n":6}'];
        assert.deepEqual(bodies, traceLimit === 8 ? ['{"n":1}', '{"n":2}', null, null, null, '{"n":6}'] : all);
      } finally {
        web.close();
        await new Promise((r) => server.close(r));
        tmp.cleanup();
      }
    });
  }
});
