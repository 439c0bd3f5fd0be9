// A Parser query that matches nothing is never silent: the dry run says so, `required: true` takes the error exit,
// and the empty json variable (JSON null) counts as empty for IfEmpty.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const scenario = (prevQuery: string) => `variables:
  body: string
  values: json
  prev: json
  parseError: string
start: begin
blocks:
  begin:
    kind: Start
    param: body
    exits: { next: parse }
  parse:
    kind: Parser
    mode: json
    document: '[body]'
    extract:
      values: $.payload.values
      prev: ${prevQuery}
    errorVariable: parseError
    exits: { success: check, error: failed }
  check:
    kind: ReturnValue
    values:
      1: 'IfEmpty([prev], "no previous values")'
  failed:
    kind: ReturnValue
    values:
      1: '"error: " + [parseError]'
`;

function dryRun(prevQuery: string, json: boolean) {
  const tmp = tempDir();
  try {
    mkdirSync(join(tmp.dir, 'scenarios'));
    writeFileSync(join(tmp.dir, 'scenarios', 'Updated.yaml'), scenario(prevQuery));
    writeFileSync(join(tmp.dir, 'body.json'), '{"payload":{"values":{"2":"Готово"}}}');
    return runCli(['run', 'Updated', '-p', '1=@body.json', '--dry-run', ...(json ? ['--json'] : [])], { cwd: tmp.dir });
  } finally {
    tmp.cleanup();
  }
}

describe('a Parser path that matches nothing', () => {
  it('is noted in the dry-run text output', () => {
    const r = dryRun('$.prevPayload.values', false);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /parse Parser → success[^\n]*\n\s+note no match for `\$\.prevPayload\.values`: prev left empty/);
  });
  it('is noted in the JSON trace, and the empty json variable is empty for IfEmpty', () => {
    const r = dryRun('$.prevPayload.values', true);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { trace: Array<{ block: string; notes?: string[] }>; returnValues: Record<string, unknown>; variables: Record<string, unknown> };
    assert.deepEqual(out.trace.find((s) => s.block === 'parse')?.notes, ['no match for `$.prevPayload.values`: prev left empty']);
    assert.equal(out.variables.prev, 'null');
    assert.deepEqual(out.returnValues, { '1': 'no previous values' });
  });
  it('a match is not noted', () => {
    const r = dryRun('$.payload.values', true);
    const out = JSON.parse(r.stdout) as { trace: Array<{ block: string; notes?: string[] }> };
    assert.equal(out.trace.find((s) => s.block === 'parse')?.notes, undefined);
  });
  it('with required: true takes the error exit with the reason', () => {
    const r = dryRun('{ path: $.prevPayload.values, required: true }', true);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { trace: Array<{ block: string; exit: string }>; returnValues: Record<string, unknown> };
    assert.equal(out.trace.find((s) => s.block === 'parse')?.exit, 'error');
    assert.deepEqual(out.returnValues, { '1': 'error: no match for `$.prevPayload.values` (required for prev)' });
  });
});
