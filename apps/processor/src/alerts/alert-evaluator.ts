import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { Topics } from '@app/contracts';
import { KAFKA, KafkaBatchServer, withTimeout } from '@app/kafka';
import { ALERTS_LOCK, readAlertInputs, reconcileAlerts, recordSample } from '@app/alerts';
import { Leadership, type RoleLease } from '../leadership/leadership';
import { ProcessorEnv } from '../processor.env';
import { type DeadLetterState, evaluateAlerts, type LagState } from './alert-rules';
import { alertThresholds } from './alerts.env';

/** The consumer group of `dead-letters replay` (infra/cli/dead-letters.ts): what it took counts as handled. */
export const DEAD_LETTER_REPLAY_GROUP = 'dead-letter-replay';
const KAFKA_TIMEOUT_MS = 5000;

/**
 * Evaluates the alert rules every ALERT_EVAL_MS: one evaluator at a time across instances (the
 * holder of the `alert_evaluator` role, and an advisory lock held by the evaluation's
 * transaction as a fence), which reads the read models and Kafka
 * offsets, then fires, refreshes and resolves alerts and queues their webhook events in the same
 * transaction. Kafka inputs that do not answer skip their rules (their alerts stay as they are).
 */
@Injectable()
export class AlertEvaluator implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(AlertEvaluator.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastError: string | undefined;
  private admin: Admin | undefined;
  private readonly lease: RoleLease;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(ProcessorEnv) private readonly env: ProcessorEnv,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Optional() @Inject(KafkaBatchServer) private readonly server: KafkaBatchServer | null,
    @Inject(Leadership) leadership: Leadership,
  ) {
    this.lease = leadership.lease('alert_evaluator');
  }

  onApplicationBootstrap(): void {
    if (this.env.ALERT_EVAL_MS === 0) return;
    this.timer = setInterval(() => this.kick(), this.env.ALERT_EVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.admin?.disconnect().catch(() => undefined);
  }

  kick(): void {
    if (this.running || !this.lease.held) return;
    this.running = this.evaluate()
      .then(() => (this.lastError = undefined))
      .catch((e: unknown) => {
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== this.lastError) this.log.warn(`alert evaluation: ${msg}`);
        this.lastError = msg;
      })
      .finally(() => (this.running = undefined));
  }

  private async evaluate(): Promise<void> {
    const result = await this.ds.transaction(async (em) => {
      const [{ locked }] = await em.query<[{ locked: boolean }]>(
        `SELECT pg_try_advisory_xact_lock($1) AS locked`,
        [ALERTS_LOCK],
      );
      if (!locked) return undefined;
      const now = new Date();
      const [deadLetters, lagNow] = await Promise.all([
        this.optional('dead letters', () => this.deadLetters()),
        this.optional('consumer lag', () => this.groupLag()),
      ]);
      let lag: LagState | undefined;
      if (lagNow) {
        const samples = await recordSample(
          em,
          `consumer_lag:${lagNow.group}`,
          now,
          lagNow.lag,
          this.env.ALERT_LAG_EVALUATIONS + 1,
        );
        lag = {
          group: lagNow.group,
          topics: lagNow.topics,
          samples: samples.map((s) => ({ at: s.at, lag: s.value })),
        };
      }
      const readModels = await readAlertInputs(em, now.toISOString().slice(0, 10));
      const { conditions, evaluated } = evaluateAlerts(
        { now, readModels, deadLetters, lag },
        alertThresholds(this.env),
      );
      return reconcileAlerts(em, conditions, evaluated, now, this.env.ALERT_WEBHOOK_URL !== '');
    });
    if (!result) return;
    for (const key of result.fired) this.log.warn({ msg: 'alert firing', key });
    for (const key of result.resolved) this.log.log({ msg: 'alert resolved', key });
  }

  /** A Kafka input, or undefined when Kafka does not answer (its rules are skipped this time). */
  private async optional<T>(what: string, fn: () => Promise<T | undefined>): Promise<T | undefined> {
    try {
      return await withTimeout(fn(), KAFKA_TIMEOUT_MS, what);
    } catch (e) {
      const admin = this.admin;
      this.admin = undefined;
      void admin?.disconnect().catch(() => undefined);
      this.log.warn(`alert evaluation: ${what} unavailable: ${(e as Error).message}`);
      return undefined;
    }
  }

  private async adminClient(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin({ retry: { retries: 1 } });
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }

  private async deadLetters(): Promise<DeadLetterState> {
    const admin = await this.adminClient();
    const topic = `${this.env.TOPIC_PREFIX}${Topics.deadLetters}`;
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: DEAD_LETTER_REPLAY_GROUP, topics: [topic] });
    const replayed = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
    const partitions = ends.map((e) => {
      const high = Number(e.high);
      const replayedTo = Math.max(Number(e.low), replayed.get(e.partition) ?? -1);
      return { partition: e.partition, high, replayedTo };
    });
    const unreplayed = partitions.reduce((n, p) => n + Math.max(0, p.high - p.replayedTo), 0);
    return { topic: Topics.deadLetters, replayGroup: DEAD_LETTER_REPLAY_GROUP, unreplayed, partitions };
  }

  /** Total lag of this processor's consumer group over its topics (as kafka_consumer_lag sums it). */
  private async groupLag(): Promise<{ group: string; topics: string[]; lag: number } | undefined> {
    const server = this.server;
    if (!server || server.topics().length === 0) return undefined;
    const admin = await this.adminClient();
    const topics = server.topics();
    const committed = await admin.fetchOffsets({ groupId: server.groupId, topics });
    let lag = 0;
    for (const { topic, partitions } of committed) {
      const ends = await admin.fetchTopicOffsets(topic);
      const done = new Map(partitions.map((p) => [p.partition, Number(p.offset)]));
      for (const end of ends) {
        const at = done.get(end.partition) ?? -1;
        const from = at >= 0 ? at : Number(end.low);
        lag += Math.max(0, Number(end.high) - from);
      }
    }
    const prefix = this.env.TOPIC_PREFIX;
    const strip = (s: string) => (prefix && s.startsWith(prefix) ? s.slice(prefix.length) : s);
    return { group: strip(server.groupId), topics: topics.map(strip), lag };
  }
}
