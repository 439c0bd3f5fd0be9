// The libraries a run loads on first use, loaded up front by the processes and threads that run jobs.
import { loadPg } from '../adapters/db/postgres.js';
import type { DatabaseSettings } from '../adapters/db/settings.js';
import { loadComposer } from '../adapters/mail/outbox.adapter.js';
import { compilePattern } from '../components/re2-pattern.js';
import { queryJsonPath } from '../engine/index.js';

/**
 * Loads up front the libraries runs load when first used: jsonpath-plus, re2js, the MIME composer when letters go to
 * the outbox, and pg when a scenario database is PostgreSQL. Loaded for the first time under load with the process
 * out of file descriptors (EMFILE), Node keeps the failure as "Cannot find module 'jsonpath-plus'", and every run of a
 * Parser block failed for good with it until a restart, replays included (trial 46). Called by `serve` before it
 * listens and by the delivery thread before it claims a job. Reading the scenarios (validate, the CLI) still loads
 * none of them.
 */
export async function loadRunLibraries(o: { outbox: boolean; databases: DatabaseSettings }): Promise<void> {
  queryJsonPath('$', {});
  compilePattern('a', '');
  if (o.outbox) await loadComposer();
  // The PostgreSQL driver of the scenarios' databases (DbQuery and the other database blocks), when one is configured.
  if (Object.values(o.databases).some((d) => d.dialect === 'postgres')) await loadPg();
}
