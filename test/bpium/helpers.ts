// Shared fixtures of the Bpium tests: temp data dirs, an emulator on a free port, a real webhook receiver.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { startBpiumEmulator, type BpiumEmulator, type BpiumEmulatorOptions } from '../../bpium-emulator/index.js';
import { createBpiumClient, type BpiumClient, type BpiumClientOptions } from '../../adapters/bpium/client.js';

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'bpium-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A port nothing listens on (bound and released), for webhooks that must go nowhere. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Starts an emulator in a fresh temp dir whose seed webhook points nowhere unless told otherwise. */
export async function startTestEmulator(opts: Partial<BpiumEmulatorOptions> = {}): Promise<BpiumEmulator & { dir: string; stop(): Promise<void> }> {
  const dir = opts.dataDir ? { path: opts.dataDir, remove: () => undefined } : tempDir();
  const webhookTarget = opts.webhookTarget ?? { url: `http://127.0.0.1:${await closedPort()}/Bpium/NewTask`, secret: 'test-secret' };
  const emulator = await startBpiumEmulator({ port: 0, ...opts, dataDir: dir.path, webhookTarget });
  return Object.assign(emulator, {
    dir: dir.path,
    async stop() {
      await emulator.close();
      dir.remove();
    },
  });
}

/** A client for the emulator with fast retries and no rate limit unless overridden. */
export function clientFor(emulator: BpiumEmulator, opts: Partial<BpiumClientOptions> = {}): BpiumClient {
  return createBpiumClient({
    url: emulator.url,
    login: emulator.login,
    password: emulator.password,
    timeoutMs: 5000,
    retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
    rateLimit: false,
    ...opts,
  });
}

export interface ReceivedHook {
  /** The path posted to, e.g. `/Bpium/NewTask`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
  body: any;
}

/** A real express server that records each webhook POST to any path (raw bytes kept) and answers `status()`. */
export async function startReceiver(status: () => number = () => 200): Promise<{ url: string; received: ReceivedHook[]; close(): Promise<void> }> {
  const received: ReceivedHook[] = [];
  const app = express();
  app.post('/{*path}', express.raw({ type: '*/*' }), (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    received.push({ path: req.path, headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) });
    res.status(status()).end();
  });
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/Bpium/NewTask`,
    received,
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

/** Basic header for raw fetches against the emulator. */
export function basicAuth(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
}
