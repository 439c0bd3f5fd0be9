// Cookies of one run for WebRequest blocks with `cookies: true`, as Oktell Studio keeps a session's cookies: what a
// service sets is sent back to the same host by the later requests of the run, and forgotten when the run ends.
import type { BlockRuntime } from '../engine/index.js';

/** host → cookie name → value. */
type Jar = Map<string, Map<string, string>>;

/** One jar per run: the runtime object lives exactly as long as its run, so the jar goes with it. */
const jars = new WeakMap<BlockRuntime, Jar>();

function jarOf(rt: BlockRuntime): Jar {
  let jar = jars.get(rt);
  if (!jar) jars.set(rt, (jar = new Map()));
  return jar;
}

/** The Cookie header for `host`, or undefined when the run holds none for it. */
export function cookieHeader(rt: BlockRuntime, host: string): string | undefined {
  const cookies = jarOf(rt).get(host.toLowerCase());
  if (!cookies || cookies.size === 0) return undefined;
  return [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}

/** Keeps the cookies of an answer's Set-Cookie headers; one set expired (Max-Age=0, a past Expires) is dropped. */
export function keepCookies(rt: BlockRuntime, host: string, setCookie: string | string[] | undefined, now: Date): void {
  if (setCookie === undefined) return;
  const jar = jarOf(rt);
  const key = host.toLowerCase();
  let cookies = jar.get(key);
  if (!cookies) jar.set(key, (cookies = new Map()));
  for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
    const [pair = '', ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    // A cookie must stay one header line; anything with control characters is not kept.
    if (/[\u0000-\u001f\u007f]/.test(name + value)) continue;
    const expired = attrs.some((a) => {
      const [k = '', v = ''] = a.split('=').map((x) => x.trim());
      if (/^max-age$/i.test(k)) return Number(v) <= 0;
      if (/^expires$/i.test(k)) return Date.parse(v) <= now.getTime();
      return false;
    });
    if (expired) cookies.delete(name);
    else cookies.set(name, value);
  }
}
