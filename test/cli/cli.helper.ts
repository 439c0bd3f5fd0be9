// Runs the real oktell-emu binary in a chosen folder: once to completion, or in the background for watch modes.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { repoPath, repoRoot, tempDir } from '../helpers.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Standard input for the process. */
  input?: string;
  /** Variables removed from the inherited environment (e.g. OKTELL_SCENARIOS, so the folder decides). */
  unset?: string[];
  /** Default 30 s. */
  timeoutMs?: number;
  /** Run as this user (and group of the same number), e.g. 65534 (nobody); the test must run as root. */
  uid?: number;
}

/** The environment every test process starts from: no real Bpium or SMTP, no colours, no ports from the shell. */
export function cliEnvironment(env: Record<string, string> = {}, unset: string[] = []): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, BPIUM_URL: '', SMTP_URL: '', NO_COLOR: '1', BPIUM_EMULATOR_PORT: '', OKTELL_PORT: '', ...env };
  for (const name of unset) delete out[name];
  return out;
}

/** Runs `oktell-emu …args` to completion and returns its exit code and output. */
export function runCli(args: string[], opts: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), ...args], {
    cwd: opts.cwd ?? repoRoot,
    encoding: 'utf8',
    env: cliEnvironment(opts.env, opts.unset),
    timeout: opts.timeoutMs ?? 30_000,
    // A runaway loop's --json (10,000 trace steps, each Condition with its compared values) passes spawnSync's 1 MB
    // default; cut off, the process would look killed (status null).
    maxBuffer: 64 * 1024 * 1024,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `oktell-emu serve --host 127.0.0.1 …args` to its end as the user nobody (the test must run as root), with
 * `users` as OKTELL_USERS and no OKTELL_STORE from the shell; `nodeArgs` go before the script (a preload).
 */
export function serveAsNobody(args: string[], o: { users?: string; nodeArgs?: string[] } = {}): CliResult {
  const r = spawnSync(process.execPath, [...(o.nodeArgs ?? []), repoPath('bin', 'oktell-emu.js'), 'serve', '--host', '127.0.0.1', ...args], {
    cwd: repoRoot,
    env: cliEnvironment({ OKTELL_USERS: o.users ?? 'a:b' }, ['OKTELL_STORE']),
    encoding: 'utf8',
    uid: 65534,
    gid: 65534,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Why a test that runs the CLI as the user nobody must be skipped, or false: it needs root, and a checkout that nobody
 * may read (a clone under /root, mode 700) cannot be run as nobody at all.
 */
export function cannotRunAsNobody(): string | false {
  if (process.getuid?.() !== 0) return 'needs root, to run the command as the user nobody';
  const cli = repoPath('bin', 'oktell-emu.js');
  const r = spawnSync(process.execPath, ['-e', 'require("node:fs").accessSync(process.argv[1], 4)', cli], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) return `the user nobody may not read this checkout (${cli})`;
  // The tests' folders are made in the temporary folder (TMPDIR): one nobody may not enter (TMPDIR=/root/tmp) would
  // fail them with "a folder on its path may not be entered", which says nothing of the command under test.
  const t = spawnSync(process.execPath, ['-e', 'require("node:fs").accessSync(process.argv[1], 1)', tmpdir()], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 30_000 });
  return t.status === 0 ? false : `the user nobody may not enter the temporary folder ${tmpdir()} (TMPDIR)`;
}

/**
 * As `runCli`, without blocking: for a test whose server runs in the test's own process, which `runCli` (spawnSync)
 * would freeze meanwhile (its leases unrenewed, its idle keep-alive sockets closed under the next request).
 */
export function runCliAsync(args: string[], opts: Omit<CliOptions, 'input'> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [repoPath('bin', 'oktell-emu.js'), ...args], { cwd: opts.cwd ?? repoRoot, encoding: 'utf8', env: cliEnvironment(opts.env, opts.unset), timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A running oktell-emu process whose output is collected; `waitFor` resolves once the output matches. */
export interface BackgroundCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the stdout once `pattern` matches the output written after `from` (a length of stdout). */
  waitFor(pattern: RegExp, from?: number, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: string[], opts: CliOptions = {}): BackgroundCli {
  const child = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), ...args], { cwd: opts.cwd ?? repoRoot, env: cliEnvironment(opts.env) });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  child.stdout!.on('data', (d: Buffer) => ((out += d.toString()), notify()));
  child.stderr!.on('data', (d: Buffer) => ((err += d.toString()), notify()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => (notify(), resolve({ code, signal }))));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, from = 0, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out.slice(from))) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(out);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`oktell-emu exited before printing ${pattern}; stdout:\n${out}\nstderr:\n${err}`));
          }
        };
        // Not a speed assertion: only a guard so a broken watcher fails the test instead of hanging it.
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} in the output; stdout:\n${out.slice(from)}\nstderr:\n${err}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/**
 * `validate` of a folder made of `files` (name → text) in a temporary folder, removed after: its result, and the
 * lines of its output that are warnings.
 */
export function validateFolder(files: Record<string, string>): CliResult & { warnings: string[] } {
  const tmp = tempDir();
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp.dir, name), text);
    const r = runCli(['validate', '--scenarios', tmp.dir], { cwd: tmp.dir });
    return { ...r, warnings: r.stdout.split('\n').filter((l) => l.startsWith('warning:')) };
  } finally {
    tmp.cleanup();
  }
}

/**
 * `oktell-emu test` in a temporary project whose scenarios folder holds `scenarios` (name → text) and one test file
 * of these `cases` (the YAML of the list's items), removed after.
 */
export function testCases(scenarios: Record<string, string>, cases: string): CliResult {
  const tmp = tempDir();
  try {
    mkdirSync(join(tmp.dir, 'scenarios', 'tests'), { recursive: true });
    for (const [name, text] of Object.entries(scenarios)) writeFileSync(join(tmp.dir, 'scenarios', name), text);
    writeFileSync(join(tmp.dir, 'scenarios', 'tests', 'cases.test.yaml'), `cases:\n${cases}`);
    return runCli(['test'], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'] });
  } finally {
    tmp.cleanup();
  }
}
