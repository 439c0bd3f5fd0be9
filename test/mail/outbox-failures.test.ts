// How a failed write into the outbox is judged, code by code: a failure that may pass is retried (transient), any
// other is a setting whose message says what to check. Errors made the way Node's fs makes them (an Error with an
// errno code); the end-to-end case (a file where the folder should be) is in faults/outbox-unwritable.
import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createOutboxMailer, outboxWriteFailure } from '../../adapters/mail/outbox.adapter.js';
import { EffectError } from '../../engine/index.js';
import { tempDir } from '../helpers.js';

const fsError = (code: string | undefined) => Object.assign(new Error(`${code ?? 'no code'}: failed, open '/srv/outbox/.x.eml.tmp'`), code ? { code } : {});

describe('outbox write failures', () => {
  const cases: Array<[code: string | undefined, kind: 'transient' | 'permanent', hint?: RegExp]> = [
    ['ENOSPC', 'transient'],
    ['EDQUOT', 'transient'],
    ['EMFILE', 'transient'],
    ['EIO', 'transient'],
    // The folder removed while the letter was written: the next attempt makes it again.
    ['ENOENT', 'transient'],
    ['ESTALE', 'transient'],
    ['EACCES', 'permanent', /a setting: make the outbox folder writable by the server \(its owner and mode, or an immutable attribute\)/],
    ['EPERM', 'permanent', /a setting: make the outbox folder writable/],
    ['EROFS', 'permanent', /a setting: the outbox is on a read-only file system: mount it read-write/],
    ['ENOTDIR', 'permanent', /a setting: a file stands where the outbox folder \(or a folder above it\) should be/],
    ['EEXIST', 'permanent', /a setting: a file stands where/],
    ['EXDEV', 'permanent', /a setting: check that the outbox folder exists as a folder the server can write to/],
    [undefined, 'permanent', /a setting: check that the outbox folder exists/],
  ];
  for (const [code, kind, hint] of cases) {
    it(`${code ?? 'an error without a code'} is ${kind === 'transient' ? 'retried' : 'a setting'}`, () => {
      const e = outboxWriteFailure(fsError(code), 'write the letter into the outbox /srv/outbox');
      assert.equal(e.kind, kind);
      assert.match(e.message, /^cannot write the letter into the outbox \/srv\/outbox: /);
      if (kind === 'transient') {
        assert.equal(e.details.setting, undefined);
        assert.doesNotMatch(e.message, /a setting/);
      } else {
        assert.equal(e.details.setting, true);
        assert.match(e.message, hint!);
      }
      assert.equal(e.details.code, code);
    });
  }

  it('ENOENT from making the folder (a symbolic link to a folder that does not exist) is a setting, not retried', async () => {
    const t = tempDir('oktell-outbox-dangling-');
    try {
      // The outbox a link to a volume that is not mounted: no attempt will ever write there.
      const dir = join(t.dir, 'outbox');
      symlinkSync(join(t.dir, 'unmounted', 'outbox'), dir);
      const mailer = createOutboxMailer({ dir, from: 'robot@example.com' });
      const e = await mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' }).then(
        () => assert.fail('written'),
        (err: unknown) => err,
      );
      assert.ok(e instanceof EffectError);
      assert.equal(e.details.code, 'ENOENT');
      assert.equal(e.kind, 'permanent');
      assert.equal(e.details.setting, true);
      assert.match(e.message, /a setting: the outbox folder cannot be made: it \(or a folder above it\) is a symbolic link to a folder that does not exist/);
    } finally {
      t.cleanup();
    }
  });
});
