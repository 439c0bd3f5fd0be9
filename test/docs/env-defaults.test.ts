// The defaults docs/configuration.md gives in its tables of environment variables are the ones the server takes when
// nothing is set: for each variable below, the first `value` of its row's default column against the configuration
// loaded with an empty environment and no file (or the adapter's own default).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY as BPIUM_RETRY } from '../../adapters/bpium/retry.js';
import { DEFAULT_BPIUM_MAX_RESPONSE_BYTES } from '../../adapters/bpium/client.js';
import { DEFAULT_MAIL_FROM } from '../../adapters/mail/compose.js';
import { DEFAULT_PENDING_MARK_MS } from '../../adapters/mail/smtp.adapter.js';
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_WEB_RETRY } from '../../adapters/web/client.js';
import { loadServerConfig, parseSize } from '../../server/config.js';
import { repoPath, tempDir } from '../helpers.js';

const doc = readFileSync(repoPath('docs', 'configuration.md'), 'utf8');

/** The first backquoted value of the default column of the variable's row. */
function documentedDefault(name: string): string | undefined {
  return new RegExp(`^\\| \`${name}\` \\| \`([^\`]+)\``, 'm').exec(doc)?.[1];
}

type Loaded = ReturnType<typeof loadServerConfig>;
/** Variable → the default the code takes, as the doc writes it (a size is compared in bytes). */
const DEFAULTS: [string, (c: Loaded, cwd: string) => string | number][] = [
  ['OKTELL_PORT', (c) => c.port],
  ['OKTELL_HOST', (c) => c.host],
  ['OKTELL_SCENARIOS', (c, cwd) => `./${relative(cwd, c.scenariosDir)}`],
  ['OKTELL_DATA_DIR', (c, cwd) => `./${relative(cwd, c.dataDir)}`],
  ['OKTELL_TZ', (c) => c.timeZone],
  ['OKTELL_HOOK_SCENARIO', (c) => c.hook.scenario],
  ['OKTELL_HOOK_HEAD', (c) => c.hook.head],
  ['OKTELL_BODY_LIMIT', (c) => c.bodyLimitBytes],
  ['OKTELL_RUN_RECORD_BUDGET', (c) => c.runRecordBytes],
  ['OKTELL_TRACE', (c) => c.traceKept],
  ['OKTELL_REQUEST_TIMEOUT_MS', (c) => c.requestTimeoutMs],
  ['OKTELL_KEEP_ALIVE_TIMEOUT_MS', (c) => c.keepAliveTimeoutMs],
  ['OKTELL_TRUST_PROXY', (c) => String(c.trustProxy)],
  ['OKTELL_STORE', (c) => c.store.kind],
  ['OKTELL_LEASE_MS', (c) => c.workers.leaseMs],
  ['OKTELL_WORKERS', (c) => c.workers.concurrency],
  ['OKTELL_DELIVERY_THREAD', (c) => (c.workers.thread ? 'on' : 'off')],
  ['OKTELL_HEAP', (c) => c.heap],
  ['OKTELL_MAX_ATTEMPTS', (c) => c.workers.maxAttempts],
  ['OKTELL_RETRY_BASE_DELAY_MS', (c) => c.workers.baseDelayMs],
  ['OKTELL_RETRY_MAX_DELAY_MS', (c) => c.workers.maxDelayMs],
  ['OKTELL_MAX_EFFECTS', (c) => c.maxEffectsPerRun],
  ['OKTELL_REGEX_BUDGET_MS', (c) => c.regexBudgetMs],
  ['OKTELL_SUBSTR_BASE', (c) => c.substrBase],
  ['OKTELL_SYNC_RUNS', (c) => c.maxSyncRuns],
  ['OKTELL_SYNC_TIMEOUT', (c) => c.syncTimeout],
  ['OKTELL_LOGIN_FAILURE_LIMIT', (c) => c.loginFailureLimit],
  ['OKTELL_STORE_CHECK_MS', (c) => c.storeCheckMs],
  ['OKTELL_CLOCK_CHECK_MS', (c) => c.clockCheckMs],
  ['OKTELL_RETENTION_DAYS', (c) => c.retentionMs / 86_400_000],
  ['OKTELL_LOG_REPEATS_MS', (c) => c.logRepeatsMs],
  ['BPIUM_EMULATOR_PORT', (c) => c.bpiumEmulatorPort],
  ['BPIUM_MAX_RESPONSE_BYTES', () => DEFAULT_BPIUM_MAX_RESPONSE_BYTES],
  ['BPIUM_RETRY_ATTEMPTS', () => BPIUM_RETRY.attempts],
  ['SMTP_PENDING_MARK_MS', () => DEFAULT_PENDING_MARK_MS],
  ['MAIL_FROM', () => DEFAULT_MAIL_FROM],
  ['WEB_REQUEST_MAX_RESPONSE_BYTES', () => DEFAULT_MAX_RESPONSE_BYTES],
  ['WEB_REQUEST_ATTEMPTS', () => DEFAULT_WEB_RETRY.attempts],
];
const SIZES = new Set(['OKTELL_BODY_LIMIT', 'OKTELL_RUN_RECORD_BUDGET']);

describe('docs/configuration.md: the documented defaults are the code\'s', () => {
  const tmp = tempDir();
  let config: Loaded;
  try {
    config = loadServerConfig({}, {}, tmp.dir);
  } finally {
    tmp.cleanup();
  }
  for (const [name, actual] of DEFAULTS) {
    it(name, () => {
      const written = documentedDefault(name);
      assert.ok(written !== undefined, `no row with a default for ${name}`);
      const value = actual(config, tmp.dir);
      if (SIZES.has(name)) assert.equal(parseSize(written), value);
      else assert.equal(written, String(value));
    });
  }
});
