import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Topics, topicName } from '@app/contracts';
import { BatchingProducer } from '@app/kafka';
import type { HealthCheckResult, HealthIndicator } from '@app/health';
import { ProcessorEnv } from '../processor.env';

const RELAY_LOCK = 7_331_001;

/**
 * Publishes committed ledger entries to `conversions.ledger` in commit order (transactional
 * outbox). One relay runs at a time across instances (advisory lock), so per-conversion order
 * holds. An entry leaves the outbox only after Kafka acknowledged it (acks=all); a crash in
 * between republishes it with the same entry_id, which consumers dedupe on.
 */
@Injectable()
export class LedgerRelay implements OnApplicationBootstrap, OnApplicationShutdown, HealthIndicator {
  readonly name = 'ledger_relay';
  private readonly log = new Logger(LedgerRelay.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastError: string | undefined;
  private published = 0;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(BatchingProducer) private readonly producer: BatchingProducer,
    @Inject(ProcessorEnv) private readonly env: ProcessorEnv,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), 200);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Drain now (called after every committed decision batch). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((e: unknown) => {
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== this.lastError) this.log.warn(`ledger relay: ${msg}`);
        this.lastError = msg;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async drain(): Promise<void> {
    const topic = topicName(Topics.conversionsLedger, this.env.TOPIC_PREFIX);
    for (;;) {
      const n = await this.ds.transaction(async (em) => {
        const [{ locked }] = await em.query<[{ locked: boolean }]>(
          `SELECT pg_try_advisory_xact_lock($1) AS locked`,
          [RELAY_LOCK],
        );
        if (!locked) return 0;
        const rows = await em.query<{ seq: string; conversion_id: string; payload: object }[]>(
          `SELECT o.seq, e.conversion_id, e.payload FROM ledger_outbox o JOIN ledger_entries e USING (entry_id)
            ORDER BY o.seq LIMIT 2000`,
        );
        if (rows.length === 0) return 0;
        await Promise.all(
          rows.map((r) =>
            this.producer.send(topic, { key: r.conversion_id, value: JSON.stringify(r.payload) }),
          ),
        );
        // Exactly the rows published: a decision that committed meanwhile with a lower seq is
        // still waiting (a range delete would drop it unpublished).
        await em.query(`DELETE FROM ledger_outbox WHERE seq = ANY($1::bigint[])`, [rows.map((r) => r.seq)]);
        return rows.length;
      });
      this.lastError = undefined;
      this.published += n;
      if (n < 2000) return;
    }
  }

  async check(): Promise<HealthCheckResult> {
    const [{ n, oldest }] = await this.ds.query<[{ n: number; oldest: Date | null }]>(
      `SELECT count(*)::int AS n, min(e.recorded_at) AS oldest FROM ledger_outbox o JOIN ledger_entries e USING (entry_id)`,
    );
    const age = oldest ? Math.round((Date.now() - oldest.getTime()) / 1000) : 0;
    // Entries waiting long means Kafka is not taking them: billing is behind.
    if (this.lastError && age > 30)
      return { ok: false, detail: `${n} entries unpublished for ${age} s: ${this.lastError}` };
    return { ok: true, detail: `${this.published} published, ${n} waiting` };
  }
}
