// A file named on the command line that cannot be read, under --json (trial 62, CLI from scripts): docs/cli.md gives
// such a file the code E_FILE (exit 2), and `graph -o` had it, but a webhook body (`webhook send … FILE`) and a run
// parameter's file (`run … -p 4=@FILE`) came out as E_USAGE, so a script telling a missing input file from a wrong
// call by the code could not. Exit 2 both, one JSON object on stdout, nothing on stderr.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

describe('--json: an input file that cannot be read is E_FILE', () => {
  it('webhook send <body> and run -p N=@file', () => {
    const tmp = tempDir();
    try {
      const missing = join(tmp.dir, 'no-such-body.json');
      const cases: [string[], string][] = [
        [['webhook', 'send', '/Bpium/NewTask', missing, '--json', '--url', 'http://127.0.0.1:1', '--user', 'a:b'], `cannot read the body ${missing}: ENOENT: no such file or directory, open '${missing}'`],
        [['run', 'HTTP404', '-p', '1=/x', '-p', `4=@${missing}`, '--dry-run', '--json', '-s', repoPath('scenarios')], `-p 4=@${missing}: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`],
      ];
      for (const [args, message] of cases) {
        const r = runCli(args, { cwd: tmp.dir, unset: ['OKTELL_STORE'] });
        assert.equal(r.code, 2, args.join(' '));
        assert.equal(r.stderr, '', args.join(' '));
        assert.deepEqual(JSON.parse(r.stdout), { status: 'failed', error: { code: 'E_FILE', message } }, args.join(' '));
      }
    } finally {
      tmp.cleanup();
    }
  });
});
