// The readers of files in a data folder (a letter of the outbox, a kept secret) and the outbox folder pinned around a
// use (reading a letter, listing, pruning, writing one): what each answers for a symbolic link, a folder or a named
// pipe in a file's place, and for a missing or linked outbox folder. These pin the answers of readLetter, readLetterIn,
// persistentSecret, the outbox listing and the mailer's write, whatever they share underneath (private-file.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listOutbox, listOutboxPage, pruneOutbox, readOutboxEntry } from '../../adapters/mail/outbox.adapter.js';
import { openRegularFile, openRegularFileSync, RefusedLinkError, withPinnedFolder } from '../../adapters/private-file.js';
import { readLetter, readLetterIn } from '../../server/console/eml-reader.js';
import { readHeaderBlock } from '../../adapters/mail/header-reader.js';
import { persistentSecret } from '../../server/credentials.js';
import { repoPath, repoRoot, tempDir } from '../helpers.js';

const asRoot = process.getuid?.() === 0;
const NAME = '20261201-120001-000-000001-00000001.eml';
const LETTER = 'From: oktell@localhost\r\nTo: ivan@example.com\r\nSubject: Hello\r\n\r\nBody text\r\n';

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo ${path}: ${r.stderr}`);
}

/** An outbox folder with one good letter, and a folder beside it holding a file a link may point to. */
function outboxFolder(dir: string): { outbox: string; elsewhere: string; target: string } {
  const outbox = join(dir, 'outbox');
  mkdirSync(outbox);
  writeFileSync(join(outbox, NAME), LETTER);
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(elsewhere);
  const target = join(elsewhere, 'other.eml');
  writeFileSync(target, 'Subject: Other\r\n\r\nOther body\r\n');
  return { outbox, elsewhere, target };
}

/** Runs `use` with a fresh temporary folder `dir` holding `outboxFolder`'s outbox, and removes it after. */
async function withOutbox(use: (f: ReturnType<typeof outboxFolder> & { dir: string }) => Promise<void>): Promise<void> {
  const tmp = tempDir();
  try {
    await use({ ...outboxFolder(tmp.dir), dir: tmp.dir });
  } finally {
    tmp.cleanup();
  }
}

describe('reading a letter: readLetter and readLetterIn', () => {
  it('a good letter is read, by its path or in its outbox', async () => {
    await withOutbox(async ({ outbox }) => {
      assert.equal((await readLetter(join(outbox, NAME))).text, 'Body text\r\n');
      assert.equal((await readLetterIn(outbox, NAME)).text, 'Body text\r\n');
    });
  });

  it('a letter past the size shown (a sparse 3 GiB file) gets the too-big note from its size, not a read of it', async () => {
    await withOutbox(async ({ outbox }) => {
      const huge = join(outbox, 'huge.eml');
      writeFileSync(huge, LETTER);
      truncateSync(huge, 3 * 1024 ** 3);
      const tooBig = { headers: [], text: `(the letter is ${3 * 1024 ** 3} bytes, too big to show here; open ${huge})` };
      assert.deepEqual(await readLetter(huge), tooBig);
      assert.deepEqual(await readLetterIn(outbox, 'huge.eml'), tooBig);
    });
  });

  it('a folder or a named pipe in a letter\'s place is refused at once, the message naming the letter\'s own path', async () => {
    await withOutbox(async ({ outbox }) => {
      const folder = join(outbox, 'folder.eml');
      mkdirSync(folder);
      const pipe = join(outbox, 'pipe.eml');
      mkfifo(pipe);
      const isFolder = { code: 'EISDIR', message: `EISDIR: illegal operation on a directory, read '${folder}'` };
      await assert.rejects(readLetter(folder), isFolder);
      // In the outbox, opened through the pinned folder (/proc/self/fd/N/… as root): still named by its own path.
      await assert.rejects(readLetterIn(outbox, 'folder.eml'), isFolder);
      const isPipe = { code: 'E_NOT_A_FILE', message: `${pipe} is not a regular file (a named pipe, socket or device)` };
      await assert.rejects(readLetter(pipe), isPipe);
      await assert.rejects(readLetterIn(outbox, 'pipe.eml'), isPipe);
    });
  });

  it('a letter that is a symbolic link: refused as root, with what to do; followed by any other user', async () => {
    await withOutbox(async ({ outbox, target }) => {
      const link = join(outbox, 'link.eml');
      symlinkSync(target, link);
      if (!asRoot) {
        assert.equal((await readLetterIn(outbox, 'link.eml')).text, 'Other body\r\n');
        return;
      }
      const refused = (e: unknown) => {
        assert.ok(e instanceof RefusedLinkError, String(e));
        assert.equal(e.code, 'E_LINK_AS_ROOT');
        assert.equal(e.path, link);
        assert.equal(
          e.message,
          `the letter ${link} is a symbolic link (to ${target}): oktell-emu running as root does not follow it, since whoever owns the folder it is in could point it at /etc or /root and have root write or read there. ` +
            'Fix: put the letter file itself there (or give the path of the file the link points to), or run the command as the data folder\'s owner (sudo -u <owner> …)',
        );
        return true;
      };
      await assert.rejects(readLetter(link), refused);
      await assert.rejects(readLetterIn(outbox, 'link.eml'), refused);
    });
  });

  it('readLetterIn of a missing outbox is ENOENT; of an outbox that is a link, refused as root', async () => {
    await withOutbox(async ({ outbox, dir }) => {
      await assert.rejects(readLetterIn(join(dir, 'none'), NAME), { code: 'ENOENT' });
      const linked = join(dir, 'linked-outbox');
      symlinkSync(outbox, linked);
      if (!asRoot) {
        assert.equal((await readLetterIn(linked, NAME)).text, 'Body text\r\n');
        return;
      }
      await assert.rejects(readLetterIn(linked, NAME), (e: unknown) => {
        assert.ok(e instanceof RefusedLinkError, String(e));
        assert.match(e.message, new RegExp(`^the outbox ${linked} is a symbolic link \\(to ${outbox}\\): oktell-emu running as root does not follow it`));
        assert.match(e.message, /Fix: make it a real folder \(remove the link, make the folder and move what it held into it\)/);
        return true;
      });
    });
  });
});

describe('the outbox pinned for listing and pruning', () => {
  it('a missing outbox folder is an empty outbox to each of them', async () => {
    const tmp = tempDir();
    try {
      const none = join(tmp.dir, 'none');
      assert.deepEqual(await listOutbox(none), []);
      assert.deepEqual(await listOutboxPage(none, { limit: 10 }), { entries: [], total: 0 });
      assert.equal(await pruneOutbox(none, Date.now()), 0);
      assert.equal(await readOutboxEntry(none, NAME), undefined);
    } finally {
      tmp.cleanup();
    }
  });

  it('an outbox that is a link is refused by each of them as root', { skip: asRoot ? false : 'needs root: links are followed for any other user' }, async () => {
    await withOutbox(async ({ outbox, dir }) => {
      const linked = join(dir, 'linked-outbox');
      symlinkSync(outbox, linked);
      const refused = (e: unknown) => e instanceof RefusedLinkError && e.message.startsWith(`the outbox ${linked} is a symbolic link (to ${outbox})`);
      await assert.rejects(listOutbox(linked), refused);
      await assert.rejects(listOutboxPage(linked, { limit: 10 }), refused);
      await assert.rejects(pruneOutbox(linked, Date.now()), refused);
      await assert.rejects(readOutboxEntry(linked, NAME), refused);
      assert.deepEqual(readdirSync(outbox), [NAME], 'nothing pruned where the link points');
    });
  });
});

describe('an error met in a pinned folder names the folder, not the descriptor it was reached through', () => {
  it('withPinnedFolder puts the folder back into the message and path of what use throws', { skip: asRoot ? false : 'needs root: any other user is given the folder itself' }, async () => {
    await withOutbox(async ({ outbox }) => {
      let via = '';
      const err = await withPinnedFolder(outbox, 'the outbox', async (path) => {
        via = path;
        await open(join(path, 'missing', 'x.eml'), 'wx');
      }).catch((e: NodeJS.ErrnoException) => e);
      assert.match(via, /^\/proc\/self\/fd\/\d+$/);
      assert.equal((err as Error).message, `ENOENT: no such file or directory, open '${outbox}/missing/x.eml'`);
      assert.equal((err as NodeJS.ErrnoException).path, `${outbox}/missing/x.eml`);
      // Only the whole descriptor path: one whose number merely starts with it is left as it is.
      let via2 = '';
      const other = await withPinnedFolder(outbox, 'the outbox', async (path) => {
        via2 = path;
        throw new Error(`'${path}/a' then '${path}7/b'`);
      }).catch((e: Error) => e);
      assert.equal(other.message, `'${outbox}/a' then '${via2}7/b'`);
    });
  });

  it('what use throws and cannot be renamed in (a frozen error, a DOMException) is thrown as it is, not a TypeError', { skip: asRoot ? false : 'needs root: any other user is given the folder itself' }, async () => {
    await withOutbox(async ({ outbox }) => {
      let frozen: Error | undefined;
      const got = await withPinnedFolder(outbox, 'the outbox', async (path) => {
        frozen = Object.freeze(Object.assign(new Error(`cannot read '${path}/x.eml'`), { code: 'EIO' }));
        throw frozen;
      }).catch((e: unknown) => e);
      assert.equal(got, frozen, String(got));
      const aborted = new DOMException('The operation was aborted', 'AbortError');
      assert.equal(await withPinnedFolder(outbox, 'the outbox', async () => Promise.reject(aborted)).catch((e: unknown) => e), aborted);
    });
  });
});

describe('no descriptor is left open, on any path', () => {
  it('a file refused after its open (a folder, a pipe), a letter too big, a use that throws or a folder not pinned: all closed', async () => {
    await withOutbox(async ({ outbox, dir }) => {
      const folder = join(outbox, 'folder.eml');
      mkdirSync(folder);
      const pipe = join(outbox, 'pipe.eml');
      mkfifo(pipe);
      const huge = join(outbox, 'huge.eml');
      writeFileSync(huge, LETTER);
      truncateSync(huge, 3 * 1024 ** 3);
      const open = () => readdirSync('/proc/self/fd').length;
      const before = open();
      for (const bad of [folder, pipe]) {
        await assert.rejects(openRegularFile(bad));
        assert.throws(() => openRegularFileSync(bad));
        await assert.rejects(readHeaderBlock(bad));
        await assert.rejects(readLetterIn(outbox, bad.slice(outbox.length + 1)));
      }
      // Counted at once too: a FileHandle left open is closed when it is garbage collected (DEP0137), which may come first.
      assert.equal(open(), before, 'after the refused files');
      assert.match((await readLetterIn(outbox, 'huge.eml')).text ?? '', /too big to show here/);
      assert.equal(open(), before, 'after the letter too big');
      await assert.rejects(withPinnedFolder(outbox, 'the outbox', async () => Promise.reject(new Error('no'))), /^Error: no$/);
      assert.equal(await withPinnedFolder(join(dir, 'none'), 'the outbox', async () => 1, () => 0), 0);
      assert.equal((await listOutbox(outbox)).length, 4);
      assert.equal(open(), before);
    });
  });
});

describe('the mailer writing into an outbox it may not write to', () => {
  it('a letter that cannot be written into the pinned folder is a setting naming the folder, and leaves no temporary file', () => {
    const tmp = tempDir();
    try {
      chmodSync(tmp.dir, 0o755);
      const outbox = join(tmp.dir, 'outbox');
      mkdirSync(outbox, { mode: 0o555 });
      // Root writes anywhere: the write is tried as another user (nobody), as a service's own user would run.
      if (asRoot) chownSync(outbox, 0, 0);
      const script = `const { createOutboxMailer } = await import(${JSON.stringify(repoPath('dist', 'adapters', 'mail', 'outbox.adapter.js'))});
        try {
          await createOutboxMailer({ dir: ${JSON.stringify(outbox)}, from: 'oktell@localhost' }).send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'x', text: 'y' });
          console.log('sent');
        } catch (e) {
          console.log(JSON.stringify({ name: e.name, kind: e.kind, details: e.details, message: e.message }));
        }`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout) as { kind: string; details: Record<string, unknown>; message: string };
      assert.equal(got.kind, 'permanent');
      assert.deepEqual(got.details, { code: 'EACCES', attempts: 1, setting: true });
      assert.match(got.message, new RegExp(`^cannot write the letter into the outbox ${outbox}: EACCES: permission denied, open '${outbox}/\\.[^']+\\.eml\\.tmp'; a setting: make the outbox folder writable by the server`));
      assert.deepEqual(readdirSync(outbox), [], 'no temporary file left');
    } finally {
      tmp.cleanup();
    }
  });
  it('as root, a letter that cannot be written names the outbox, not the descriptor it was pinned by', { skip: asRoot && spawnSync('setpriv', ['--bounding-set=-all', '--inh-caps=-all', '--', 'true']).status === 0 ? false : 'needs root and a setpriv allowed to drop capabilities' }, () => {
    const tmp = tempDir();
    try {
      const outbox = join(tmp.dir, 'outbox');
      mkdirSync(outbox, { mode: 0o555 });
      // Root without its capabilities (setpriv drops them all): still uid 0, so the outbox is pinned (/proc/self/fd/N),
      // but no longer allowed to write into a folder of mode 0555.
      const script = `const { createOutboxMailer } = await import(${JSON.stringify(repoPath('dist', 'adapters', 'mail', 'outbox.adapter.js'))});
        try {
          await createOutboxMailer({ dir: ${JSON.stringify(outbox)}, from: 'oktell@localhost' }).send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'x', text: 'y' });
          console.log('sent');
        } catch (e) {
          console.log(JSON.stringify({ kind: e.kind, details: e.details, message: e.message }));
        }`;
      const r = spawnSync('setpriv', ['--bounding-set=-all', '--inh-caps=-all', '--', process.execPath, '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout) as { kind: string; details: Record<string, unknown>; message: string };
      assert.deepEqual([got.kind, got.details], ['permanent', { code: 'EACCES', attempts: 1, setting: true }]);
      assert.match(got.message, new RegExp(`^cannot write the letter into the outbox ${outbox}: EACCES: permission denied, open '${outbox}/\\.[^']+\\.eml\\.tmp'; a setting: `));
      assert.deepEqual(readdirSync(outbox), [], 'no temporary file left');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('a kept secret file (persistentSecret)', () => {
  it('a folder in its place is refused, naming the file; a good one is read as kept', () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'folder-secret'));
      assert.throws(() => persistentSecret(tmp.dir, 'folder-secret'), { code: 'EISDIR', message: `EISDIR: illegal operation on a directory, read '${join(tmp.dir, 'folder-secret')}'` });
      writeFileSync(join(tmp.dir, 'kept-secret'), '  kept-value \n');
      assert.equal(persistentSecret(tmp.dir, 'kept-secret'), 'kept-value');
    } finally {
      tmp.cleanup();
    }
  });
});
