// Synchronous Web-API runs in flight: a graceful stop waits for them (within its grace period) so their callers get
// an answer and their run is recorded, instead of a connection cut with an empty reply.

export class SyncRuns {
  /** Each run in flight (settling when it has ended and been recorded), with what cuts its request short. */
  private readonly runs = new Map<Promise<void>, () => void>();

  get size(): number {
    return this.runs.size;
  }

  /**
   * Counts `run` (a run and the write of its record) as in flight until it settles. The promise returned settles
   * only if a stop's grace period ends first: the request then answers that the run did not finish. (One promise per
   * run, dropped with it: a shared one would keep a reaction of every request ever raced against it.)
   */
  track(run: Promise<unknown>): Promise<'cut'> {
    let cut: () => void = () => undefined;
    const cutShort = new Promise<'cut'>((resolve) => (cut = () => resolve('cut')));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.runs.set(settled, cut);
    void settled.then(() => this.runs.delete(settled));
    return cutShort;
  }

  /** Waits until every tracked run has ended, or `graceMs`; then cuts the rest short. Returns how many were cut. */
  async drain(graceMs: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
    await Promise.race([Promise.all([...this.runs.keys()]), grace]);
    clearTimeout(timer);
    const left = [...this.runs.values()];
    for (const cut of left) cut();
    // Let the handlers of the runs cut short write their answers before the connections are closed.
    if (left.length) await new Promise((r) => setTimeout(r, 50));
    return left.length;
  }
}
