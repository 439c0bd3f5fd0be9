// Hot reload of the service tasks: edits of `serviceTasks:` in the configuration file take effect without a restart.
// A bad edit keeps the last good tasks and logs why, with the file:line:col of every problem (as for scenarios).
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { LoggerPort } from '../../engine/ports.js';
import { serviceTasks } from '../config.js';
import type { ServiceTask } from './definitions.js';

export interface TaskDefinitions {
  /** The tasks in force: the last good version of the file. */
  current(): readonly ServiceTask[];
  close(): void;
}

/**
 * The configured tasks, reloaded when the configuration file changes (when `watch` and there is a file). Only the
 * tasks are reloaded: other settings still need a restart.
 */
export function taskDefinitions(o: { configFile: string | undefined; timeZone: string; initial: ServiceTask[]; logger: LoggerPort; watch: boolean }): TaskDefinitions {
  let tasks: readonly ServiceTask[] = o.initial;
  let lastText: string | undefined;
  const file = o.configFile;
  const reload = () => {
    if (!file) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      o.logger.warn({ err: e }, `service tasks: cannot read ${file}; keeping the tasks in force`);
      return;
    }
    if (text === lastText) return;
    lastText = text;
    try {
      const next = serviceTasks(file, text, o.timeZone);
      tasks = next;
      o.logger.info({ tasks: next.map((t) => t.name) }, `service tasks reloaded from ${basename(file)}`);
    } catch (e) {
      o.logger.warn({ problems: (e as Error).message }, `service tasks: the edit of ${basename(file)} has problems; keeping the tasks in force\n${(e as Error).message}`);
    }
  };
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (file && o.watch) {
    try {
      lastText = readFileSync(file, 'utf8');
      // The folder, not the file: editors save by writing a new file and renaming it over the old one.
      watcher = watch(dirname(file), (_event, name) => {
        if (name !== null && name !== basename(file)) return;
        clearTimeout(timer);
        timer = setTimeout(reload, 150);
      });
    } catch (e) {
      o.logger.warn({ err: e }, 'cannot watch the configuration file; service tasks reload only at restart');
    }
  }
  return {
    current: () => tasks,
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
