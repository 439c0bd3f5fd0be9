// The upgrade fixtures of the build of 2026-12-02 (test/fixtures/upgrade/sqlite-2026-12-02.sql and its PostgreSQL twin
// postgres-2026-12-02.sql) hold the same rows: their jobs, runs, recipients and login, and how to read their letters,
// shared by upgrade.test.ts and upgrade-postgres.test.ts.
import type { ReceivedLetter } from '../mail/smtp-server.helper.js';

/** The jobs of the fixtures, as that build left them. */
export const JOB = {
  /** Queued for its retry: its first letter (Иван) was sent and journaled, the second (Мария) refused with 451. */
  halfSent: '01m92sh0cem6xjyqh2rjm5p35s',
  /** Queued for its retry: both letters refused with 451, nothing sent. */
  noneSent: '01m92sgbdsde589tczs1gtjxcg',
  /** Dead letter after 3 attempts (451), nothing sent. */
  dead: '01m92sayrweqqr2k174982dssn',
  /** Running when the server was killed, its letter written whole and never answered (a pending mark). */
  pending: '01m92sb8zagfftz7dgwmwsbjz0',
  /** Delivered: both letters sent. */
  delivered: '01m92s9tx8e5w24g9fdzh2568f',
};
export const DEAD_LAST_RUN = '01m92sb2947t9w45azqkrv2s0x';
export const DELIVERED_RUN = '01m92s9tyqza6hjtbcb6ktyekg';
export const IVAN = 'ivan.petrov@example.com';
export const MARIA = 'maria.smirnova@example.org';
export const OPS = { login: 'ops', password: 'upgrade-trial-password' };

/** A header of a received letter. */
export const header = (l: ReceivedLetter, name: string): string | undefined =>
  new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(l.raw.toString('utf8').split(/\r?\n\r?\n/)[0]!)?.[1]?.trim();
/** How many of the letters went to `address`. */
export const lettersTo = (letters: ReceivedLetter[], address: string): number => letters.filter((l) => l.rcptTo.includes(address)).length;
