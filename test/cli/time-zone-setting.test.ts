// An OKTELL_TZ the runtime does not know is a mistake of the setting: validate says so on one line and exits 2, as
// run does, instead of blaming every scenario with a datetime initial value.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const SCENARIO = `variables:
  created: { type: datetime, initial: "15.03.2024 09:30:00" }
blocks:
  r:
    kind: ReturnValue
    values: { 1: '[created] + 1' }
`;
const MESSAGE = 'OKTELL_TZ="Mars/Base" is not a time zone: use an IANA name such as Europe/Moscow, Asia/Yekaterinburg or UTC';

describe('validate with an unknown OKTELL_TZ', () => {
  it('blames the setting on one line, exit 2, for text and --json; the same folder validates with a real zone', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'DateRet.yaml'), SCENARIO);
      const text = runCli(['validate', '--scenarios', tmp.dir], { env: { OKTELL_TZ: 'Mars/Base' } });
      assert.deepEqual([text.code, text.stdout, text.stderr], [2, '', `oktell-emu: ${MESSAGE}\n`]);
      const json = runCli(['validate', '--json', '--scenarios', tmp.dir], { env: { OKTELL_TZ: 'Mars/Base' } });
      assert.equal(json.code, 2);
      assert.deepEqual(JSON.parse(json.stdout), { status: 'failed', error: { code: 'E_USAGE', message: MESSAGE } });
      const typo = runCli(['validate', '--scenarios', tmp.dir], { env: { OKTELL_TZ: 'Europe/Moskow' } });
      assert.deepEqual([typo.code, typo.stderr], [2, 'oktell-emu: OKTELL_TZ="Europe/Moskow" is not a time zone: did you mean Europe/Moscow? (an IANA name such as Europe/Moscow, Asia/Yekaterinburg or UTC)\n']);
      const good = runCli(['validate', '--scenarios', tmp.dir], { env: { OKTELL_TZ: 'Europe/Berlin' } });
      assert.equal(good.code, 0, good.stdout + good.stderr);
    } finally {
      tmp.cleanup();
    }
  });
});
