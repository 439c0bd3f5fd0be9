// A run's page shows the dates of the run's values in the time zone its record names (the zone it ran in), and says
// so when that is not the server's, as `oktell-emu show` does; a zone this server does not know is named (escaped)
// and the server's used instead. A real server (Europe/Moscow) over HTTP, its real SQLite store edited as a store
// copied from another server, or edited by hand, would be.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runPageOf, startConsoleServer, get } from './console-helpers.js';
import { runZoneOf } from '../../server/console/run.routes.js';
import { recordedZone } from '../../cli/testing/from-run.js';

/** One fixed instant, 2026-01-15 00:00 UTC: 03:00 in Moscow, 09:00 in Tokyo. */
const FIXED_TIME_YAML = `variables:
  at: datetime
start: set
blocks:
  set:
    kind: Variable
    set: { at: 'ToDate("2026-01-15T00:00:00Z")' }
    exits: { next: done }
  done:
    kind: ReturnValue
    values: { 1: 'Str([at])' }
`;

describe('console: the dates of a run\'s values in the zone the run ran in', () => {
  it('in its own zone, said when it is not the server\'s; an unknown zone named, escaped, and the server\'s used', { timeout: 60_000 }, async () => {
    const t = await startConsoleServer({ 'FixedTime.yaml': FIXED_TIME_YAML });
    try {
      const { runId, html } = await runPageOf(t, 'FixedTime');
      // Run in the server's zone: its dates in Moscow, and nothing said about the zone beyond the start's.
      assert.match(html, /<code>at<\/code> = <span class="val">15\.01\.2026 03:00:00<\/span>/);
      assert.doesNotMatch(html, /class="run-zone/);

      const setZone = (zone: string | null) => {
        const db = new Database(join(t.dataDir, 'oktell.sqlite'));
        try {
          db.pragma('busy_timeout = 5000');
          db.prepare('UPDATE runs SET time_zone = ? WHERE id = ?').run(zone, runId);
        } finally {
          db.close();
        }
      };

      // The record of a run of a server in Tokyo (a store copied here): its dates read as that run wrote them.
      setZone('Asia/Tokyo');
      const tokyo = await (await get(`${t.base}/runs/${runId}`)).text();
      assert.match(tokyo, /<code>at<\/code> = <span class="val">15\.01\.2026 09:00:00<\/span>/, 'the step that set it');
      assert.match(tokyo, /<th>at<\/th><td>15\.01\.2026 09:00:00<\/td>/, 'the variables after the step');
      assert.doesNotMatch(tokyo, /<td>15\.01\.2026 03:00:00<\/td>/);
      assert.match(tokyo, /<span class="run-zone">ran in Asia\/Tokyo: the dates of its values are in that zone<\/span>/);
      // Its start stays in the server's zone, named beside it, as the runs list shows it.
      assert.match(tokyo, /<span>started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d <span class="zone">Europe\/Moscow<\/span><\/span>/);
      // The return value is the text the run made in Moscow: shown as it is.
      assert.match(tokyo, /<dt>1<\/dt><dd>15\.01\.2026 03:00:00<\/dd>/);

      // A zone this server does not know (a hand edit, a newer time zone database): the server's, and said so.
      setZone('Mars/<b>Base</b>');
      const res = await get(`${t.base}/runs/${runId}`);
      assert.equal(res.status, 200);
      const unknown = await res.text();
      assert.match(unknown, /<code>at<\/code> = <span class="val">15\.01\.2026 03:00:00<\/span>/);
      assert.match(unknown, /<span class="run-zone warn-text">its record names the time zone &quot;Mars\/&lt;b&gt;Base&lt;\/b&gt;&quot;, which this server does not know: the dates of its values are in Europe\/Moscow<\/span>/);
      assert.doesNotMatch(unknown, /<b>Base/);

      // A run of an older build, which kept no zone: the server's, with nothing said.
      setZone(null);
      const none = await (await get(`${t.base}/runs/${runId}`)).text();
      assert.match(none, /<code>at<\/code> = <span class="val">15\.01\.2026 03:00:00<\/span>/);
      assert.doesNotMatch(none, /class="run-zone/);
    } finally {
      await t.cleanup();
    }
  });

  it('another name of the server\'s own zone (Etc/UTC on a UTC server, Asia/Kolkata for Asia/Calcutta, other case) is not said to be another zone', () => {
    for (const [recorded, server] of [['Etc/UTC', 'UTC'], ['UTC', 'Etc/UTC'], ['Asia/Kolkata', 'Asia/Calcutta'], ['europe/moscow', 'Europe/Moscow']] as const) {
      assert.deepEqual(runZoneOf({ timeZone: recorded }, server), { timeZone: server }, `${recorded} on a ${server} server`);
      assert.deepEqual(recordedZone({ timeZone: recorded }, server), { timeZone: server, from: 'run' }, `show: ${recorded} on a ${server} server`);
    }
    // A zone that differs is still said.
    assert.equal(runZoneOf({ timeZone: 'Asia/Tokyo' }, 'UTC').note, 'ran in Asia/Tokyo: the dates of its values are in that zone');
  });
});
