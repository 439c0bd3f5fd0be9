// Server processes on one shared PostgreSQL for the scale-out tests and the throughput measurement.
import { spawn, type ChildProcess } from 'node:child_process';
import { repoPath } from '../helpers.js';
import { serveUrl } from '../server/server-helpers.js';

export interface InstanceEnv {
  store: string;
  smtpPort: number;
  bpium: { url: string; login: string; password: string };
  webhookSecret: string;
  users: string;
  leaseMs?: number;
  workers?: number;
  logLevel?: string;
  /** More variables for the server (OKTELL_RETRY_BASE_DELAY_MS…), set last. */
  extra?: Record<string, string>;
}

export interface Instance {
  name: string;
  /** Its address, known once `waitHealthy` has resolved (it picks its own port). */
  url: string;
  dataDir: string;
  proc: ChildProcess;
  /** The last lines it wrote to stderr (for failure messages). */
  stderr(): string;
  /** The last lines of its log (stdout: JSON lines, the level set by `logLevel`). */
  stdout(): string;
  exited: Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `node bin/oktell-emu.js serve` with its own data folder, against the shared store, Bpium and SMTP, on a port
 * it picks itself (`--port 0`; a port chosen here could be taken before it listens) unless `port` is given:
 * `waitHealthy` reads it back.
 */
export function startInstance(name: string, dataDir: string, scenarios: string, e: InstanceEnv, port = 0): Instance {
  const proc = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, '--scenarios', scenarios], {
    env: {
      ...process.env,
      OKTELL_STORE: e.store,
      OKTELL_USERS: e.users,
      OKTELL_LOG_LEVEL: e.logLevel ?? 'warn',
      SMTP_URL: `smtp://127.0.0.1:${e.smtpPort}`,
      MAIL_FROM: 'Oktell <oktell@example.com>',
      BPIUM_URL: e.bpium.url,
      BPIUM_LOGIN: e.bpium.login,
      BPIUM_PASSWORD: e.bpium.password,
      BPIUM_RATE_LIMIT: 'off',
      BPIUM_WEBHOOK_SECRET: e.webhookSecret,
      ...(e.leaseMs ? { OKTELL_LEASE_MS: String(e.leaseMs) } : {}),
      ...(e.workers ? { OKTELL_WORKERS: String(e.workers) } : {}),
      NO_COLOR: '1',
      ...e.extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-16_000);
  });
  const exited = new Promise<void>((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', () => r())));
  return {
    name,
    url: '',
    dataDir,
    proc,
    stderr: () => err,
    stdout: () => out,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Waits until `instance` answers /-/health at the address its serve.json names, and sets its `url`. */
export async function waitHealthy(instance: Instance, ms = 30_000): Promise<void> {
  instance.url = await serveUrl(instance.proc, instance.dataDir, () => `${instance.name}: ${instance.stderr()}`, ms);
}
