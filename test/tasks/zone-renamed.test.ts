// Zones IANA renamed: Node 20's ICU lists only the old name (Europe/Kiev) though it takes the new one (Europe/Kyiv),
// so `KYIV` (a city in capitals, matched exactly against the listed cities) got no guess, and `Kolkata` none either
// (too far from Calcutta). The guess is now the zone this runtime takes. And Moscow time plus hours with minutes that
// are not :00 (`MSK+03:30`, `MSK+3:45`) is not read as whole hours (`MSK+03:00` is MSK+3, as written).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { suggestedZone } from '../../engine/suggest.js';
import { ECHO_DUE } from './task-scenarios.js';
import { withTasksProject } from './tasks-project.helper.js';

function taken(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The name of Kyiv's zone this runtime takes: the new one when it does (Node 20 does), else the old one. */
const KYIV = taken('Europe/Kyiv') ? 'Europe/Kyiv' : 'Europe/Kiev';

describe('renamed zones are suggested by a name the runtime takes', () => {
  it('KYIV, Kyiv, kyiv suggest Kyiv\'s zone (KYIV got no guess)', () => {
    for (const name of ['KYIV', 'Kyiv', 'kyiv']) {
      const guess = suggestedZone(name);
      assert.equal(guess, KYIV, name);
      assert.ok(taken(guess!), `${guess} is not taken by this runtime`);
    }
    // The old name still gets the old zone, which the runtime lists.
    assert.equal(suggestedZone('KIEV'), 'Europe/Kiev');
    assert.equal(suggestedZone('Kolkata'), taken('Asia/Kolkata') ? 'Asia/Kolkata' : 'Asia/Calcutta');
  });

  it('a runtime that does not take Europe/Kyiv gets Europe/Kiev for KYIV', async () => {
    const Real = Intl.DateTimeFormat;
    const refusing = function (this: unknown, locales?: string | string[], options?: Intl.DateTimeFormatOptions) {
      if (/^europe\/kyiv$/i.test(options?.timeZone ?? '')) throw new RangeError(`Invalid time zone specified: ${options!.timeZone}`);
      return new Real(locales, options);
    } as unknown as typeof Intl.DateTimeFormat;
    Object.assign(refusing, { supportedLocalesOf: Real.supportedLocalesOf.bind(Real) });
    Intl.DateTimeFormat = refusing;
    try {
      // A fresh instance of the module, whose zone lists are made under this runtime.
      const specifier = '../../engine/suggest.js?old-icu';
      const fresh = (await import(specifier)) as typeof import('../../engine/suggest.js');
      assert.equal(fresh.suggestedZone('KYIV'), 'Europe/Kiev');
      assert.equal(fresh.suggestedZone('Kyiv'), 'Europe/Kiev');
    } finally {
      Intl.DateTimeFormat = Real;
    }
  });

  it('through `oktell-emu tasks`: timeZone: KYIV names the zone, which is then accepted', () => {
    withTasksProject('oktell-zone-kyiv-', { 'Tick.yaml': ECHO_DUE }, (tasks) => {
      const bad = tasks('serviceTasks:\n  - { name: t, scenario: Tick, cron: "0 9 * * *", timeZone: KYIV }\n');
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, new RegExp(`timeZone: "KYIV" is not a time zone \\(did you mean ${KYIV.replace('/', '\\/')}\\?\\)`));
      const good = tasks(`serviceTasks:\n  - { name: t, scenario: Tick, cron: "0 9 * * *", timeZone: ${KYIV} }\n`);
      assert.equal(good.code, 0, good.stderr);
    });
  });
});

describe('Moscow time plus hours and minutes', () => {
  it('MSK+03:00 is MSK+3; MSK+03:30 and MSK+3:45 are not read as MSK+3 (no zone is guessed)', () => {
    assert.match(suggestedZone('MSK+03:00') ?? '', /^Asia\/Omsk \(MSK\+3, UTC\+6\) or Etc\/GMT-6 /);
    assert.equal(suggestedZone('MSK+3:00'), suggestedZone('MSK+3'));
    for (const name of ['MSK+03:30', 'MSK+3:45', 'MSK+0330', 'МСК+3:30', 'MSK-1:30']) assert.equal(suggestedZone(name), undefined, name);
  });
});
