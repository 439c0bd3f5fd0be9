// Only `serviceTasks:` is reloaded while the server runs; an edit of any other setting is said in the log (restart to
// apply) instead of being silently ignored.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { otherSettingsChanged, taskDefinitions } from '../../server/tasks/reload.js';
import { tempDir } from '../helpers.js';

describe('which settings an edit of the configuration file changed', () => {
  const cases: Array<[string, string | undefined, string, string[]]> = [
    ['the port', 'port: 4055\n', 'port: 4056\n', ['port']],
    ['only the tasks', 'serviceTasks: []\n', 'serviceTasks:\n  - { name: a, scenario: S, every: 10s }\n', []],
    ['a setting added and one removed', 'port: 4055\n', 'timeZone: UTC\n', ['port', 'timeZone']],
    ['a nested value', 'workers:\n  leaseMs: 60000\n', 'workers:\n  leaseMs: 30000\n', ['workers']],
    ['a comment only', 'port: 4055\n', '# the port\nport: 4055\n', []],
    ['a file created after the start', undefined, 'port: 4056\nserviceTasks: []\n', ['port']],
    ['unreadable YAML says nothing (the tasks reload reports it)', 'port: 4055\n', 'port: [\n', []],
  ];
  for (const [what, before, after, changed] of cases) {
    it(what, () => assert.deepEqual(otherSettingsChanged(before, after), changed));
  }
});

describe('the configuration file watched while the server runs', () => {
  it('an edited port is logged as needing a restart; the tasks are reloaded', { timeout: 15_000 }, async () => {
    const t = tempDir();
    const file = join(t.dir, 'oktell.config.yaml');
    writeFileSync(file, 'port: 4055\nserviceTasks: []\n');
    const lines: string[] = [];
    const at = (level: string) => (_f: unknown, msg?: string) => void lines.push(`${level} ${msg ?? ''}`);
    const defs = taskDefinitions({ configFile: file, timeZone: 'UTC', initial: [], logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, watch: true });
    try {
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(file, 'port: 4056\nserviceTasks:\n  - { name: tick, scenario: S, every: 10s }\n');
      for (let i = 0; i < 100 && !lines.some((l) => l.startsWith('info service tasks reloaded')); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(lines.includes('warn oktell.config.yaml: port changed; restart the server to apply (only serviceTasks are reloaded while it runs)'), lines.join('\n'));
      assert.deepEqual(defs.current().map((x) => x.name), ['tick']);
      // An unparseable save in between does not hide the next change from the comparison.
      lines.length = 0;
      writeFileSync(file, 'port: [\n');
      for (let i = 0; i < 100 && !lines.some((l) => l.includes('keeping the tasks in force')); i++) await new Promise((r) => setTimeout(r, 50));
      writeFileSync(file, 'port: 4057\nstore: sqlite\nserviceTasks:\n  - { name: tick, scenario: S, every: 10s }\n');
      for (let i = 0; i < 100 && !lines.some((l) => l.includes('restart the server')); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(lines.includes('warn oktell.config.yaml: port, store changed; restart the server to apply (only serviceTasks are reloaded while it runs)'), lines.join('\n'));
    } finally {
      defs.close();
      t.cleanup();
    }
  });
});

describe('the configuration file saved in windows-1251 while the server runs', () => {
  it('is refused at its first byte that is not UTF-8; the tasks in force are kept', { timeout: 15_000 }, async () => {
    const t = tempDir();
    const file = join(t.dir, 'oktell.config.yaml');
    writeFileSync(file, 'serviceTasks: []\n');
    const lines: string[] = [];
    const at = (level: string) => (_f: unknown, msg?: string) => void lines.push(`${level} ${msg ?? ''}`);
    const defs = taskDefinitions({ configFile: file, timeZone: 'UTC', initial: [], logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, watch: true });
    try {
      await new Promise((r) => setTimeout(r, 200));
      // "отчёт" in windows-1251 (о т ч ё т), in a parameter's text after two CR LF lines: read as UTF-8, the task
      // was reloaded and ran with "�����".
      const cp1251 = Buffer.from([0xee, 0xf2, 0xf7, 0xb8, 0xf2]);
      writeFileSync(file, Buffer.concat([Buffer.from("serviceTasks:\r\n  - name: tick\r\n    scenario: S\r\n    every: 10s\r\n    params: { 1: \"'"), cp1251, Buffer.from("'\" }\r\n")]));
      for (let i = 0; i < 100 && !lines.some((l) => l.startsWith('warn service tasks') || l.startsWith('info service tasks reloaded')); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(lines.some((l) => l.includes('keeping the tasks in force\noktell.config.yaml:5:20: the file is not UTF-8: the byte 0xEE at line 5, column 20') && l.includes('windows-1251')), lines.join('\n'));
      assert.deepEqual(defs.current().map((x) => x.name), []);
    } finally {
      defs.close();
      t.cleanup();
    }
  });
});
