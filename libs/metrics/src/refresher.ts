import { Logger } from '@nestjs/common';

/**
 * Runs an I/O-bound metrics collection every `ms`, off the request path: never two at once, the
 * timer does not keep the process alive, and a failure is logged once per distinct message
 * (the gauges keep their last values meanwhile).
 */
export class Refresher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly run: () => Promise<void>,
    private readonly onError: () => void = () => undefined,
  ) {}

  start(ms: number): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), ms);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One refresh now (unless one is running); resolves when it is done. */
  tick(): Promise<void> {
    this.running ??= this.run()
      .then(() => {
        if (this.lastError) this.log.log(`${this.what}: refresh recovered`);
        this.lastError = undefined;
      })
      .catch((e: unknown) => {
        this.onError();
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== this.lastError) this.log.warn(`${this.what}: refresh failed: ${msg}`);
        this.lastError = msg;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
