// The oktell-emu binary as a user runs it: one-shot commands, and `serve` running in the background on free ports.
import { spawn } from 'node:child_process';
import { repoPath, repoRoot } from '../helpers.js';
import { cliEnvironment, runCli as runCliIn, type CliResult } from './cli.helper.js';

export type { CliResult } from './cli.helper.js';

/** Runs `oktell-emu …args` to the end (the server it talks to, if any, is another process). */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string): CliResult {
  return runCliIn(args, { env, ...(input !== undefined ? { input } : {}) });
}

export interface ServeProcess {
  /** The server's address from its start banner. */
  url: string;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `oktell-emu serve` on free ports (server and embedded emulator) with `dataDir`, and resolves once its start
 * banner is complete.
 */
export async function startServeProcess(opts: { dataDir: string; env?: Record<string, string>; args?: string[] }): Promise<ServeProcess> {
  const args = ['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', opts.dataDir, ...(opts.args ?? [])];
  const child = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), ...args], {
    cwd: repoRoot,
    env: cliEnvironment(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 30 s:\n${stderr}`)), 30_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on .*?(https?:\/\/[^\s\x1b]+)[\s\S]*runs, their status/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before it started:\n${stderr}`));
    });
  });
  return {
    url,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
