import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type PublisherDeliveryDeadV1, Topics, topicName } from '@app/contracts';
import { redactQuery } from '@app/config';
import {
  buildPostback,
  classifyAttempt,
  nextAttemptDelay,
  parseRetryAfter,
  postbackFacts,
} from '@app/domain';
import type { HealthCheckResult, HealthIndicator } from '@app/health';
import { BatchingProducer } from '@app/kafka';
import { NotifierEnv } from '../notifier.env';
import { NotifierMetrics } from '../observability/notifier-metrics';
import { type AttemptRecord, type ClaimedDelivery, DeliveryStore } from './delivery-store';
import { HttpSender } from './http-sender';

/**
 * Sends due deliveries with at most DELIVERY_CONCURRENCY calls in flight, and at most
 * PUBLISHER_CONCURRENCY to any one publisher (a slow one cannot starve the rest). Woken by new ledger
 * entries, by finished calls, and every DELIVERY_POLL_MS. Every attempt is recorded; a delivery
 * whose retry window is over is put on `publisher.deliveries.dead` (acknowledged by Kafka)
 * before it is marked dead, so a crash in between sends it once more rather than losing it.
 */
@Injectable()
export class DeliveryLoop implements OnApplicationBootstrap, OnApplicationShutdown, HealthIndicator {
  readonly name = 'delivery_loop';
  private readonly log = new Logger('Deliveries');
  private timer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private again = false;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** Calls in flight per publisher. */
  private readonly busy = new Map<string, number>();
  private lastError: string | undefined;
  private lastErrorAt = 0;

  constructor(
    @Inject(DeliveryStore) private readonly store: DeliveryStore,
    @Inject(HttpSender) private readonly http: HttpSender,
    @Inject(BatchingProducer) private readonly producer: BatchingProducer,
    @Inject(NotifierEnv) private readonly env: NotifierEnv,
    @Inject(NotifierMetrics) private readonly metrics: NotifierMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), this.env.DELIVERY_POLL_MS);
    this.kick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.claiming;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Look for due deliveries now. */
  kick(): void {
    if (this.stopping) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    const free = this.env.DELIVERY_CONCURRENCY - this.inFlight.size;
    if (free <= 0) return;
    this.claiming = this.fill(free)
      .catch((e: unknown) => this.noteError(e))
      .finally(() => {
        this.claiming = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async fill(free: number): Promise<void> {
    const claimed = await this.store.claim(free, this.busy);
    this.lastError = undefined;
    for (const d of claimed) {
      this.busy.set(d.publisherId, (this.busy.get(d.publisherId) ?? 0) + 1);
      const p: Promise<void> = this.deliver(d)
        .catch((e: unknown) => this.noteError(e))
        .finally(() => {
          this.inFlight.delete(p);
          const n = (this.busy.get(d.publisherId) ?? 1) - 1;
          if (n > 0) this.busy.set(d.publisherId, n);
          else this.busy.delete(d.publisherId);
          this.kick();
        });
      this.inFlight.add(p);
    }
    // A full claim means more may be due.
    if (claimed.length === free) this.again = true;
  }

  private noteError(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg !== this.lastError) this.log.warn(`delivery loop: ${msg}`);
    this.lastError = msg;
    this.lastErrorAt = Date.now();
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const attemptedAt = new Date();
    if (d.sealError) {
      // Unsigned calls are never sent: a failed attempt (retried, counted toward pausing) until the key is back.
      const error = `not called: the publisher's secrets do not open: ${d.sealError}`;
      await this.finish(
        d,
        attemptedAt,
        '',
        { status: undefined, retryAfter: null, latencyMs: 0, error },
        'retry',
      );
      return;
    }
    const req = buildPostback(d.config, postbackFacts(d.entry), Math.floor(attemptedAt.getTime() / 1000));
    if (!req) {
      // The publisher removed the template for this status since the entry was taken in.
      await this.finish(
        d,
        attemptedAt,
        '',
        { status: undefined, retryAfter: null, latencyMs: 0, error: 'no postback URL for this status' },
        'rejected_by_publisher',
      );
      return;
    }
    const answer = await this.http.get(req.url, req.headers);
    const cls = classifyAttempt(answer.status);
    await this.finish(d, attemptedAt, req.url, answer, cls);
  }

  private async finish(
    d: ClaimedDelivery,
    attemptedAt: Date,
    url: string,
    answer: Awaited<ReturnType<HttpSender['get']>>,
    cls: ReturnType<typeof classifyAttempt>,
  ): Promise<void> {
    let outcome: AttemptRecord['outcome'] = cls;
    let nextAttemptAt: Date | null = null;
    const error =
      answer.error ?? (cls === 'delivered' || answer.status === undefined ? null : `HTTP ${answer.status}`);
    if (cls === 'retry') {
      const now = Date.now();
      const delay = nextAttemptDelay(d.attempt, d.firstAttemptAt.getTime(), now, {
        baseMs: this.env.DELIVERY_BACKOFF_BASE_MS,
        maxMs: this.env.DELIVERY_BACKOFF_MAX_MS,
        maxAgeMs: this.env.DELIVERY_MAX_AGE_MS,
        retryAfterMs: parseRetryAfter(answer.retryAfter, now),
      });
      if (delay === undefined) outcome = 'dead';
      else nextAttemptAt = new Date(now + delay);
    }
    if (outcome === 'dead') await this.deadLetter(d, answer.status ?? null, error);
    const { paused } = await this.store.record({
      delivery: d,
      url: redactQuery(url, d.config.legacyHash ? [d.config.legacyHash.param] : []),
      statusCode: answer.status ?? null,
      latencyMs: answer.latencyMs,
      error,
      outcome,
      nextAttemptAt,
      attemptedAt,
    });
    this.metrics.attempted(d, outcome, answer.latencyMs);
    if (this.env.LOG_LEVEL === 'debug')
      this.log.debug({
        msg: 'publisher postback attempted',
        // The postback's event id: the same correlation id as the gateway's and processor's lines.
        correlation_id: d.entry.source_event_id,
        request_id: d.requestId,
        entry_id: d.entryId,
        entry_type: d.entry.entry_type,
        publisher_id: d.publisherId,
        attempt: d.attempt,
        outcome,
        status_code: answer.status ?? null,
      });
    if (outcome === 'dead')
      this.log.warn({
        msg: 'publisher postback dead-lettered',
        publisher_id: d.publisherId,
        entry_id: d.entryId,
        attempts: d.attempt,
        last_error: error,
      });
    if (paused)
      this.log.error({
        msg: 'publisher postback endpoint paused',
        publisher_id: d.publisherId,
        failures_in_a_row_at_least: this.env.PUBLISHER_PAUSE_AFTER_FAILURES,
        last_error: error,
        action: `POST /v1/admin/publishers/${d.publisherId}/postback/resume once it is fixed`,
      });
  }

  private async deadLetter(d: ClaimedDelivery, status: number | null, error: string | null): Promise<void> {
    const message: PublisherDeliveryDeadV1 = {
      schema_version: 1,
      entry_id: d.entryId,
      publisher_id: d.publisherId,
      conversion_id: d.conversionId,
      entry_type: d.entry.entry_type,
      attempts: d.attempt,
      first_attempt_at: d.firstAttemptAt.toISOString(),
      dead_at: new Date().toISOString(),
      last_status_code: status,
      last_error: error,
      entry: d.entry,
    };
    await this.producer.send(topicName(Topics.publisherDeliveriesDead, this.env.TOPIC_PREFIX), {
      key: d.publisherId,
      value: JSON.stringify(message),
    });
  }

  async check(): Promise<HealthCheckResult> {
    // Postgres trouble shows in its own check; this one says the loop itself is stuck.
    if (this.lastError && Date.now() - this.lastErrorAt < 10_000)
      return { ok: false, detail: `delivery loop failing: ${this.lastError}` };
    return { ok: true, detail: `${this.inFlight.size} in flight` };
  }
}
