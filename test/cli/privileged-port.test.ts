// A port below 1024 for a server that runs as an ordinary user (trial 53, deploy, finding 3): `serve --port 80`
// stopped with Node's stack trace (`Error: listen EACCES: permission denied 0.0.0.0:80` under `node:net:1886`),
// exit 1. It now says in one line what is refused, why, and both ways out, exit 2 like the other refused settings. Run
// as the user `nobody`, so it needs root to start the process as that user; says so otherwise.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { portInUse } from '../../server/start-checks.js';
import { serveAsNobody } from './cli.helper.js';

function unprivilegedPortStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  } catch {
    return 1024;
  }
}

const skip = process.getuid?.() !== 0 ? 'needs root, to start the server as the user nobody' : unprivilegedPortStart() <= 1 ? 'this system lets every user open the low ports' : false;

describe('serve on a port below 1024 as an ordinary user', { skip }, () => {
  for (const [flag, what] of [['--port', 'the server'], ['--bpium-emulator-port', 'the embedded Bpium emulator']] as const) {
    it(`${flag} 1: one line naming the port, the cause and the fixes, exit 2, no stack trace`, () => {
      const tmp = tempDir();
      try {
        const ports = flag === '--port' ? ['--port', '1', '--bpium-emulator-port', '0'] : ['--port', '0', '--bpium-emulator-port', '1'];
        const r = serveAsNobody([...ports, '--data-dir', join(tmp.dir, 'var')]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, new RegExp(`^oktell-emu: cannot listen on 127\\.0\\.0\\.1:1 \\(EACCES\\): this user may not open the port of ${what}: ports below 1024 need root or the CAP_NET_BIND_SERVICE capability\\. Use a port from 1024 up \\(set ${flag}`));
        assert.match(r.stderr, /AmbientCapabilities=CAP_NET_BIND_SERVICE\)\n$/);
        assert.doesNotMatch(r.stderr, /node:net|\n {4}at /);
      } finally {
        tmp.cleanup();
      }
    });
  }
});

// EACCES on a port from 1024 up is not the root-port rule (a security policy such as SELinux refuses it): the message
// must not blame the port being below 1024 nor advise moving to a port from 1024 up.
describe('EACCES on a port from 1024 up', () => {
  it('names a security policy, not the ports below 1024', () => {
    const e = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:8080'), { code: 'EACCES', address: '0.0.0.0', port: 8080 });
    const said = (portInUse(e, 'the server', '--port or OKTELL_PORT') as Error).message;
    assert.match(said, /^cannot listen on 0\.0\.0\.0:8080 \(EACCES\): the system refuses this user the port of the server, though it is no port below 1024: a security policy \(SELinux, AppArmor\) forbids it\./);
    assert.doesNotMatch(said, /ports below 1024 need root|Use a port from 1024 up/);
  });

  it('a port below 1024 still gets the root-port advice', () => {
    const e = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES', address: '0.0.0.0', port: 80 });
    assert.match((portInUse(e, 'the server', '--port or OKTELL_PORT') as Error).message, /ports below 1024 need root or the CAP_NET_BIND_SERVICE capability\. Use a port from 1024 up \(set --port or OKTELL_PORT\)/);
  });
});
