// Ids for jobs and runs that sort by creation time: 10 characters of millisecond time, 16 of randomness (base32).
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** Whether `text` has the shape of an id this module makes (26 characters of its alphabet), e.g. to tell one from a search text. */
export function looksLikeSortableId(text: string): boolean {
  return text.length === 26 && [...text].every((c) => ALPHABET.includes(c));
}

/**
 * A 26-character id, lower-case Crockford base32, ordered by `nowMs` (then random). Safe in URLs and file names.
 *
 * @example newSortableId(Date.now()) // '01j9z3k8qd4x7m2n5p8r1t3v6w'
 */
export function newSortableId(nowMs: number = Date.now()): string {
  let time = '';
  let t = Math.max(0, Math.floor(nowMs));
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rand = '';
  for (let i = 0; i < 16; i++) rand += ALPHABET[nextRandomByte() % 32];
  return time + rand;
}

// One randomFillSync per 4 KiB instead of one per id: the per-call cost dominated the job insert on the hot path.
const pool = Buffer.alloc(4096);
let poolPos = pool.length;

function nextRandomByte(): number {
  if (poolPos >= pool.length) {
    randomFillSync(pool);
    poolPos = 0;
  }
  return pool[poolPos++]!;
}

/** Ids for runs and jobs made by the server: sortable ones keep the tables' primary-key inserts at the end of the index. */
export const sortableIds = { newId: () => newSortableId() };
