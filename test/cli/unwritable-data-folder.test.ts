// A data folder that is there but not the server's user's (trial 53, deploy, finding 4): made by root with
// `mkdir /var/lib/oktell` and no chown, the service's start stopped at the first file it wrote, `cannot open
// /var/lib/oktell/server-user.json: permission denied (EACCES)`, with neither whose folder it is nor the fix. The start
// now names the folder, the user, the folder's owner and mode, and the chown to type, before writing anything. Run as
// the user nobody on a folder root owns, so it needs root; says so otherwise.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { serveAsNobody } from './cli.helper.js';

describe('serve on a data folder its user may not write in', { skip: process.getuid?.() !== 0 ? 'needs root, to start the server as the user nobody' : false }, () => {
  for (const users of ['', 'a:b']) {
    it(`${users ? 'with OKTELL_USERS' : 'with a generated user'}: one line naming the folder, its owner and the fix, exit 2, nothing written`, () => {
      const tmp = tempDir();
      try {
        chmodSync(tmp.dir, 0o755);
        const data = join(tmp.dir, 'lib');
        mkdirSync(data, { mode: 0o755 }); // root's, as `mkdir /var/lib/oktell` leaves it
        const r = serveAsNobody(['--port', '0', '--bpium-emulator-port', '0', '--data-dir', data], { users });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, new RegExp(`^oktell-emu: the data folder ${data} is not writable by the user the server runs as \\(nobody; the folder belongs to uid 0, mode 755\\): give it the folder \\(chown nobody ${data}; chmod 700 ${data}\\) or choose another with --data-dir`));
        assert.deepEqual(readdirSync(data), []);
      } finally {
        tmp.cleanup();
      }
    });
  }

  // The folder's owner is read after the access check: a folder removed between the two (a cleanup script, another
  // instance's installer) made that read throw its raw ENOENT. The removal is made to happen there by a preload that
  // removes the folder when the check of it fails.
  // Or a folder on its path replaced by a file meanwhile (ENOTDIR): said as such, not as "removed".
  for (const [how, said] of [
    ['removed', 'was removed'],
    ['replaced', 'stopped being reachable (a folder on its path was replaced by a file)'],
  ] as const) {
    it(`a folder ${how} while the start checks it: one line saying so, exit 2`, () => {
      const tmp = tempDir();
      try {
        chmodSync(tmp.dir, 0o755);
        const parent = join(tmp.dir, 'parent');
        mkdirSync(parent);
        chownSync(parent, 65534, 65534); // nobody's, so nobody may remove what is in it
        const mid = join(parent, 'mid');
        mkdirSync(mid);
        chownSync(mid, 65534, 65534);
        const data = join(mid, 'lib');
        mkdirSync(data, { mode: 0o755 });
        const preload = join(tmp.dir, 'remove-after-access.mjs');
        writeFileSync(
          preload,
          `import fs from 'node:fs';
  import { syncBuiltinESMExports } from 'node:module';
  const target = ${JSON.stringify(data)};
  const access = fs.accessSync;
  fs.accessSync = function (path, mode) {
    try {
      return access.call(this, path, mode);
    } catch (e) {
      if (String(path) === target && fs.existsSync(target)) {
        fs.rmdirSync(target);
        if (${JSON.stringify(how)} === 'replaced') {
          fs.rmdirSync(${JSON.stringify(mid)});
          fs.writeFileSync(${JSON.stringify(mid)}, '');
        }
      }
      throw e;
    }
  };
  syncBuiltinESMExports();
  `,
        );
        const r = serveAsNobody(['--port', '0', '--bpium-emulator-port', '0', '--data-dir', data], { nodeArgs: ['--import', preload] });
        assert.equal(existsSync(data), false, 'the preload removed the folder');
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stderr, `oktell-emu: the data folder ${data} ${said} while the start checked it (it was there, and not writable by nobody): start again to have it made, or choose another with --data-dir, OKTELL_DATA_DIR or dataDir: in the config file\n`);
      } finally {
        tmp.cleanup();
      }
    });
  }
});
