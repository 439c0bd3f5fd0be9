// Sizes as people write them in settings ("5mb", "512kb", "1048576"), in one place: the configuration file's keys
// and the environment variables that override them (OKTELL_BODY_LIMIT, WEB_REQUEST_MAX_RESPONSE_BYTES) read the same.

/** Parses "5mb", "512kb", "1048576" into bytes (k = 1024); `setting` (the variable or file key) prefixes the error. */
export function parseSize(v: string | number, setting?: string): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(v);
  if (!m) throw new Error(`${setting ? `${setting}: ` : ''}"${v}" is not a size (e.g. 5mb, 512kb)`);
  const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.round(Number(m[1]) * mult);
}
