// The input parameters of a Web-API start (execsvcscript): `startparam1` … `startparam99`, from the query and the form.

/** Input parameters by number ('1' … '99'), or why the request is refused (a 400). */
export type StartParams = { ok: true; params: Record<string, string> } | { ok: false; reason: string };

/**
 * Reads the start parameters of every source (query, then form body). Oktell clients also send a bare `startparam`:
 * that is parameter 1. A name Oktell would not number (`startparam0`, `startparam100`, `startparamX`) and a
 * parameter given twice (repeated, in both query and form, or as `startparam` and `startparam1`) are refused rather
 * than silently dropped, so a client learns its call is wrong.
 *
 * @example
 * startParams([{ startparam: 'a', startparam2: 'b' }]) // { ok: true, params: { 1: 'a', 2: 'b' } }
 * startParams([{ startparam0: 'a' }]) // { ok: false, reason: '"startparam0": parameters are numbered 1 to 99' }
 */
export function startParams(sources: ReadonlyArray<Record<string, unknown>>): StartParams {
  const params: Record<string, string> = {};
  const from: Record<string, string> = {};
  for (const source of sources) {
    for (const [key, value] of Object.entries(source)) {
      if (!/^startparam/i.test(key)) continue;
      const shown = JSON.stringify(key.slice(0, 40));
      const m = /^startparam(\d{0,3})$/i.exec(key);
      const n = m ? (m[1] === '' ? 1 : Number(m[1])) : NaN;
      if (!Number.isInteger(n) || n < 1 || n > 99) return { ok: false, reason: `${shown}: parameters are numbered 1 to 99 (startparam1 … startparam99; a bare startparam is 1)` };
      if (typeof value !== 'string') return { ok: false, reason: `${shown} is given more than once` };
      const slot = String(n);
      if (from[slot] !== undefined) return { ok: false, reason: `parameter ${slot} is given more than once (${JSON.stringify(from[slot])} and ${shown})` };
      from[slot] = key.slice(0, 40);
      params[slot] = value;
    }
  }
  return { ok: true, params };
}

/** The Web-API's own parameters besides the numbered ones, by their lower-case name. */
export const WEB_API_KEYS = ['name', 'async', 'timeout'] as const;
export type WebApiKey = (typeof WEB_API_KEYS)[number];

/** The values of `name`, `async` and `timeout`, or why the request is refused (a 400). */
export type WebApiKeys = { ok: true; values: Partial<Record<WebApiKey, string>> } | { ok: false; reason: string };

/**
 * Reads `name`, `async` and `timeout` from every source (the query, the form), matching their names in any letter
 * case as `startparam…` is matched. Each may be given once, in one source: a second value (repeated, in both the query
 * and the form, or in two spellings such as `name` and `Name`) is refused rather than one of them winning silently.
 * Other keys are not looked at here.
 *
 * @example
 * webApiKeys([{ from: 'query', values: { Name: 'Echo' } }]) // { ok: true, values: { name: 'Echo' } }
 * webApiKeys([{ from: 'query', values: { name: 'A' } }, { from: 'form', values: { name: 'B' } }])
 * // { ok: false, reason: 'the "name" parameter is given 2 times ("name" in the query, "name" in the form): give it once' }
 */
export function webApiKeys(sources: ReadonlyArray<{ from: string; values: Record<string, unknown> }>): WebApiKeys {
  const found = new Map<WebApiKey, { values: unknown[]; where: string[] }>();
  for (const { from, values } of sources) {
    for (const [key, value] of Object.entries(values)) {
      const known = WEB_API_KEYS.find((k) => k === key.toLowerCase());
      if (!known) continue;
      const each = Array.isArray(value) ? value : [value];
      const entry = found.get(known) ?? { values: [], where: [] };
      entry.values.push(...each);
      entry.where.push(`${JSON.stringify(key.slice(0, 40))} in the ${from}${each.length > 1 ? ` ${each.length} times` : ''}`);
      found.set(known, entry);
    }
  }
  const out: Partial<Record<WebApiKey, string>> = {};
  for (const key of WEB_API_KEYS) {
    const entry = found.get(key);
    if (!entry) continue;
    if (entry.values.length > 1) return { ok: false, reason: `the "${key}" parameter is given ${entry.values.length} times (${entry.where.join(', ')}): give it once` };
    const [value] = entry.values;
    if (typeof value !== 'string') return { ok: false, reason: `the "${key}" parameter must be plain text` };
    out[key] = value;
  }
  return { ok: true, values: out };
}
