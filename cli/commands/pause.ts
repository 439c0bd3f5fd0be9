// `oktell-emu pause` and `resume`: the delivery of one scenario held in the store (store/scenario-pause.ts). While it
// is paused, its webhooks are still taken and answered and its jobs queued, but no server on the store claims them: they
// wait, their attempts unused, instead of using them up against a downstream that is down. An attempt running when the
// pause is made finishes. Resume makes them claimable at once: every server on the store takes them at its next poll.
import { existsSync } from 'node:fs';
import { listScenarioFilesSync } from '../../engine/library.js';
import { scenarioNameOf } from '../../engine/loader.js';
import { closest } from '../../engine/suggest.js';
import type { ScenarioPause } from '../../server/store/scenario-pause.js';
import { dataDirArg, scenariosDir, shellWord, storeSettings, UsageError } from '../config.js';
import { terminalText } from '../format.js';
import { withStore } from '../store.js';
import { operator } from './cancel.js';

type StoreOptions = { dataDir?: string; config?: string; scenarios?: string; json?: boolean };
type PauseOptions = StoreOptions & { reason?: string; until?: string; list?: boolean };

/** `--until`: an ISO time (without an offset: this machine's local time), or a duration from now (30m, 2h, 7d); in the future. */
export function parseUntil(v: string, now = Date.now()): number {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(v.trim());
  const t = m ? now + Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[m[2] as 's'] : Date.parse(v);
  // A duration past what a Date holds (99999999999d) would pass here and crash the line that prints the pause.
  if (Number.isNaN(t) || Number.isNaN(new Date(t).getTime())) throw new UsageError(`--until ${v}: expected a time (2026-11-28T10:00) or a duration from now (30m, 2h, 7d)`);
  if (t <= now) throw new UsageError(`--until ${v}: that time has passed; give a later time, or leave --until out to pause until oktell-emu resume`);
  return t;
}

/** The scenario names of the scenarios folder, or undefined when it cannot be read. */
function folderScenarios(o: StoreOptions): { dir: string; names: string[] } | undefined {
  const dir = scenariosDir(o.scenarios, process.env, o.config);
  if (!existsSync(dir)) return undefined;
  try {
    return { dir, names: listScenarioFilesSync(dir).map(scenarioNameOf).sort() };
  } catch {
    return undefined;
  }
}

function pauseLine(p: ScenarioPause): string {
  const until = p.until === null ? 'until resumed' : `until ${new Date(p.until).toISOString()}`;
  return `${terminalText(p.scenario)}: paused ${until} by ${terminalText(p.by)} at ${new Date(p.at).toISOString()}${p.reason ? ` (${terminalText(p.reason)})` : ''}; ${p.queued} queued job(s) waiting`;
}

export async function pauseAction(name: string | undefined, o: PauseOptions): Promise<void> {
  const settings = storeSettings(o);
  const dirFlag = settings.store.kind === 'sqlite' ? dataDirArg(settings.dataDir) : '';
  if (o.list) {
    if (name || o.reason || o.until) throw new UsageError('--list shows the paused scenarios: give no scenario, --reason or --until with it');
    const pauses = await withStore(o, (store) => store.pausedScenarios(), () => [] as ScenarioPause[], settings);
    if (o.json) process.stdout.write(`${JSON.stringify(pauses)}\n`);
    else if (!pauses.length) process.stdout.write('no scenario is paused\n');
    else for (const p of pauses) process.stdout.write(`${pauseLine(p)}\n`);
    return;
  }
  if (!name) throw new UsageError('name the scenario to pause (oktell-emu pause <scenario>), or --list to see the paused ones');
  const until = o.until === undefined ? null : parseUntil(o.until);
  const folder = folderScenarios(o);
  const pause = await withStore(o, async (store) => {
    // A name the scenarios folder does not have is refused (a typo would pause nothing and say so too late), unless
    // jobs of it wait in the queue: a scenario renamed or removed from the folder whose jobs are still queued.
    if (folder && !folder.names.includes(name)) {
      const queued = await store.queuedJobs({ scenario: name, limit: 1 });
      if (!queued.length) {
        const guess = closest(name, folder.names);
        throw new UsageError(
          `${name}: no such scenario in ${folder.dir}${guess ? `: did you mean "${guess}"?` : ''} (scenarios: ${folder.names.join(', ') || 'none'}); ` +
            'a name the folder does not have can be paused only while jobs of it are queued',
        );
      }
    }
    return store.pauseScenario({ scenario: name, by: `oktell-emu pause, ${operator()}`, reason: o.reason ?? null, until });
  }, () => {
    throw new UsageError(`no store in ${settings.dataDir} yet (no oktell.sqlite there): start the server on it first (oktell-emu serve), then pause`);
  }, settings);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(pause)}\n`);
    return;
  }
  process.stdout.write(
    `${pauseLine(pause)}\n` +
      `its webhooks are still answered and its jobs queued; no server on this store starts them (an attempt running now finishes). ` +
      `npx oktell-emu resume ${shellWord(name)}${dirFlag} delivers them; npx oktell-emu pause --list${dirFlag} shows the pauses\n`,
  );
}

export async function resumeAction(name: string, o: StoreOptions): Promise<void> {
  const settings = storeSettings(o);
  const r = await withStore(o, async (store) => {
    const queued = (await store.pausedScenarios()).find((p) => p.scenario === name)?.queued ?? 0;
    return { was: await store.resumeScenario(name), queued };
  }, () => ({ was: false, queued: 0 }), settings);
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ scenario: name, resumed: r.was })}\n`);
    return;
  }
  if (!r.was) {
    // As `cancel` of a job cancelled already: what was asked holds, exit 0, said.
    process.stdout.write(`${terminalText(name)} is not paused: nothing changed\n`);
    return;
  }
  process.stdout.write(`${terminalText(name)}: resumed; its ${r.queued} queued job(s) are claimable now (every server on this store takes them at its next poll, within half a second)\n`);
}
