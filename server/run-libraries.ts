// The libraries a run loads on first use, loaded up front by the processes and threads that run jobs.
import { loadComposer } from '../adapters/mail/outbox.adapter.js';
import { compilePattern } from '../components/re2-pattern.js';
import { queryJsonPath } from '../engine/index.js';

/**
 * Loads up front the libraries runs load when first used (jsonpath-plus, re2js; the MIME composer
 * when letters go to the outbox). Loaded for the first time under load with the process out of file descriptors
 * (EMFILE), Node keeps the failure as "Cannot find module 'jsonpath-plus'", and every run of a Parser block failed for
 * good with it until a restart, replays included (trial 46). Called by `serve` before it listens and by the
 * delivery thread before it claims a job. Reading the scenarios (validate, the CLI) still loads none of them.
 */
export async function loadRunLibraries(outbox: boolean): Promise<void> {
  queryJsonPath('$', {});
  compilePattern('a', '');
  if (outbox) await loadComposer();
}
