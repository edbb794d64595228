import type { RetryStats } from './http-retry';
import type { ReplaySummary } from './replay';

/**
 * A live progress line on stderr: events answered of the total, 2xx, 4xx by code, retries of
 * 503/429/network errors, the rate, and the virtual time reached. Redrawn in place on a
 * terminal, printed every few seconds otherwise (CI logs).
 */
export class Progress {
  readonly stats: RetryStats = { retried503: 0, retried429: 0, networkErrors: 0 };
  private readonly byStatus: Record<string, number> = {};
  private sent = 0;
  private done = 0;
  private failed = 0;
  private vt = '';
  private startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly tty = process.stderr.isTTY;

  constructor(private readonly total: number) {}

  start(): void {
    this.startedAt = Date.now();
    this.timer = setInterval(() => this.draw(), this.tty ? 250 : 5000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.draw();
    process.stderr.write('\n');
  }

  sending(): void {
    this.sent++;
  }

  answered(status: number): void {
    this.done++;
    const k = status === 0 ? 'failed' : String(status);
    this.byStatus[k] = (this.byStatus[k] ?? 0) + 1;
    if (status === 0 || status >= 500) this.failed++;
  }

  virtualTime(t: string): void {
    this.vt = t;
  }

  line(): string {
    const pct = this.total ? Math.floor((this.done / this.total) * 100) : 100;
    const width = 20;
    const bar = '#'.repeat(Math.floor((pct / 100) * width)).padEnd(width, '.');
    const secs = (Date.now() - this.startedAt) / 1000;
    const ok = Object.entries(this.byStatus)
      .filter(([k]) => k.startsWith('2'))
      .reduce((s, [, n]) => s + n, 0);
    const fourxx = Object.entries(this.byStatus)
      .filter(([k]) => k.startsWith('4'))
      .map(([k, n]) => `${k}:${n}`)
      .join(' ');
    const s = this.stats;
    return (
      `[replay] [${bar}] ${pct}% sent=${this.sent} answered=${this.done}/${this.total} 2xx=${ok} 4xx={${fourxx}} ` +
      `retried 503=${s.retried503} 429=${s.retried429} net=${s.networkErrors} failed=${this.failed} ` +
      `${(this.done / Math.max(secs, 0.001)).toFixed(0)}/s virtual ${this.vt.slice(0, 19)}`
    );
  }

  summary(): ReplaySummary {
    return {
      ...this.stats,
      total: this.total,
      done: this.done,
      byStatus: { ...this.byStatus },
      failed: this.failed,
      elapsedMs: Date.now() - this.startedAt,
    };
  }

  private draw(): void {
    process.stderr.write(this.tty ? `\r${this.line()}\x1b[K` : `${this.line()}\n`);
  }
}
