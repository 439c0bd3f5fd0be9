// Shared pieces of the benchmarks: child processes, their peak memory, health polling, signed webhooks, statistics.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { cpus, freemem, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readServerFile, serverFilePath } from '../cli/server-file.js';

/** The repository root (this file runs from dist/bench/). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export const BENCH_USER = { login: 'bench', password: 'bench-pass' };
export const BENCH_AUTH = `Basic ${Buffer.from(`${BENCH_USER.login}:${BENCH_USER.password}`).toString('base64')}`;
export const BENCH_SECRET = 'bench-webhook-secret';

export interface MachineFacts {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  freeGiB: number;
  node: string;
  platform: string;
  /** 1-minute load average when the run started: other work on the machine skews every number. */
  loadAverage: number;
}

export function machineFacts(): MachineFacts {
  const c = cpus();
  return {
    date: new Date().toISOString(),
    cpus: c.length,
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: round(loadavg()[0] ?? 0, 2),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Peak resident memory of a process in MiB (VmHWM), or undefined where /proc is not available. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** A temp folder with a copy of the shipped scenarios. */
export function benchWorkspace(prefix: string): { dir: string; scenarios: string; data: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const scenarios = join(dir, 'scenarios');
  cpSync(join(repoRoot, 'scenarios'), scenarios, { recursive: true });
  return { dir, scenarios, data: join(dir, 'var'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ServerChild {
  child: ChildProcess;
  url: string;
  port: number;
  /** Resolves after the process has exited (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** A TCP service that accepts connections and never answers (a remote service that hangs), on loopback. */
export async function startSilentService(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Starts `oktell-emu serve` in its own process, as a user would, on loopback, on a port it picks itself (`--port 0`;
 * one chosen here could be taken before it listens), read back from the data folder's serve.json.
 */
export async function startOktellChild(ws: { scenarios: string; data: string }, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ServerChild & { startMs: number }> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [...nodeArgs, join(repoRoot, 'bin', 'oktell-emu.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', ws.data, '--scenarios', ws.scenarios, '--bpium-emulator-port', '0'],
    {
      env: { ...process.env, OKTELL_USERS: `${BENCH_USER.login}:${BENCH_USER.password}`, BPIUM_WEBHOOK_SECRET: BENCH_SECRET, OKTELL_LOG_LEVEL: 'warn', BPIUM_URL: '', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  // The server's stderr (warnings, its start banner) is kept short and shown only when it fails to start.
  let stderrTail = '';
  child.stderr!.on('data', (c: Buffer) => (stderrTail = (stderrTail + c.toString()).slice(-4000)));
  // Looked at every 2 ms, as the wait is part of the start time measured; 40 s in all, the 20 s for serve.json and
  // 20 s more for /-/health that the bench gave a start before its wait was shared with the tests.
  const url = await serveUrl(child, ws.data, () => stderrTail, 40_000, 2).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw e;
  });
  const startMs = performance.now() - t0;
  return { child, url, port: Number(new URL(url).port), startMs, stop: () => stopChild(child) };
}

/**
 * The URL of the `oktell-emu serve` process `proc` on `dataDir`, once it answers /-/health: the benchmarks' and the
 * tests' one wait for a server they spawned. Its port (it was started with `--port 0`) is read from the folder's
 * serve.json, which it writes once it listens; a serve.json of another process (a server killed earlier) is passed
 * over. Each look at /-/health gives up after 2 s, so a server that listens but does not answer cannot hold the wait
 * past `ms`. Fails at once when the process exits, else after `ms`, either way with `output()` (its last output) in
 * the message. `everyMs`: the pause between looks.
 */
export async function serveUrl(proc: ChildProcess, dataDir: string, output: () => string, ms = 20_000, everyMs = 25): Promise<string> {
  const end = Date.now() + ms;
  let url: string | undefined;
  try {
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`oktell-emu serve exited (${proc.exitCode ?? proc.signalCode}) before it listened`);
      url ??= readServerFile(dataDir, (pid) => pid === proc.pid)?.url;
      if (url !== undefined) {
        const health = await fetch(`${url}/-/health`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        // Its body is not needed: cancelled, so the connection is not held until garbage collection.
        await health?.body?.cancel().catch(() => undefined);
        if (health?.ok) return url;
      }
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for the server to listen`);
      await sleep(everyMs);
    }
  } catch (e) {
    throw new Error(`${(e as Error).message} (${serverFilePath(dataDir)}: ${url ?? 'not written yet'}); its output:\n${output()}`);
  }
}

export const BENCH_BPIUM = { login: 'bench@example.com', password: 'bench-bpium-pass' };

/**
 * `oktell-emu bpium-emulator` in its own process, as Bpium is a remote service in real use: its CPU is not the
 * server's. The env returned points `serve` at it (rate limiter off: the emulator has none).
 */
export async function startBpiumEmulatorChild(ws: { dir: string }): Promise<ServerChild & { serverEnv: Record<string, string> }> {
  // It picks its own port (`--port 0`) and prints it: "Bpium emulator listening on http://127.0.0.1:PORT/api/v1".
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'oktell-emu.js'), 'bpium-emulator', '--port', '0', '--data-dir', join(ws.dir, 'bpium')], {
    env: { ...process.env, BPIUM_LOGIN: BENCH_BPIUM.login, BPIUM_PASSWORD: BENCH_BPIUM.password, BPIUM_EMULATOR_WEBHOOK_URL: '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`the Bpium emulator did not start within 20000 ms; its stdout:\n${text}`)), 20_000);
    const onExit = (code: number | null) => (clearTimeout(timer), reject(new Error(`the Bpium emulator exited (${code}) before it listened; its stdout:\n${text}`)));
    const onData = (c: Buffer) => {
      text += c.toString();
      const m = /listening on (http:\/\/\S+)\/api\/v1/.exec(text);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
  const port = Number(new URL(url).port);
  return {
    child,
    url,
    port,
    stop: () => stopChild(child),
    serverEnv: { BPIUM_URL: url, BPIUM_LOGIN: BENCH_BPIUM.login, BPIUM_PASSWORD: BENCH_BPIUM.password, BPIUM_RATE_LIMIT: 'off' },
  };
}

/**
 * The environment of a server whose jobs wait on `silentUrl`, a Bpium that never answers (startSilentService): its one
 * worker waits there for the whole benchmark (an hour's timeout) and the other jobs stay queued, so no letter is sent
 * and its CPU per request is what the acknowledgement alone costs.
 */
export function silentBpiumEnv(silentUrl: string): Record<string, string> {
  return { BPIUM_URL: silentUrl, BPIUM_LOGIN: BENCH_BPIUM.login, BPIUM_PASSWORD: BENCH_BPIUM.password, BPIUM_RATE_LIMIT: 'off', BPIUM_TIMEOUT_MS: '3600000', OKTELL_WORKERS: '1' };
}

/** Runs a compiled bench child script (dist/bench/<name>.js), which prints its port as the first line of stdout. */
export async function startScriptChild(name: string, args: string[] = [], env: Record<string, string> = {}): Promise<ServerChild> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'bench', name), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer) => {
      text += c.toString();
      const m = /^(\d+)\n/.exec(text);
      if (m) {
        child.stdout!.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening`)));
  });
  child.stdout!.resume();
  return { child, port, url: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A Bpium record.created webhook for one task, unique by `seq`; the task name carries the send time for delay measurements. */
export function webhookBody(seq: number, sentAtMs: number, responsible = '2'): string {
  return JSON.stringify({
    timestamp: String(Math.floor(sentAtMs / 1000)),
    hook: { id: '7', event: 'record.created', sequenceId: seq },
    payload: { catalogId: '11', recordId: String(100_000 + seq), values: { '2': `bench ${seq} @${sentAtMs}`, '3': 'load test', '4': [{ id: responsible, title: 'employee' }] } },
    user: { id: '1' },
  });
}

export function sign(body: string, secret = BENCH_SECRET): string {
  return createHmac('md5', secret).update(body).digest('base64');
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
