// `oktell-emu validate --watch`: validates again after every save in the scenario folders (templates included) and
// prints only the difference: problems that appeared, problems that were fixed, and those gone with a removed file.
import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import pc from 'picocolors';
import { watchScenarioFolders } from '../../adapters/folder-watch.js';
import type { ScenarioIssue } from '../../engine/index.js';
import { issueText, terminalText } from '../format.js';
import { summary, validate, ValidationCaches, type Validation, type ValidationGroups } from './validate.js';
import { untilStopped } from '../watch-stop.js';
import { loadLibrary, serverSettings, timeZone } from '../config.js';
import { isoInZone } from '../../server/tasks/schedule.js';

/**
 * The zone `runs`, `show`, the logs and `outbox` print times in (OKTELL_TZ, else timeZone: of the configuration, else
 * Europe/Moscow), so a line here can be matched with them; a configuration that does not load falls back to OKTELL_TZ.
 */
function watchZone(dataDir: string | undefined, config: string | undefined): string {
  try {
    return serverSettings({ dataDir, config }).timeZone;
  } catch {
    try {
      return timeZone();
    } catch {
      return 'UTC';
    }
  }
}

/** `14:28:35+03:00`: the time of day with its offset, as the server's log lines give it (without their milliseconds). */
export function watchTime(ms: number, zone: string): string {
  return isoInZone(ms, zone).slice(11);
}

/**
 * A problem's identity across edits: without its line and column, so a problem that only moved because lines were
 * added above it is neither "fixed" nor "new".
 */
function keyOf(i: ScenarioIssue): string {
  return `${i.file}\u0000${i.code}\u0000${i.block ?? ''}\u0000${i.message}`;
}

/** Problems of `after` not in `before`, counting duplicates (the same mistake twice is two problems). */
function minus(after: readonly ScenarioIssue[], before: readonly ScenarioIssue[]): ScenarioIssue[] {
  const left = new Map<string, number>();
  for (const i of before) left.set(keyOf(i), (left.get(keyOf(i)) ?? 0) + 1);
  return after.filter((i) => {
    const n = left.get(keyOf(i)) ?? 0;
    if (n === 0) return true;
    left.set(keyOf(i), n - 1);
    return false;
  });
}

/** Watches until SIGINT/SIGTERM (Ctrl-C), then closes the watchers and resolves: the process exits 0. */
/**
 * `caches`: the loads of the first validation, if it kept them; each save then parses only the files that changed
 * (a full load of a large folder at every save took seconds).
 */
export async function watchValidation(groups: ValidationGroups, first: Validation, out: NodeJS.WritableStream, dataDir?: string, config?: string, caches = new ValidationCaches()): Promise<void> {
  const zone = watchZone(dataDir, config);
  let last = first;
  let running: Promise<void> = Promise.resolve();

  const revalidate = async (changed: string[]) => {
    // A file deleted (or moved away) is "removed", and its problems went with it: nothing was fixed.
    const removed = new Set(changed.filter((f) => !existsSync(f)).map((f) => resolve(f)));
    const edited = changed.filter((f) => !removed.has(resolve(f)));
    const now = await validate(groups, dataDir, config, loadLibrary, caches);
    const added = minus(now.issues, last.issues);
    const gone = minus(last.issues, now.issues);
    const inRemoved = (i: ScenarioIssue) => removed.has(resolve(i.file));
    const fixed = gone.filter((i) => !inRemoved(i));
    const withFile = gone.filter(inRemoved);
    const time = watchTime(Date.now(), zone);
    const what = [
      ...(edited.length ? [`${edited.map((f) => relative(process.cwd(), f)).join(', ')} changed`] : []),
      ...(removed.size ? [`${[...removed].map((f) => relative(process.cwd(), f)).join(', ')} removed`] : []),
    ];
    out.write(`${pc.dim(time)} ${what.join('; ') || 'files changed'}\n`);
    if (added.length === 0 && fixed.length === 0 && withFile.length === 0) {
      out.write(`  ${pc.dim('no change:')} ${summary(now)}\n`);
    } else {
      for (const i of withFile) out.write(`  ${pc.dim('gone')}  ${issueText(i).replace(/\n {4}hint: .*/s, '')} ${pc.dim('(with its file)')}\n`);
      for (const i of fixed) out.write(`  ${pc.green('fixed')} ${issueText(i).replace(/\n {4}hint: .*/s, '')}\n`);
      for (const i of added) out.write(`  ${pc.red('new')}   ${issueText(i).replaceAll('\n', '\n      ')}\n`);
      out.write(`  ${summary(now)}\n`);
    }
    last = now;
  };

  // Each folder on its own, templates included (see folder-watch.ts): files replaced by rename, as editors and
  // `sed -i` save them, are seen every time.
  // A file validated with the --scenarios folder from outside it is watched in its own folder too.
  const folders = [...new Set([...groups.keys(), ...[...groups.values()].flatMap((files) => (files ?? []).map((f) => dirname(f)))])];
  const watcher = watchScenarioFolders(folders, {
    onChange: (changed) => {
      running = running.then(() => revalidate(changed)).catch((e: unknown) => void out.write(`${pc.red('validation failed:')} ${terminalText((e as Error).message, true)}\n`));
    },
    // A folder deleted while watched is reported, not a crash; the next validation says what is missing.
    onError: (d, e) => void out.write(`${pc.red('cannot watch')} ${terminalText(relative(process.cwd(), d))}: ${terminalText(e.message)}\n`),
  });
  out.write(`${pc.dim(`watching ${folders.map((d) => relative(process.cwd(), d) || '.').join(', ')} for changes (Ctrl-C to stop)`)}\n`);

  // A validation under way finishes (it only reads files); then the process ends on its own.
  await untilStopped(out, () => watcher.close(), () => running);
}
