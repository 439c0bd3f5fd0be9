// Finding (Low, review of 158681b): with the server's port 0 in the configuration file (or OKTELL_PORT=0), the
// emulator's port became 0 as well, and `demo`, with no running server's serve.json to name the port taken, tried
// http://127.0.0.1:0 (and said that 0 was the default). It tries the default emulator port, as before that change.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { demoTarget } from '../../cli/commands/demo.js';
import { tempDir } from '../helpers.js';

describe('demo with the server\'s port 0 and no server running', () => {
  const made: Array<{ cleanup(): void }> = [];
  after(() => made.forEach((t) => t.cleanup()));
  const temp = () => {
    const t = tempDir();
    made.push(t);
    return t.dir;
  };
  it('port: 0 in the configuration file: the default emulator port, not port 0', () => {
    const dir = temp();
    const config = join(dir, 'oktell.config.yaml');
    writeFileSync(config, 'port: 0\n');
    const t = demoTarget({ config, dataDir: join(dir, 'var') }, {});
    assert.deepEqual([t.url, t.source, t.port], ['http://127.0.0.1:4056', 'port', 4056]);
  });
  it('OKTELL_PORT=0: the same', () => {
    const dir = temp();
    const t = demoTarget({ dataDir: join(dir, 'var') }, { OKTELL_PORT: '0' });
    assert.deepEqual([t.url, t.port], ['http://127.0.0.1:4056', 4056]);
  });
  it('an emulator port given in the file is still the one tried', () => {
    const dir = temp();
    const config = join(dir, 'oktell.config.yaml');
    writeFileSync(config, 'port: 0\nbpiumEmulatorPort: 4199\n');
    assert.equal(demoTarget({ config, dataDir: join(dir, 'var') }, {}).url, 'http://127.0.0.1:4199');
  });
});
