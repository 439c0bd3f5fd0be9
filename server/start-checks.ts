// What `serve` can find wrong before it touches anything: the settings the ports are built from, the TLS files, and
// the ports it will listen on. A start refused here leaves no data folder, store or generated user behind.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { checkPortSettings } from '../adapters/ports.js';
import { envSetting } from '../engine/env.js';
import { ConfigError, type ServerConfig } from './config.js';

/** The settings the server listens with (its own port and the embedded emulator's port name these). */
export const SERVER_PORT_SETTINGS = '--port, OKTELL_PORT or port in the config file';
export const EMULATOR_PORT_SETTINGS = '--bpium-emulator-port, BPIUM_EMULATOR_PORT or bpiumEmulatorPort in the config file (or BPIUM_URL to use another Bpium)';

/**
 * Throws the ConfigError (or the adapters' configuration error) that would otherwise stop the start half-way, after
 * the data folder is made and the store migrated. A port taken by another program between this check and the real
 * listen is still refused there, with the same message (the start then undoes what it opened).
 */
export async function checkBeforeStart(config: Pick<ServerConfig, 'port' | 'host' | 'tls' | 'webRequest' | 'bpiumEmulatorPort'>, env: NodeJS.ProcessEnv, embeddedBpium: boolean, emulatorNeeded?: () => Promise<boolean>): Promise<void> {
  const bpium = bpiumSource(env, embeddedBpium);
  // WEB_REQUEST_* are read (and refused) with the configuration already; the mail and Bpium settings only here.
  checkPortSettings({ env, bpium, webRequest: config.webRequest });
  if (config.tls) {
    tlsFile(config.tls.cert, 'OKTELL_TLS_CERT or tls.cert');
    tlsFile(config.tls.key, 'OKTELL_TLS_KEY or tls.key');
  }
  await portFree(config.port, config.host, 'the server', SERVER_PORT_SETTINGS).catch((e: unknown) => {
    throw badAddress(e, config.host);
  });
  // `emulatorNeeded` (when the emulator starts only for scenarios that use it): asked only when the port is held.
  if (bpium === 'emulator') {
    await portFree(config.bpiumEmulatorPort, '127.0.0.1', 'the embedded Bpium emulator', EMULATOR_PORT_SETTINGS).catch(async (e: unknown) => {
      if (!emulatorNeeded || (await emulatorNeeded())) throw e;
    });
  }
}

/** Which Bpium the server uses: BPIUM_URL's when it is set, else the embedded emulator unless it is turned off. */
export function bpiumSource(env: NodeJS.ProcessEnv, embeddedBpium: boolean): 'env' | 'emulator' | 'none' {
  return envSetting(env, 'BPIUM_URL') !== undefined ? 'env' : embeddedBpium ? 'emulator' : 'none';
}

/**
 * Listens on `port` and closes at once: another program holding it, or a host that is not this machine's, is found
 * before anything is made (port 0 is always free, but its probe still checks the host).
 */
async function portFree(port: number, host: string, what: string, settings: string): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (e) => reject(portInUse(e, what, settings)));
    probe.listen(port, host, () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** A port another program holds: the start stops with a message naming the settings that choose that port. */
export class PortInUseError extends ConfigError {
  override name = 'PortInUseError';
  readonly code = 'EADDRINUSE';
}

/**
 * `e` as a PortInUseError when it is EADDRINUSE (`what` holds the port, `settings` choose it), as a ConfigError when
 * it is EACCES (a port below 1024 for a user that is not root), else `e` itself. One line: the address, the code,
 * whose port it is and what to set, without Node's own wording in front.
 */
export function portInUse(e: unknown, what: string, settings: string): unknown {
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number };
  if (err?.code !== 'EADDRINUSE' && err?.code !== 'EACCES') return e;
  const where = err.address !== undefined && err.port !== undefined ? `${err.address.includes(':') ? `[${err.address}]` : err.address}:${err.port}` : 'the port';
  if (err.code === 'EACCES') return portRefused(where, err.port, what, settings);
  return new PortInUseError(`cannot listen on ${where} (EADDRINUSE): another program uses the port of ${what}; set ${settings}`);
}

/**
 * A port this user may not listen on (EACCES): on Linux the ports below 1024, unless the process runs as root or
 * has the CAP_NET_BIND_SERVICE capability. Said in one line with both ways out, instead of Node's stack trace. A port
 * from 1024 up refused so is no root port: a security policy (SELinux's port types, AppArmor) forbids it, and the
 * advice to move to a port from 1024 up would be wrong.
 */
function portRefused(where: string, port: number | undefined, what: string, settings: string): ConfigError {
  if (port !== undefined && port >= 1024) {
    return new ConfigError(
      `cannot listen on ${where} (EACCES): the system refuses this user the port of ${what}, though it is no port below 1024: ` +
        `a security policy (SELinux, AppArmor) forbids it. Allow the port there (SELinux: semanage port -a -t http_port_t -p tcp ${port}), or set ${settings}`,
    );
  }
  return new ConfigError(
    `cannot listen on ${where} (EACCES): this user may not open the port of ${what}: ports below 1024 need root or the CAP_NET_BIND_SERVICE capability. ` +
      `Use a port from 1024 up (set ${settings}) behind a reverse proxy that listens on 80 or 443, or give node the capability (systemd: AmbientCapabilities=CAP_NET_BIND_SERVICE)`,
  );
}

/** A certificate or key file of the HTTPS settings; one that cannot be read names the setting that gave it. */
export function tlsFile(file: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigError(`${setting} ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** An address to listen on that does not resolve or is not this machine's: a ConfigError naming the host settings. */
export function badAddress(e: unknown, host: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code !== 'ENOTFOUND' && code !== 'EADDRNOTAVAIL' && code !== 'EAI_AGAIN') return e;
  return new ConfigError(`cannot listen on host "${host}" (${code}: ${code === 'EADDRNOTAVAIL' ? 'not an address of this machine' : 'no such address'}); set --host, OKTELL_HOST or host in the config file`);
}
