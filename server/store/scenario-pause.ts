// Paused scenarios (table paused_scenarios, SQLite migration 11, PostgreSQL migration 10): an operator pauses the
// delivery of a scenario whose downstream is down, instead of watching its queued jobs use up their attempts and pile up
// as dead letters. Its webhooks are still taken and answered and its jobs still queued (nothing is lost); every claim
// (of every instance sharing the store) skips them, so they stay queued with their attempts unused. An attempt already
// running when the pause is made finishes. A resume (or the pause's `until` passing) makes them claimable at once.
// The SQL is the same for both stores: positional `$n`, each used once and in order (forSqlite makes SQLite's).
import type { EpochMs } from './store.port.js';

export interface ScenarioPause {
  scenario: string;
  /** Who paused it: the CLI's operator (account@machine) or the console's signed-in user. */
  by: string;
  at: EpochMs;
  reason: string | null;
  /** When the pause ends by itself; null: until resumed. */
  until: EpochMs | null;
  /** Its jobs waiting in the queue now (a pause listed). */
  queued: number;
}

export interface PauseInput {
  scenario: string;
  by: string;
  reason?: string | null;
  until?: EpochMs | null;
}

export const PAUSE_SQL = {
  /** $1 scenario, $2 by, $3 now, $4 reason, $5 until. A pause made again replaces the earlier one (its reason, until). */
  upsert: `INSERT INTO paused_scenarios (scenario, paused_by, paused_at, reason, until) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (scenario) DO UPDATE SET paused_by = excluded.paused_by, paused_at = excluded.paused_at,
      reason = excluded.reason, until = excluded.until`,
  /** $1 scenario. */
  remove: `DELETE FROM paused_scenarios WHERE scenario = $1`,
  /** The pauses in force at $1 (until unset or later), with the queued jobs of each. */
  active: `SELECT p.scenario, p.paused_by, p.paused_at, p.reason, p.until,
      (SELECT COUNT(*) FROM jobs j WHERE j.status = 'queued' AND j.scenario = p.scenario) AS queued
    FROM paused_scenarios p WHERE p.until IS NULL OR p.until > $1 ORDER BY p.scenario`,
  /** Pauses whose until passed before $1: gone, so that a list and a resume see them as ended. */
  ended: `DELETE FROM paused_scenarios WHERE until IS NOT NULL AND until <= $1`,
};

export interface PauseRow {
  scenario: string;
  paused_by: string;
  paused_at: number | string;
  reason: string | null;
  until: number | string | null;
  queued: number | string;
}

export function pauseFromRow(r: PauseRow): ScenarioPause {
  return { scenario: r.scenario, by: r.paused_by, at: Number(r.paused_at), reason: r.reason, until: r.until === null ? null : Number(r.until), queued: Number(r.queued) };
}
