import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { KafkaMessage } from 'kafkajs';
import { DataSource } from 'typeorm';
import { type PostbackReceived, Topics } from '@app/contracts';
import { clip } from '@app/domain';
import { KafkaBatchServer, type MessageBatch } from '@app/kafka';
import { type Decoded, decodeBatch, runIsolatingPoison } from '../batch-decoder';
import { ProcessorMetrics } from '../observability/processor-metrics';
import { ProcessorEnv } from '../processor.env';
import { LedgerRelay } from './ledger-relay';
import { invalidPayloadOutcome } from './invalid-payload';
import { PostbackDecider } from './postback-decider';
import { writeOutcomes } from './postback-writer';
import { classifyDependencyFailure, SoftFailureLog } from './soft-failures';
import { TransactionSizer } from './transaction-sizer';

/**
 * `postbacks.received`, one transaction per partition batch (or per DECISIONS_PER_TRANSACTION of
 * it): the raw postback into the inbox, then its decision. A postback already decided (replay after a crash or rebalance) is
 * recognised by its event id and skipped, so the effect is exactly once.
 */
@Controller()
export class PostbackHandler {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(KafkaBatchServer) private readonly server: KafkaBatchServer,
    @Inject(PostbackDecider) private readonly decider: PostbackDecider,
    @Inject(LedgerRelay) private readonly relay: LedgerRelay,
    @Inject(ProcessorMetrics) private readonly metrics: ProcessorMetrics,
    @Inject(SoftFailureLog) private readonly softFailures: SoftFailureLog,
    @Inject(ProcessorEnv) private readonly env: ProcessorEnv,
  ) {
    this.sizer = new TransactionSizer(env.DECISIONS_PER_TRANSACTION, env.DECISION_TRANSACTION_TARGET_MS);
    metrics.decisionTransactionSize(this.sizer.next());
  }

  /** One for all partitions: they decide on the same store and box, at the same pace. */
  private readonly sizer: TransactionSizer;

  @EventPattern(Topics.postbacksReceived)
  async handle(@Payload() batch: MessageBatch): Promise<void> {
    let ids: string[] = [];
    try {
      const onPoison = (m: KafkaMessage, error: string) => this.decideInvalid(batch, m, error);
      const decoded = await decodeBatch<PostbackReceived>(this.server, batch, 'postback.received', onPoison);
      if (decoded.length === 0) return;
      ids = decoded.map((d) => d.event.id);
      // In transactions of at most DECISIONS_PER_TRANSACTION (fewer when they get slow: the
      // sizer), in order: a failure after some of them committed fetches the batch again, and
      // what was decided is skipped by its event id.
      for (let i = 0; i < decoded.length;) {
        // Backpressure: no decision starts while the ledger topic is too far behind the table.
        const waited = await this.relay.caughtUp(this.env.RELAY_MAX_BEHIND_MS, this.env.RELAY_MAX_WAIT_MS);
        if (waited > 0) {
          this.metrics.waitedForRelay(waited / 1000);
          // Waits add up over a batch's transactions, next to a 10 s session: tell the group.
          await batch.heartbeat();
        }
        const part = decoded.slice(i, i + this.sizer.next());
        const started = performance.now();
        await runIsolatingPoison(this.server, batch, part, (items) => this.process(batch, items), onPoison);
        this.sizer.took(part.length, performance.now() - started);
        this.metrics.decisionTransactionSize(this.sizer.next());
        i += part.length;
      }
    } catch (e) {
      // Nothing of the batch was written: a soft reject of each of its postbacks. The consumer
      // fetches the batch again after a back-off (KafkaBatchServer), in order, until it commits.
      const reason = classifyDependencyFailure(e);
      const detail = clip(e instanceof Error ? e.message : String(e), 200);
      this.softFailures.record(ids, { at: new Date().toISOString(), reason, detail });
      this.metrics.softRejected(reason, batch.messages.length);
      throw e;
    }
    this.relay.kick();
  }

  /**
   * An accepted postback that cannot be stored or read is still decided: rejected
   * `invalid_payload`, in its own transaction, after its copy went to dead letters.
   */
  private async decideInvalid(batch: MessageBatch, m: KafkaMessage, error: string): Promise<void> {
    const row = invalidPayloadOutcome(batch.topic, batch.partition, m, error, new Date());
    await this.ds.transaction((em) => writeOutcomes(em, [row]));
    this.metrics.decided([
      {
        eventId: row.event_id,
        correlationId: row.event_id,
        // The payload could not be read, so neither could its request id.
        requestId: null,
        partnerId: row.partner_id,
        outcome: row.outcome,
        reason: row.reason_code,
        entryId: null,
      },
    ]);
  }

  private async process(batch: MessageBatch, decoded: Decoded<PostbackReceived>[]): Promise<void> {
    const stats = await this.ds.transaction(async (em) => {
      await em.query(
        `INSERT INTO postbacks (event_id, partner_id, click_id, transaction_id, status, offer_id, payout_micros, currency,
           event, reason, source_ip, received_at, extra, kafka_partition, kafka_offset, request_id)
         SELECT x.event_id, x.partner_id, x.click_id, x.transaction_id, x.status, x.offer_id, x.payout_micros::bigint,
           x.currency, x.event, x.reason, x.source_ip, x.received_at, x.extra, $2, x.kafka_offset::bigint, x.request_id
         FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, partner_id text, click_id text, transaction_id text,
           status text, offer_id text, payout_micros text, currency text, event text, reason text, source_ip text,
           received_at timestamptz, extra jsonb, kafka_offset text, request_id text)
         ON CONFLICT (event_id) DO NOTHING`,
        [
          JSON.stringify(
            decoded.map(({ event: e, offset }) => ({ event_id: e.id, ...e.payload, kafka_offset: offset })),
          ),
          batch.partition,
        ],
      );
      const events = decoded.map((d) => d.event);
      await this.decider.lockPairs(em, events);
      const done = new Set(
        (
          await em.query<{ event_id: string }[]>(
            `SELECT event_id FROM postback_outcomes WHERE event_id = ANY($1)`,
            [events.map((e) => e.id)],
          )
        ).map((r) => r.event_id),
      );
      // A producer retry after a lost acknowledgement (a broker failover) can put the same event
      // twice on the partition, even in one batch: decide it once (its outcome row is keyed by id).
      const todo = events
        .filter((e) => {
          if (done.has(e.id)) return false;
          done.add(e.id);
          return true;
        })
        .map((event) => {
          const failed = this.softFailures.of(event.id);
          return { event, attempts: 0, errors: [...failed], failedTries: failed.length, parked: false };
        });
      return this.decider.decide(em, todo);
    });
    this.softFailures.forget(decoded.map((d) => d.event.id));
    this.relay.noteCommitted(stats.decisions.flatMap((d) => (d.entryId === null ? [] : [d.entryId])));
    this.metrics.decided(stats.decisions);
  }
}
