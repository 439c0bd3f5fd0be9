// `oktell-emu runs`, `show`, `replay`, `cancel`, `pause` and `resume`: the command line (arguments, options, help). What the command does is in ./runs.js, imported
// when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command } from 'commander';
import { CONFIG_FILE_HELP, RUNS_GREP_HELP, RUNS_SCAN_HELP, RUNS_WHERE_HELP, STORE_DATA_DIR_HELP } from '../help-texts.js';

export function runsCommand(): Command {
  return new Command('runs')
    .description('list recorded runs, newest first')
    .option('--status <status>', `completed | failed | running, dead (runs of dead-lettered jobs), or queued (the jobs waiting for a first run, a retry or a replay)`)
    .option('--scenario <name>', 'only this scenario')
    .option('--since <time>', 'started at or after: an ISO time or 30m, 2h, 7d')
    .option('-n, --limit <n>', 'how many (default 50)')
    .option('--grep <text>', RUNS_GREP_HELP)
    .option('--where <path=value>', RUNS_WHERE_HELP)
    .option('--scan <n>', RUNS_SCAN_HELP)
    .option('--json', 'print a JSON array')
    .option('--config <file>', CONFIG_FILE_HELP)
    .option('-d, --data-dir <dir>', STORE_DATA_DIR_HELP)
    .action(async (o: { status?: string; scenario?: string; since?: string; limit?: string; grep?: string; where?: string; scan?: string; json?: boolean; dataDir?: string; config?: string }) => (await import('./runs.js')).runsAction(o));
}

export function showCommand(): Command {
  return new Command('show')
    .description('show one run: parameters, trace with variables, return values, letters, Bpium calls, web requests, database statements, the jobs it started')
    .argument('<runId>', 'a run id, a job id (its last run is shown), or a delivery key, Bpium\'s bpium:<hook id>:<sequenceId>[@<route>] or a Standard Webhooks sender\'s webhook:<webhook-id>[@<route>] (the webhook\'s inbox entry and its run)')
    .option('--json', 'print the run as JSON')
    .option('--config <file>', CONFIG_FILE_HELP)
    .option('-d, --data-dir <dir>', STORE_DATA_DIR_HELP)
    .action(async (id: string, o: { json?: boolean; dataDir?: string; config?: string }) => (await import('./runs.js')).showAction(id, o));
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('send failed or dead-lettered jobs back to the queue (a running server picks them up)')
    .argument('[runIds...]', 'runs (or job ids) to replay; a job queued for a later retry is made due now')
    .option('--status <status>', 'replay every job with this status: dead or failed (except those of unknown outcome, those whose scenario changed and those cancelled: see --include-unknown, --include-changed, --include-cancelled); queued makes the jobs waiting for a later retry due now')
    .option('--since <time>', 'with --status: only the jobs that failed or died (with queued: were created) at or after this time: an ISO time or 30m, 2h, 7d')
    .option('--scenario <name>', 'with --status: only the jobs of this scenario')
    .option('--include-unknown', 'with --status: replay also the jobs whose last effect has an unknown outcome (R_EFFECT_UNKNOWN: a letter that may have been delivered), doing it again')
    .option('--include-cancelled', 'with --status: replay also the jobs taken out of the queue with oktell-emu cancel (R_CANCELLED)')
    .option('--include-changed', 'with --status: replay also the jobs stopped because their scenario changed since their effects were made (R_SCENARIO_CHANGED), on the version loaded now: the effects of renamed blocks are made again')
    .option('--pinned', 'replay on the scenario version the run had, not the current one (a replay on the current one stops with R_SCENARIO_CHANGED when blocks that made effects were renamed since, unless the job stopped so already)')
    .option('--config <file>', CONFIG_FILE_HELP)
    .option('-d, --data-dir <dir>', STORE_DATA_DIR_HELP)
    .option('--json', 'print the requeued job ids as JSON')
    .action(async (ids: string[], o: { status?: string; since?: string; scenario?: string; includeUnknown?: boolean; includeChanged?: boolean; includeCancelled?: boolean; pinned?: boolean; dataDir?: string; config?: string; json?: boolean }) => (await import('./runs.js')).replayAction(ids, o));
}

export function cancelCommand(): Command {
  return new Command('cancel')
    .description('take queued jobs (waiting for a first run, a retry or a replay) out of the queue: they become dead letters (R_CANCELLED), which replay brings back; a running job has its cancel requested: its attempt stops at its next block boundary (an effect under way finishes first), then it is the same dead letter')
    .argument('[jobIds...]', 'jobs (or the run of a job) to cancel; each must be queued or running (one cancelled already, or whose cancel is requested already, is said, exit 0)')
    .option('--status <status>', 'cancel every job with this status: queued')
    .option('--since <time>', 'with --status: only the jobs created at or after this time: an ISO time or 30m, 2h, 7d')
    .option('--scenario <name>', 'with --status: only the jobs of this scenario')
    .option('--task <name>', 'with --status: only the jobs of this service task (its due, catch-up and manual runs), whatever scenario they run')
    .option('--config <file>', CONFIG_FILE_HELP)
    .option('-d, --data-dir <dir>', STORE_DATA_DIR_HELP)
    .option('--json', 'print the ids of the jobs cancelled and of those whose cancel was requested, as JSON')
    .action(async (ids: string[], o: { status?: string; since?: string; scenario?: string; task?: string; dataDir?: string; config?: string; json?: boolean }) => (await import('./cancel.js')).cancelAction(ids, o));
}

export function pauseCommand(): Command {
  return new Command('pause')
    .description('pause the delivery of a scenario: its webhooks are still answered and its jobs queued, but no server on the store starts them (their attempts unused) until resume; an attempt running now finishes')
    .argument('[scenario]', 'the scenario to pause: a name of the scenarios folder (or one whose jobs are queued)')
    .option('--reason <text>', 'why, shown with the pause')
    .option('--until <time>', 'end the pause by itself at this time: an ISO time (2026-11-28T10:00 is in this machine\'s time zone; add Z or +03:00 to name one) or a duration from now (30m, 2h, 7d)')
    .option('--list', 'list the paused scenarios, with their queued jobs')
    .option('--scenarios <dir>', 'the scenarios folder the name is checked in (default: as serve)')
    .option('--config <file>', CONFIG_FILE_HELP)
    .option('-d, --data-dir <dir>', STORE_DATA_DIR_HELP)
    .option('--json', 'print the pause (with --list: the pauses) as JSON')
    .action(async (name: string | undefined, o: { reason?: string; until?: string; list?: boolean; scenarios?: string; dataDir?: string; config?: string; json?: boolean }) => (await import('./pause.js')).pauseAction(name, o));
}

export function resumeCommand(): Command {
  return new Command('resume')
    .description('resume the delivery of a paused scenario: its queued jobs are started at once (by every server on the store at its next poll)')
    .argument('<scenario>', 'the paused scenario (a name not paused is said, exit 0)')
    .option('--config <file>', CONFIG_FILE_HELP)
    .option('-d, --data-dir <dir>', STORE_DATA_DIR_HELP)
    .option('--json', 'print {"scenario", "resumed"} as JSON')
    .action(async (name: string, o: { dataDir?: string; config?: string; json?: boolean }) => (await import('./pause.js')).resumeAction(name, o));
}
