// A bound on a wait, for the layers that race something against a timer: a stop that must end even when the store
// behind a network partition never answers, a database statement whose server stopped answering.

/**
 * `{ value }` once `p` resolves within `ms`, undefined when the time ran out first; a rejection before then is passed
 * on, one after it is ignored (nobody waits for it any more). The timer is cleared as soon as either happens.
 *
 * @example
 *   const answered = await valueWithin(client.query(sql), 5000);
 *   if (!answered) throw new Error('no answer within 5 s');
 */
export async function valueWithin<T>(p: Promise<T>, ms: number): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), Math.max(0, ms))));
  const settled = p.then((value) => ({ value }));
  settled.catch(() => undefined);
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
