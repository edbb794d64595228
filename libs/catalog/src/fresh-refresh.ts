/**
 * Runs a refresh so that what a caller awaits always started after its call.
 *
 * Plain single flight (every caller joins the run in progress) is wrong for a cache that a writer
 * refreshes after committing: the run in progress may have read the table before the commit, and
 * the writer would go on with a copy that does not hold its own write. Here a caller that finds a
 * run in progress waits for the next one, which every caller arriving meanwhile shares, so at most
 * one run is in progress and one is queued, however many callers there are.
 */
export class FreshRefresh {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly run: () => Promise<void>) {}

  refresh(): Promise<void> {
    if (!this.running) return this.start();
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    return this.queued;
  }

  private start(): Promise<void> {
    // Started on the next tick, so `run` is assigned before its end can compare against it.
    const run: Promise<void> = Promise.resolve()
      .then(() => this.run())
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    this.running = run;
    return run;
  }
}
