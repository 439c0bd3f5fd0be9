// Console pages of the local outbox: the letters stored as .eml files, and one letter's text and HTML.
import { basename } from 'node:path';
import type { Router } from 'express';
import { listOutboxPage, outboxDir, readOutboxEntry, type OutboxEntry } from '../../adapters/mail/index.js';
import { decodeAddressHeader, decodeHeaderWords } from '../../adapters/mail/header-reader.js';
import type { ConsoleContext } from './console.router.js';
import { consoleBase, timeFormatter } from './console-views.js';
import { readLetterIn } from './eml-reader.js';
import { RefusedLinkError } from '../../adapters/private-file.js';
import { sendLetterHtml } from './run.routes.js';

/** Outbox file names as the outbox writes them; nothing else is opened (no paths, no dot files). */
const LETTER_NAME = /^[0-9]{8}-[0-9]{6}-[0-9]{3}-[0-9]{6}-[0-9a-f]{8}\.eml$/;
const SHOWN = 200;

export function outboxRoutes(router: Router, ctx: ConsoleContext): void {
  const dir = outboxDir(ctx.d.config.dataDir);
  const time = timeFormatter(ctx.d.config.timeZone);
  const nameOf = (e: OutboxEntry) => basename(e.file);

  /** Reads only the named file: a lookup costs the same however many letters the outbox holds. */
  async function find(name: string): Promise<OutboxEntry | undefined> {
    if (!LETTER_NAME.test(name)) return undefined;
    return readOutboxEntry(dir, name);
  }

  router.get('/outbox', async (req, res, next) => {
    try {
      // ?before=<file name>: the page of letters older than that one (the "older" link).
      const before = typeof req.query.before === 'string' && LETTER_NAME.test(req.query.before) ? req.query.before : undefined;
      const page = await listOutboxPage(dir, { limit: SHOWN, ...(before ? { before } : {}) });
      const letters = page.entries
        .reverse()
        // A file that could not be read is listed with why (the others are shown as ever).
        .map((e) => ({ name: nameOf(e), time: e.time ? time(e.time) : '', to: e.to.join(', '), cc: e.cc.join(', '), subject: e.subject, problem: e.problem }));
      ctx.render(res, 'outbox.njk', {
        title: 'Outbox',
        nav: 'outbox',
        letters,
        total: page.total,
        shown: letters.length,
        dir,
        // Which way letters leave: with SMTP in use the outbox stays empty, and the page says where letters go instead.
        smtp: ctx.d.mail?.kind === 'smtp' ? ctx.d.mail.describe.replace(/^SMTP /, '') : undefined,
        olderUrl: page.olderBefore ? `${consoleBase(res)}/outbox?before=${encodeURIComponent(page.olderBefore)}` : undefined,
        newestUrl: before ? `${consoleBase(res)}/outbox` : undefined,
        unreadable: letters.filter((l) => l.problem).length,
      });
    } catch (e) {
      if (e instanceof RefusedLinkError) return refused(res, e);
      next(e);
    }
  });

  /** The outbox folder (or a letter) is a symbolic link, which the console running as root does not follow: why, and what to do. */
  function refused(res: Parameters<typeof ctx.notFound>[0], e: RefusedLinkError): void {
    ctx.render(res, 'error.njk', { title: 'Outbox not read', message: `${e.message}.`, nav: 'outbox' }, 500);
  }

  /** A letter that cannot be read (`entry.problem`): its page says why, as the list does. */
  function unreadable(res: Parameters<typeof ctx.notFound>[0], entry: OutboxEntry): void {
    ctx.render(res, 'error.njk', { title: 'Letter not readable', message: `The letter ${nameOf(entry)} in ${dir} is ${entry.problem}.`, nav: 'outbox', link: { href: `${consoleBase(res)}/outbox`, text: 'Back to the outbox' } }, 500);
  }

  router.get('/outbox/:name', async (req, res, next) => {
    try {
      const entry = await find(req.params.name);
      if (!entry) return ctx.notFound(res, 'There is no such letter in the outbox.');
      if (entry.problem) return unreadable(res, entry);
      const letter = await readLetterIn(dir, nameOf(entry));
      const header = (n: string) => decodeHeaderWords(letter.headers.find(([k]) => k === n)?.[1] ?? '');
      // A sender's or Bcc's display name holding a comma or a quote is quoted again, so it reads as one mailbox.
      const addresses = (n: string) => decodeAddressHeader(letter.headers.find(([k]) => k === n)?.[1] ?? '');
      ctx.render(res, 'letter.njk', {
        title: entry.subject || 'Letter',
        nav: 'outbox',
        sentBy: sentByOf(header('x-oktell-reference')),
        letter: { name: nameOf(entry), time: time(entry.time), from: addresses('from'), to: entry.to.join(', '), cc: entry.cc.join(', '), bcc: addresses('bcc'), subject: entry.subject, messageId: entry.messageId, text: letter.text, hasHtml: letter.html !== undefined },
      });
    } catch (e) {
      if (e instanceof RefusedLinkError) return refused(res, e);
      next(e);
    }
  });

  router.get('/outbox/:name/html', async (req, res, next) => {
    try {
      const entry = await find(req.params.name);
      if (entry?.problem) return unreadable(res, entry);
      const letter = entry ? await readLetterIn(dir, nameOf(entry)) : undefined;
      if (letter?.html === undefined) return ctx.notFound(res, 'This letter has no HTML part.');
      sendLetterHtml(res, letter.html);
    } catch (e) {
      if (e instanceof RefusedLinkError) return refused(res, e);
      next(e);
    }
  });
}

/**
 * The run and block that sent a letter, from its `X-Oktell-Reference: <run id>/<block>` header (the SMTP adapter and
 * the outbox write it), so the letter page can link back to the run. Undefined for a header of another shape.
 */
export function sentByOf(reference: string): { runId: string; block: string } | undefined {
  const m = /^([A-Za-z0-9_-]{1,80})\/([^\s/]{1,200})$/.exec(reference.trim());
  return m ? { runId: m[1]!, block: m[2]! } : undefined;
}
