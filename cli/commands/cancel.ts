// `oktell-emu cancel`: takes queued jobs (waiting for their first run, a retry or a replay) out of the queue without
// losing them. Each becomes a dead letter with the error R_CANCELLED, so `runs --status dead` lists it and `replay`
// brings it back. A running job is not stopped from outside, which could cut an effect in half: a cancel request is
// recorded on it (store/cancel-request.ts), its worker sees it with its next lease renewal and stops the attempt before
// its next block, and the job becomes the same dead letter (a success that came first stays a success).
import { hostname, userInfo } from 'node:os';
import { cancelledError, cancelRequestText, goneWorkerOf, notCancellable, wasCancelled } from '../../server/run-status.js';
import type { JobRecord, Store } from '../../server/store/store.port.js';
import { dataDirArg, oneOf, shellWord, storeSettings, UsageError } from '../config.js';
import { withStore } from '../store.js';
import { terminalText } from '../format.js';
import { readServerFile } from '../server-file.js';
import { dataFolderHeld } from '../../server/data-lock.js';
import { jobSelection, JOB_IDS_SHOWN, queuedJobIds } from './runs.js';
import { someOf } from '../../engine/suggest.js';

type CancelOptions = { status?: string; since?: string; scenario?: string; task?: string; dataDir?: string; config?: string; json?: boolean };

/** Who cancelled, for the job's error: the operator's account and machine, as far as they can be read. */
export function operator(): string {
  let user = '';
  try {
    user = userInfo().username;
  } catch {
    // no account name (a container without a passwd entry): the machine alone
  }
  return `${user ? `${user}@` : ''}${hostname()}`;
}

function ids(list: readonly string[]): string {
  return `${someOf(list, JOB_IDS_SHOWN)}${list.length > JOB_IDS_SHOWN ? ' (--json lists every id)' : ''}`;
}

/**
 * The pid the live server of a SQLite data folder wrote in its serve.json, when the folder's lock is held (a lock
 * seen across pid namespaces, where kill(pid, 0) is not): its workers' ids carry that pid as its namespace counts it.
 */
function servingPid(dataDir: string): number | undefined {
  try {
    return dataFolderHeld(dataDir) ? readServerFile(dataDir, () => true)?.pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The job a named run (or job) id cancels, or why it cannot be: the id unknown, the job running or ended. A job
 * cancelled already is neither: it is as the command would leave it (`already`), as `replay` of a job queued already
 * makes it due and exits 0.
 */
async function cancelTarget(store: Store, id: string, dirFlag: string): Promise<JobRecord | { problem: string } | { already: JobRecord } | { running: JobRecord }> {
  const run = await store.getRun(id);
  const jobId = run?.jobId ?? id;
  const job = await store.getJob(jobId);
  if (!job) {
    if (run) return { problem: `${id}: the run of ${run.scenario} started by ${run.trigger === 'http' ? 'a webhook' : run.trigger}, not a queued job: nothing to cancel` };
    return { problem: `${id}: no such job or run (the queued jobs: npx oktell-emu runs --status queued${dirFlag})` };
  }
  if (job.status === 'queued') return job;
  if (wasCancelled(job)) return { already: job };
  if (job.status === 'running') return job.cancelRequest ? { already: job } : { running: job };
  return { problem: `job ${job.id} (${job.scenario}) ${notCancellable(job)}` };
}

export async function cancelAction(names: string[], o: CancelOptions): Promise<void> {
  if (o.since && !o.status) throw new UsageError('--since goes with --status queued: it selects the queued jobs created at or after that time');
  if (o.scenario && !o.status) throw new UsageError('--scenario goes with --status queued: it selects the queued jobs of that scenario');
  if (o.task && !o.status) throw new UsageError('--task goes with --status queued: it selects the queued jobs of that service task');
  if (!names.length && !o.status) throw new UsageError('name the jobs to cancel, or --status queued (see: oktell-emu runs --status queued)');
  if (names.length && o.status) throw new UsageError('name jobs or give --status queued, not both');
  if (o.status) oneOf('--status', o.status, ['queued']);
  // --task: the jobs of a service task (due, catch-up and manual runs), whatever scenario they run: the retries of a
  // task removed from the configuration, say.
  const selection = jobSelection(o);
  const filter = { ...selection.filter, ...(o.task ? { task: o.task } : {}) };
  const filterArgs = [selection.filterArgs, o.task && `--task ${shellWord(o.task)}`].filter(Boolean).join(' ');
  const settings = storeSettings(o);
  const dirFlag = settings.store.kind === 'sqlite' ? dataDirArg(settings.dataDir) : '';
  const by = `oktell-emu cancel, ${operator()}`;
  const error = cancelledError(by);
  // Named running jobs whose cancel this command requested: their attempts stop at their next block boundary.
  let requested: JobRecord[] = [];
  // Named jobs that kept moving between the queue and a worker, or ended, while this command ran: said (exit 1); or
  // cancelled by someone else first (the console, another cancel), which is what was asked: said, exit 0.
  let taken: JobRecord[] = [];
  // Named jobs cancelled already (before this command looked, or meanwhile by someone else): said, exit 0.
  const already: JobRecord[] = [];
  const cancelled = await withStore(o, async (store): Promise<string[]> => {
    if (o.status) {
      const filtered = filter.since !== undefined || filter.scenario !== undefined || filter.task !== undefined;
      if (!filtered) return store.cancelJobs({ status: 'queued' }, error);
      const chosen = await queuedJobIds(store, filter);
      // By id, each only while still queued: one claimed meanwhile runs, and is not counted.
      return chosen.length ? store.cancelJobs({ ids: chosen }, error) : [];
    }
    // Every named id is checked first: one that cannot be cancelled is said, and nothing is changed.
    const targets: JobRecord[] = [];
    const running: JobRecord[] = [];
    const problems: string[] = [];
    for (const id of names) {
      const t = await cancelTarget(store, id, dirFlag);
      if ('problem' in t) problems.push(t.problem);
      else if ('already' in t) {
        if (!already.some((j) => j.id === t.already.id)) already.push(t.already);
      } else if ('running' in t) {
        if (!running.some((j) => j.id === t.running.id)) running.push(t.running);
      } else if (!targets.some((j) => j.id === t.id)) targets.push(t);
    }
    if (problems.length) throw new UsageError(problems.join('\n'));
    // Each job as last read: a queued one is taken out of the queue, a running one has its cancel requested. One that
    // moved between the read and the update is read again and handled from its state now: claimed by a worker (its
    // cancel is requested), or back in the queue after an attempt that failed and waits for a retry (taken out of the
    // queue, as asked), as the console's Cancel does. Moves are followed twice at most: a job that keeps moving is said.
    const done: string[] = [];
    const asked: string[] = [];
    const left: JobRecord[] = [];
    const movable = (j: JobRecord) => !wasCancelled(j) && (j.status === 'queued' || (j.status === 'running' && !j.cancelRequest));
    let pending: JobRecord[] = [...targets, ...running];
    for (let round = 0; pending.length; round++) {
      const queued = pending.filter((j) => j.status === 'queued').map((j) => j.id);
      const toAsk = pending.filter((j) => j.status === 'running' && !j.cancelRequest).map((j) => j.id);
      const d = queued.length ? await store.cancelJobs({ ids: queued }, error) : [];
      const a = toAsk.length ? await store.requestCancel(toAsk, by) : [];
      done.push(...d);
      asked.push(...a);
      // Each one left out is read again, to say what took it (a cancel of someone else, the console or another
      // `cancel`, that came first; its attempt that ended) or to follow its move.
      const now = await Promise.all(pending.filter((j) => !d.includes(j.id) && !a.includes(j.id)).map(async (j) => (await store.getJob(j.id)) ?? j));
      const moved = round < 2 ? now.filter(movable) : [];
      left.push(...now.filter((j) => !moved.includes(j)));
      pending = moved;
    }
    requested = await Promise.all(asked.map(async (id) => (await store.getJob(id)) ?? [...targets, ...running].find((j) => j.id === id)!));
    const cancelledBySomeone = (j: JobRecord) => wasCancelled(j) || (j.status === 'running' && j.cancelRequest !== null);
    already.push(...left.filter(cancelledBySomeone));
    taken = left.filter((j) => !cancelledBySomeone(j));
    return done;
  }, (folder) => {
    // No store file: nothing was ever queued there, and no store is created just to find that out.
    if (names.length) throw new UsageError(`${names[0]}: no such job or run: no runs recorded in ${folder} yet (no oktell.sqlite there)`);
    return [];
  }, settings);
  if (o.json) process.stdout.write(`${JSON.stringify([...cancelled, ...requested.map((j) => j.id)])}\n`);
  else if (cancelled.length) {
    process.stdout.write(
      `cancelled ${cancelled.length} queued job(s): ${ids(cancelled)}\n` +
        `they are dead letters now (R_CANCELLED), kept with their runs: npx oktell-emu runs --status dead${dirFlag} lists them; npx oktell-emu replay <job id>${dirFlag} brings one back\n`,
    );
  } else if (o.status) process.stdout.write(`nothing to cancel: no queued job${filterArgs ? ` matching ${filterArgs}` : ''}\n`);
  if (!o.json && requested.length) {
    // Not stopped from here (that could cut a letter in half): its worker sees the request with its next lease renewal.
    const sqlite = settings.store.kind === 'sqlite';
    for (const j of requested) {
      process.stdout.write(`cancel requested for running job ${j.id} (${terminalText(j.scenario)}): ${cancelRequestText(j)}\n`);
      // Its worker is known to be gone (killed): none of it reads the request; the server that takes the job over does.
      const gone = goneWorkerOf(j, { sqlite, ...(sqlite ? { servingPid: servingPid(settings.dataDir) } : {}) });
      if (gone) process.stdout.write(`  ${terminalText(gone)}: the server that takes the job over (another instance once the lease has run out, or the next start on this store) stops it before its first block\n`);
    }
    process.stdout.write(
      `its attempt stops at its next block boundary (a block under way, a letter being sent, finishes first; its worker sees the request within a third of the lease), then it is a dead letter (R_CANCELLED) that npx oktell-emu replay <job id>${dirFlag} brings back; ` +
        `an attempt that succeeds before that stays a success, and one that fails is not retried. Follow it: npx oktell-emu show <job id>${dirFlag}\n`,
    );
  }
  // Cancelled already, by an earlier cancel or by someone else meanwhile: it is out of the queue as asked, so the
  // command succeeds (exit 0), as `replay` of a job queued already does; said, so that nobody thinks this did it.
  if (!o.json) {
    for (const j of already) {
      const by = (j.lastError as { message?: unknown } | null)?.message;
      if (j.status === 'running' && j.cancelRequest) {
        process.stdout.write(`job ${j.id} (${terminalText(j.scenario)}) is running with a ${terminalText(cancelRequestText(j))} already: its attempt stops at its next block boundary; nothing changed\n`);
        continue;
      }
      process.stdout.write(`job ${j.id} (${terminalText(j.scenario)}) was cancelled already${by ? ` (${terminalText(String(by))})` : ''}: it is a dead letter; nothing changed\n`);
    }
  }
  if (taken.length) {
    // Kept moving between the queue and a worker, or ended meanwhile (an attempt that succeeded, a replay elsewhere
    // that a worker then ran): said, exit 1.
    for (const j of taken) process.stderr.write(`oktell-emu: job ${j.id} (${terminalText(j.scenario)}) was not cancelled by this command: it changed meanwhile (it is ${j.status} now); see: npx oktell-emu show ${j.id}${dirFlag}\n`);
    process.exitCode = 1;
  }
}
