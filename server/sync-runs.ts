// Synchronous runs in flight: the Web-API's synchronous runs and the hook's HTTP404 runs, each of which lives in the
// request that waits for it. A graceful stop waits for them (within its grace period) so their callers get an answer
// and their run is recorded, instead of a connection cut with an empty reply; and the Web-API's runs are counted for
// its cap (`maxSyncRuns`).

export class SyncRuns {
  /** Each Web-API run in flight (settling when it has ended and been recorded), with what cuts its request short. */
  private readonly runs = new Map<Promise<void>, () => void>();
  /** Hook requests being answered (their HTTP404 run, its store write and the answer), with what cuts each short. */
  private readonly hooks = new Map<Promise<void>, () => void>();
  private computing = 0;

  /** Web-API runs whose scenario has not ended yet: what the cap counts (a run past its caller's timeout included). */
  get running(): number {
    return this.computing;
  }

  /**
   * Counts a Web-API run: `ended` (the run itself) for the cap until it settles, and `recorded` (the run and the write
   * of its record) for a stop until it settles. The promise returned settles only if a stop's grace period ends first:
   * the request then answers that the run did not finish. (One promise per run, dropped with it: a shared one would
   * keep a reaction of every request ever raced against it.)
   */
  track(ended: Promise<unknown>, recorded: Promise<unknown>): Promise<'cut'> {
    this.computing++;
    void settledOf(ended).then(() => this.computing--);
    let cut: () => void = () => undefined;
    const cutShort = new Promise<'cut'>((resolve) => (cut = () => resolve('cut')));
    const settled = settledOf(recorded);
    this.runs.set(settled, cut);
    void settled.then(() => this.runs.delete(settled));
    return cutShort;
  }

  /**
   * Counts a hook request until its answer is ready: a stop lets it finish (within the grace period). The promise
   * returned settles only if the grace period ends first (its HTTP404 run still waiting on a silent SMTP server, say):
   * the request is then answered that the server stopped, instead of being cut without an answer a second later.
   */
  hold(answer: Promise<unknown>): Promise<'cut'> {
    let cut: () => void = () => undefined;
    const cutShort = new Promise<'cut'>((resolve) => (cut = () => resolve('cut')));
    const settled = settledOf(answer);
    this.hooks.set(settled, cut);
    void settled.then(() => this.hooks.delete(settled));
    return cutShort;
  }

  /**
   * Waits until every tracked run and hook request has ended, or `graceMs`; then cuts the Web-API runs and the hook
   * requests still going short. Returns how many of each were cut.
   */
  async drain(graceMs: number): Promise<{ runs: number; hooks: number }> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
    const hooks = this.hooks.size;
    await Promise.race([Promise.all([...this.runs.keys(), ...this.hooks.keys()]), grace]);
    clearTimeout(timer);
    const left = [...this.runs.values()];
    const hooksLeft = [...this.hooks.values()];
    for (const cut of [...left, ...hooksLeft]) cut();
    // Let the requests whose answer is ready (or was cut short) write it before the connections are closed.
    if (left.length || hooksLeft.length) await new Promise((r) => setTimeout(r, 50));
    else if (hooks) await new Promise((r) => setImmediate(r));
    return { runs: left.length, hooks: hooksLeft.length };
  }
}

function settledOf(p: Promise<unknown>): Promise<void> {
  return p.then(
    () => undefined,
    () => undefined,
  );
}
