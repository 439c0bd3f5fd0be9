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
