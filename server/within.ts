// A bound on a wait: for a stop that must end even when what it waits for (a store behind a network partition) never answers.

/**
 * Whether `p` settled within `ms`: true once it resolves, false when the time ran out first; a rejection before then is
 * passed on, one after it is ignored (nobody waits for it any more). The timer is cleared as soon as either happens.
 */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.max(0, ms))));
  const settled = p.then(() => true as const);
  settled.catch(() => undefined);
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
