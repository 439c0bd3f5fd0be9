// Turns the BPIUM_URL setting (bare domain or full URL) into the API base `https://host[:port][/prefix]/api/v1`.
import { maskAddressLogin } from '../web/redact.js';

/** Thrown for a Bpium setting that cannot work (bad URL, missing login); the operator must fix the configuration. */
export class BpiumConfigError extends Error {
  override name = 'BpiumConfigError';
}

/**
 * Normalises a Bpium address to the API base URL, without a trailing slash.
 * A bare domain gets `https://`; a path without `/api/v1` gets it appended (a reverse-proxy prefix is kept).
 * @example normalizeBpiumUrl('company.bpium.ru') // → 'https://company.bpium.ru/api/v1'
 * @example normalizeBpiumUrl('http://127.0.0.1:4056/') // → 'http://127.0.0.1:4056/api/v1'
 */
export function normalizeBpiumUrl(raw: string): string {
  const text = raw.trim();
  if (text === '') throw new BpiumConfigError('BPIUM_URL is empty: give a domain such as company.bpium.ru');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new BpiumConfigError(`BPIUM_URL is not a valid address: ${JSON.stringify(maskAddressLogin(text))}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new BpiumConfigError(`BPIUM_URL must use http or https, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new BpiumConfigError('BPIUM_URL must not carry credentials: put them in BPIUM_LOGIN and BPIUM_PASSWORD');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new BpiumConfigError('BPIUM_URL must not have a query string or a fragment');
  }
  let path = url.pathname.replace(/\/+$/, '');
  if (!/\/api\/v1$/i.test(path)) path = `${path}/api/v1`;
  return `${url.protocol}//${url.host}${path}`;
}

