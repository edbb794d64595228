import type { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { RoleLease } from './leadership/leadership';

/**
 * A background loop that drains some queue (the ledger outbox, the projection queue): every
 * `intervalMs` and whenever kicked, one drain at a time; a kick during a drain runs another
 * right after it. A failure is logged once per distinct message and kept for health checks.
 * Only the instance holding the loop's role drains (leadership/leadership.ts); it drains at once
 * when it takes the role.
 */
export abstract class DrainLoop implements OnApplicationBootstrap, OnApplicationShutdown {
  protected abstract readonly log: Logger;
  /** How the logs name this loop. */
  protected abstract readonly label: string;
  protected lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  protected constructor(
    private readonly intervalMs: number,
    protected readonly lease: RoleLease,
  ) {
    lease.onAcquired(() => this.kick());
  }

  /** Drains until there is nothing left (or another instance holds the work). */
  protected abstract drain(): Promise<void>;

  /** After each drain, succeeded or failed (`lastError` then says which). */
  protected afterDrain(): void {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), this.intervalMs);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Drain now (e.g. right after a decision batch committed). */
  kick(): void {
    if (!this.lease.held) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .then(() => {
        this.lastError = undefined;
      })
      .catch((e: unknown) => {
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== this.lastError) this.log.warn(`${this.label}: ${msg}`);
        this.lastError = msg;
      })
      .finally(() => {
        this.running = undefined;
        this.afterDrain();
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }
}
