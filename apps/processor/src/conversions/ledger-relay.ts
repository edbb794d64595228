import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Topics, topicName } from '@app/contracts';
import { type OutboxMessage, outboxBacklog, readOutbox, renderedMessages } from '@app/ledger';
import { BatchingProducer } from '@app/kafka';
import type { HealthCheckResult, HealthIndicator } from '@app/health';
import { ProcessorMetrics } from '../observability/processor-metrics';
import { DrainLoop } from '../drain-loop';
import { Leadership } from '../leadership/leadership';
import { ProcessorEnv } from '../processor.env';

const RELAY_LOCK = 7_331_001;

/**
 * Publishes committed ledger entries in commit order (transactional outbox) to
 * `conversions.ledger` (schema version 1) and `conversions.ledger.v2` (the same entries with
 * their money, origin and postings; LEDGER_TOPIC_VERSIONS chooses which). Only the holder of the `ledger_relay` role drains, and each drain transaction also
 * takes a lock of its own (a fence for the moment a lost holder has not noticed yet), so one
 * relay runs at a time across instances and per-conversion order holds. An entry leaves the outbox only after Kafka acknowledged it (acks=all); a crash in
 * between republishes it with the same entry_id, which consumers dedupe on.
 */
@Injectable()
export class LedgerRelay extends DrainLoop implements HealthIndicator {
  readonly name = 'ledger_relay';
  protected readonly log = new Logger(LedgerRelay.name);
  protected readonly label = 'ledger relay';
  private published = 0;
  private deadCheckedAt = 0;
  /** Callers of caughtUp() waiting for the end of a relay cycle. */
  private waiters: Array<() => void> = [];
  /**
   * The entries this process's decision batches committed, with when, oldest first, until the
   * relay publishes them (or a cycle that started reading after they committed reaches the end
   * of the outbox: they were published by then).
   */
  private readonly unpublished = new Map<string, number>();

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(BatchingProducer) private readonly producer: BatchingProducer,
    @Inject(ProcessorEnv) private readonly env: ProcessorEnv,
    @Inject(ProcessorMetrics) private readonly metrics: ProcessorMetrics,
    @Inject(Leadership) leadership: Leadership,
  ) {
    const lease = leadership.lease('ledger_relay');
    super(200, lease);
    // The writer keeps the messages it rendered for this relay only while it relays.
    renderedMessages.wanted = () => lease.held;
  }

  protected async drain(): Promise<void> {
    const versions = this.env.LEDGER_TOPIC_VERSIONS.split(',');
    const v1 = versions.includes('1')
      ? topicName(Topics.conversionsLedger, this.env.TOPIC_PREFIX)
      : undefined;
    const v2 = versions.includes('2')
      ? topicName(Topics.conversionsLedgerV2, this.env.TOPIC_PREFIX)
      : undefined;
    for (;;) {
      const readFrom = Date.now();
      const published = await this.ds.transaction(async (em): Promise<OutboxMessage[] | undefined> => {
        const [{ locked }] = await em.query<[{ locked: boolean }]>(
          `SELECT pg_try_advisory_xact_lock($1) AS locked`,
          [RELAY_LOCK],
        );
        if (!locked) return undefined;
        const rows = await readOutbox(em, 2000);
        if (rows.length === 0) return [];
        // Both versions of an entry are acknowledged before it leaves the outbox. The messages
        // are sent as the writer rendered them (ledger-writer.ts renderEntry).
        await Promise.all(
          rows.flatMap((r) => {
            const sends: Promise<unknown>[] = [];
            if (v1) sends.push(this.producer.send(v1, { key: r.message_key, value: r.v1 }));
            if (v2) sends.push(this.producer.send(v2, { key: r.message_key, value: r.v2 }));
            return sends;
          }),
        );
        // Exactly the rows published: a decision that committed meanwhile with a lower seq is
        // still waiting (a range delete would drop it unpublished).
        await em.query(`DELETE FROM ledger_outbox WHERE seq = ANY($1::bigint[])`, [rows.map((r) => r.seq)]);
        return rows;
      });
      if (published === undefined) break;
      renderedMessages.forget(published.map((r) => r.entry_id));
      for (const r of published) this.unpublished.delete(r.entry_id);
      this.lastError = undefined;
      this.published += published.length;
      this.metrics.published(published);
      // The end of the outbox: everything committed before this cycle read it is on the topic.
      if (published.length < 2000)
        for (const [id, at] of this.unpublished) {
          if (at >= readFrom) break;
          this.unpublished.delete(id);
        }
      this.wake();
      if (published.length < 2000) break;
    }
    await this.drainDead();
  }

  protected override afterDrain(): void {
    this.wake();
  }

  /** A decision batch of this process committed these entries. */
  noteCommitted(entryIds: Iterable<string>, at = Date.now()): void {
    if (!this.lease.held) return;
    // The oldest are what count: a full map (a relay stalled for long) takes no more.
    for (const id of entryIds) if (this.unpublished.size < 100_000) this.unpublished.set(id, at);
  }

  /**
   * How long ago the batch of the oldest entry this process committed and has not published yet
   * committed (0 when none, or when another instance relays: this one cannot tell then).
   */
  behindMs(now = Date.now()): number {
    if (!this.lease.held) {
      this.unpublished.clear();
      return 0;
    }
    for (const at of this.unpublished.values()) return Math.max(0, now - at);
    return 0;
  }

  /**
   * Backpressure: resolves once the topic is at most `maxBehindMs` behind what this process
   * wrote, or after `maxWaitMs`, or at once while the relay is failing (Kafka refusing: deciding
   * goes on, and the outbox holds what waits). Returns the milliseconds waited.
   */
  async caughtUp(maxBehindMs: number, maxWaitMs: number): Promise<number> {
    if (maxBehindMs <= 0 || maxWaitMs <= 0) return 0;
    // Caught up already (the usual case): 0, not the clock's tick between two reads.
    if (this.behindMs() <= maxBehindMs || this.lastError !== undefined) return 0;
    const start = Date.now();
    while (this.behindMs() > maxBehindMs && this.lastError === undefined) {
      const left = maxWaitMs - (Date.now() - start);
      if (left <= 0) break;
      this.kick();
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return Date.now() - start;
  }

  private wake(): void {
    const w = this.waiters;
    if (w.length === 0) return;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  /** Postbacks whose retry budget ran out, to `postbacks.dead` (same lock, same acknowledge-then-delete rule). */
  private async drainDead(): Promise<void> {
    // Rare, and not worth a transaction per ledger drain: look at most once a second.
    if (Date.now() - this.deadCheckedAt < 1000) return;
    this.deadCheckedAt = Date.now();
    const topic = topicName(Topics.postbacksDead, this.env.TOPIC_PREFIX);
    for (;;) {
      const n = await this.ds.transaction(async (em): Promise<number> => {
        const [{ locked }] = await em.query<[{ locked: boolean }]>(
          `SELECT pg_try_advisory_xact_lock($1) AS locked`,
          [RELAY_LOCK],
        );
        if (!locked) return 0;
        const rows = await em.query<{ seq: string; key: string; payload: object }[]>(
          `SELECT seq, key, payload FROM postback_dead_outbox ORDER BY seq LIMIT 500`,
        );
        if (rows.length === 0) return 0;
        await Promise.all(
          rows.map((r) => this.producer.send(topic, { key: r.key, value: JSON.stringify(r.payload) })),
        );
        await em.query(`DELETE FROM postback_dead_outbox WHERE seq = ANY($1::bigint[])`, [
          rows.map((r) => r.seq),
        ]);
        return rows.length;
      });
      this.metrics.deadLettered(n);
      if (n < 500) return;
    }
  }

  async check(): Promise<HealthCheckResult> {
    const { waiting: n, oldest } = await outboxBacklog(this.ds);
    const age = oldest ? Math.round((Date.now() - oldest.getTime()) / 1000) : 0;
    // Entries waiting long means Kafka is not taking them: billing is behind.
    if (this.lastError && age > 30)
      return { ok: false, detail: `${n} entries unpublished for ${age} s: ${this.lastError}` };
    return { ok: true, detail: `${this.published} published, ${n} waiting` };
  }
}
