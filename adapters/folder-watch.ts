// Watching folders for saves, however the editor saves. Every folder is watched on its own, never with
// `{ recursive: true }`: on Linux, Node 20's recursive watch follows each file it found, so a file replaced by rename
// (`sed -i`, and the "safe write" of many editors: write a temporary file, rename it over the original) is no longer
// seen after that first replacement. A plain folder watch reports every name that changes in the folder, whatever
// file is behind it now. Used by the server's hot reload and by `oktell-emu validate --watch`.
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Saves closer together than this are reported once (editors write a file in several steps). */
export const SETTLE_MS = 150;

export interface FolderWatchOptions {
  /** The folders to watch. */
  roots: readonly string[];
  /** Subfolders to watch too, by their path relative to their root (`templates`, `templates/parts`); default none. */
  subfolder?: (relativePath: string) => boolean;
  /** Which changed files count: editors write temporary and backup files next to the real one. */
  relevant: (file: string) => boolean;
  settleMs?: number;
  /** Called once a burst of saves has settled, with the changed files (absolute, sorted; empty if unknown). */
  onChange(files: string[]): void;
  /** A folder that cannot be watched (deleted while watched…) is reported, not a crash. */
  onError(dir: string, e: Error): void;
}

export interface FolderWatch {
  close(): void;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function subfolderNames(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

export function watchFolders(o: FolderWatchOptions): FolderWatch {
  const watchers = new Map<string, FSWatcher>();
  let changed = new Set<string>();
  let unknown = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  // Inode of each watched folder: a folder renamed over a watched one is another folder, to be watched afresh.
  const inodes = new Map<string, number>();
  const inodeOf = (path: string) => statSync(path, { throwIfNoEntry: false })?.ino;
  const drop = (dir: string) => {
    watchers.get(dir)?.close();
    watchers.delete(dir);
    inodes.delete(dir);
  };
  /** Stops watching `dir` and the folders under it (their watchers would follow it wherever it was moved). */
  const unwatch = (dir: string) => {
    for (const d of [...watchers.keys()]) if (d === dir || d.startsWith(dir + sep)) drop(d);
  };
  /** Watches `dir` (afresh if it was watched: it may be another folder now) and its wanted subfolders. */
  const arm = (root: string, dir: string) => {
    if (closed) return;
    unwatch(dir);
    let w: FSWatcher;
    try {
      w = watch(dir, (_event, name) => onEvent(root, dir, name === null ? null : String(name)));
    } catch (e) {
      o.onError(dir, e as Error);
      return;
    }
    w.on('error', (e) => {
      if (watchers.get(dir) === w) drop(dir);
      o.onError(dir, e);
    });
    watchers.set(dir, w);
    const ino = inodeOf(dir);
    if (ino !== undefined) inodes.set(dir, ino);
    for (const name of subfolderNames(dir)) if (wanted(root, join(dir, name))) arm(root, join(dir, name));
  };
  const wanted = (root: string, dir: string) => o.subfolder?.(relative(root, dir)) === true;

  const onEvent = (root: string, dir: string, name: string | null) => {
    if (name === null) unknown = true;
    else {
      const path = join(dir, name);
      if (wanted(root, path) && subfolderChanged(root, path)) unknown = true;
      if (o.relevant(path)) changed.add(path);
      else if (!unknown) return;
    }
    clearTimeout(timer);
    timer = setTimeout(settle, o.settleMs ?? SETTLE_MS);
  };
  /**
   * A wanted subfolder made, removed or replaced by rename: watched afresh, or no more, from now on. True when that
   * brought or took away files that no event names (a folder moved in or out whole).
   */
  const subfolderChanged = (root: string, path: string): boolean => {
    if (!isFolder(path)) {
      if (!watchers.has(path)) return false;
      unwatch(path);
      return true;
    }
    if (watchers.has(path) && inodes.get(path) === inodeOf(path)) return false;
    arm(root, path);
    return true;
  };
  const settle = () => {
    const files = [...changed].sort();
    const report = files.length > 0 || unknown;
    changed = new Set();
    unknown = false;
    if (report && !closed) o.onChange(files);
  };

  for (const root of o.roots) arm(root, root);
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}

/**
 * Scenario files and mail templates: the saves that change what a scenario folder means. In any letter case, as the
 * folder lists them: `HTTP404.YAML` saved by a Windows editor is a scenario, and its saves must reload it.
 */
const SCENARIO_FOLDER_FILE = /\.(ya?ml|njk)$/i;

/**
 * Watches scenario folders: their scenario files, and the mail templates in `<folder>/templates` (and the folders
 * under it), including a templates folder created or replaced after the start.
 */
export function watchScenarioFolders(roots: readonly string[], o: Pick<FolderWatchOptions, 'onChange' | 'onError' | 'settleMs'>): FolderWatch {
  return watchFolders({
    ...o,
    roots,
    subfolder: (rel) => rel === 'templates' || rel.startsWith(`templates${sep}`),
    relevant: (file) => SCENARIO_FOLDER_FILE.test(file),
  });
}
