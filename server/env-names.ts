// The environment variables the product reads: one list, for the start's warning about misspelt names (and the docs
// test that keeps it and docs/configuration.md in step).
import { closest } from '../engine/suggest.js';
import { envSetting } from '../engine/env.js';
import type { ScenarioLibrary } from '../engine/library.js';

/** Every environment variable the server and the CLI read by a fixed name (docs/configuration.md has a row for each). */
export const ENV_VARIABLES: readonly string[] = [
  'OKTELL_PORT', 'OKTELL_HOST', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR', 'OKTELL_SCENARIOS', 'OKTELL_USERS', 'OKTELL_TZ',
  'OKTELL_HOOK_SCENARIO', 'OKTELL_HOOK_HEAD', 'OKTELL_LOG_LEVEL', 'OKTELL_LOG_FORMAT', 'OKTELL_LOG_REPEATS_MS', 'OKTELL_BODY_LIMIT', 'OKTELL_BODY_BUDGET',
  'OKTELL_BODY_BUDGET_PER_LOGIN', 'OKTELL_RUN_RECORD_BUDGET', 'OKTELL_TRACE', 'OKTELL_REQUEST_TIMEOUT_MS', 'OKTELL_KEEP_ALIVE_TIMEOUT_MS', 'OKTELL_TLS_CERT', 'OKTELL_TLS_KEY',
  'OKTELL_TRUST_PROXY', 'OKTELL_STORE', 'OKTELL_STORE_CHECK_MS', 'OKTELL_CLOCK_CHECK_MS', 'OKTELL_STORE_MAX_PAGES', 'OKTELL_LEASE_MS', 'OKTELL_WORKERS',
  'OKTELL_DELIVERY_THREAD', 'OKTELL_HEAP', 'OKTELL_MAX_ATTEMPTS', 'OKTELL_RETRY_BASE_DELAY_MS', 'OKTELL_RETRY_MAX_DELAY_MS',
  'OKTELL_BURST_IN_FLIGHT', 'OKTELL_MAX_EFFECTS', 'OKTELL_REGEX_BUDGET_MS', 'OKTELL_SUBSTR_BASE', 'OKTELL_SYNC_RUNS', 'OKTELL_SYNC_TIMEOUT', 'OKTELL_WEBAPI_FALLBACK_CHARSET', 'OKTELL_LOGIN_FAILURE_LIMIT',
  'OKTELL_RETENTION_DAYS', 'OKTELL_DEAD_LETTER_RETENTION_DAYS', 'OKTELL_DEAD_LETTER_SCENARIO', 'OKTELL_DEAD_LETTER_MAX_ATTEMPTS',
  'BPIUM_URL', 'BPIUM_LOGIN', 'BPIUM_PASSWORD', 'BPIUM_WEBHOOK_SECRET', 'BPIUM_WEBHOOK_SECRET_FILE', 'BPIUM_WEBHOOK_MAX_AGE_MINUTES',
  'BPIUM_EMULATOR_PORT', 'BPIUM_EMULATOR_WEBHOOK_URL', 'BPIUM_TIMEOUT_MS', 'BPIUM_RETRY_ATTEMPTS', 'BPIUM_RATE_LIMIT',
  'BPIUM_MAX_RESPONSE_BYTES', 'BPIUM_USERS_CACHE_TTL_MS',
  'SMTP_URL', 'SMTP_MAX_CONNECTIONS', 'SMTP_UNKNOWN_OUTCOME', 'SMTP_PENDING_MARK_MS', 'MAIL_FROM',
  'WEB_REQUEST_ALLOW_HOSTS', 'WEB_REQUEST_ATTEMPTS', 'WEB_REQUEST_MAX_RESPONSE_BYTES',
];

/** Variables read by a name with a part of the operator's choosing: `OKTELL_DB_<NAME>`, a database connection. */
export const ENV_VARIABLE_PATTERNS: readonly { prefix: string; doc: string }[] = [{ prefix: 'OKTELL_DB_', doc: 'OKTELL_DB_<NAME>' }];

/** Name prefixes the product owns: a variable with one of them that is not read above is most likely a typo. */
export const ENV_PREFIXES: readonly string[] = ['OKTELL_', 'BPIUM_', 'SMTP_', 'MAIL_', 'WEB_REQUEST_'];

/** The project's own test suite's variables (OKTELL_TEST_PG_URL): not settings of the product. */
const TEST_PREFIX = 'OKTELL_TEST_';

/**
 * A warning for each environment variable whose name starts with a prefix the product owns but that nothing reads
 * (`OKTELL_PROT`, `SMTP_ULR`), with the closest name it reads, and the name alone for the log's field. `alsoRead` are the names the configuration and the
 * scenarios choose (`env: OKTELL_CHAT_TOKEN`, `passwordEnv:`), which are read too. The value is never shown: it may be
 * a secret.
 */
export function unknownEnvWarnings(env: Readonly<Record<string, string | undefined>>, alsoRead: Iterable<string> = []): { variable: string; message: string }[] {
  const read = new Set([...ENV_VARIABLES, ...alsoRead]);
  const out: { variable: string; message: string }[] = [];
  for (const name of Object.keys(env).sort()) {
    if (envSetting(env, name) === undefined || read.has(name) || name.startsWith(TEST_PREFIX)) continue;
    if (!ENV_PREFIXES.some((p) => name.startsWith(p))) continue;
    if (ENV_VARIABLE_PATTERNS.some((p) => name.startsWith(p.prefix) && name.length > p.prefix.length)) continue;
    const guess = closest(name, ENV_VARIABLES);
    out.push({ variable: name, message: `environment variable ${name} is not one oktell-emu reads, so it has no effect${guess ? ` (did you mean ${guess}?)` : ''}; the variables it reads are listed in docs/configuration.md` });
  }
  return out;
}

/** The environment variables the library's scenarios read by their variables' `env:` (`OKTELL_CHAT_TOKEN`). */
export function scenarioEnvNames(library: Pick<ScenarioLibrary, 'scenarios'>): string[] {
  return [...library.scenarios.values()].flatMap((s) => [...s.variables.values()].flatMap((v) => (v.source?.env !== undefined ? [v.source.env] : [])));
}

/** Variables of the prefixes below that the configuration file has a key for, with that key's path. */
const FILE_KEYS: Readonly<Record<string, string>> = {
  BPIUM_WEBHOOK_SECRET: 'webhookSecrets',
  BPIUM_WEBHOOK_MAX_AGE_MINUTES: 'webhookMaxAgeMinutes',
  BPIUM_EMULATOR_PORT: 'bpiumEmulatorPort',
  WEB_REQUEST_ALLOW_HOSTS: 'webRequest.allowHosts',
  WEB_REQUEST_MAX_RESPONSE_BYTES: 'webRequest.maxResponseBytes',
};

/**
 * The environment-only variable an unknown key of the configuration file stands for (`smtpUrl`, `smtp_url`, `SMTP_URL`,
 * `webRequest: { attempts }` → SMTP_URL, WEB_REQUEST_ATTEMPTS), with the file key when the file has one after all;
 * undefined when the key is no such name. `path` is where the key sits (empty at the top level). Only the Bpium, SMTP,
 * mail and WebRequest variables: the OKTELL_ ones mostly have keys of their own, which the did-you-mean finds.
 */
export function environmentOnlyKey(path: readonly (string | number)[], key: string): { variable: string; fileKey?: string } | undefined {
  const norm = (s: string) => s.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
  const wanted = norm([...path.filter((p): p is string => typeof p === 'string'), key].join(''));
  const variable = ENV_VARIABLES.find((v) => !v.startsWith('OKTELL_') && norm(v) === wanted);
  if (!variable) return undefined;
  return FILE_KEYS[variable] ? { variable, fileKey: FILE_KEYS[variable] } : { variable };
}
