// What the lease fence, pending-letter and may-repeat tests share: scenarios of one and two letters, and the letters an SMTP test server received by subject.
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import type { TestSmtpServer } from '../mail/smtp-server.helper.js';

/** One letter, then the end. */
export const ONE_LETTER = `start: first
blocks:
  first:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"одно"'
    text: '"t"'
    exits: { success: sent }
  sent:
    kind: ReturnValue
    values: { 1: '"sent"' }
`;

export const TWO_LETTERS = `start: first
blocks:
  first:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"первое"'
    text: '"t"'
    exits: { success: second }
  second:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"второе"'
    text: '"t"'
    exits: { success: sent }
  sent:
    kind: ReturnValue
    values: { 1: '"sent"' }
`;

/** How many letters of each subject the server received. */
export async function subjectsOf(server: TestSmtpServer): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const letter of server.letters) {
    const subject = (await simpleParser(letter.raw)).subject ?? '';
    counts[subject] = (counts[subject] ?? 0) + 1;
  }
  return counts;
}

/** Waits until `ok()` holds, looking every 20 ms; fails saying `what` after `ms`. */
export async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  for (let i = 0; i < ms / 20 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ok(), what);
}
