// Reads the Bpium client settings from environment variables (BPIUM_URL, BPIUM_LOGIN, BPIUM_PASSWORD, tuning knobs).
import { envSetting, type Env } from '../../engine/env.js';
import type { BpiumClientOptions } from './client.js';
import { BpiumConfigError, normalizeBpiumUrl } from './url.js';

function positiveInt(env: Env, name: string): number | undefined {
  const raw = envSetting(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new BpiumConfigError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * Client options from the environment, or undefined when BPIUM_URL is not set (no Bpium configured).
 * - BPIUM_URL, BPIUM_LOGIN, BPIUM_PASSWORD (the last two required once BPIUM_URL is set)
 * - BPIUM_TIMEOUT_MS (default 10000), BPIUM_RETRY_ATTEMPTS (total attempts, default 3)
 * - BPIUM_MAX_RESPONSE_BYTES: bytes of one answer at most (default 16 MiB)
 * - BPIUM_RATE_LIMIT: `100/30000` (requests/ms, the default) or `off`
 * - BPIUM_USERS_CACHE_TTL_MS: when > 0, caches reads of catalogs "3" and "$users" for that long
 * @example bpiumClientOptionsFromEnv({ BPIUM_URL: 'company.bpium.ru', BPIUM_LOGIN: 'a@b.ru', BPIUM_PASSWORD: 'x' })
 */
export function bpiumClientOptionsFromEnv(env: Env): BpiumClientOptions | undefined {
  const url = envSetting(env, 'BPIUM_URL')?.trim();
  if (url === undefined) return undefined;
  normalizeBpiumUrl(url); // fail early on a bad address
  const login = envSetting(env, 'BPIUM_LOGIN')?.trim();
  const password = envSetting(env, 'BPIUM_PASSWORD');
  if (login === undefined || password === undefined) {
    throw new BpiumConfigError('BPIUM_URL is set, so BPIUM_LOGIN and BPIUM_PASSWORD must be set too');
  }
  const options: BpiumClientOptions = { url, login, password };
  const timeoutMs = positiveInt(env, 'BPIUM_TIMEOUT_MS');
  if (timeoutMs !== undefined && timeoutMs > 0) options.timeoutMs = timeoutMs;
  const maxBytes = positiveInt(env, 'BPIUM_MAX_RESPONSE_BYTES');
  if (maxBytes !== undefined && maxBytes > 0) options.maxResponseBytes = maxBytes;
  const attempts = positiveInt(env, 'BPIUM_RETRY_ATTEMPTS');
  if (attempts !== undefined) options.retry = { attempts: Math.max(1, attempts), baseDelayMs: 250, maxDelayMs: 4000 };
  const rate = envSetting(env, 'BPIUM_RATE_LIMIT')?.trim();
  if (rate !== undefined) {
    if (/^(off|false|0)$/i.test(rate)) options.rateLimit = false;
    else {
      const match = /^(\d+)\s*\/\s*(\d+)$/.exec(rate);
      if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
        throw new BpiumConfigError(`BPIUM_RATE_LIMIT must look like 100/30000 (requests/ms) or off, got ${JSON.stringify(rate)}`);
      }
      options.rateLimit = { requests: Number(match[1]), perMs: Number(match[2]) };
    }
  }
  const ttl = positiveInt(env, 'BPIUM_USERS_CACHE_TTL_MS');
  if (ttl !== undefined && ttl > 0) options.usersCache = { catalogIds: ['3', '$users'], ttlMs: ttl };
  return options;
}
