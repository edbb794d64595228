import { Logger } from '@nestjs/common';
import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import { Topics } from '@app/contracts';
import type { BatchingProducer } from './batching-producer';
import type { ConsumeObserver } from './observers';

/** What a handler registered with `@EventPattern(<topic>)` receives: one partition's batch. */
export interface MessageBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  /** Call during long work so the group coordinator does not evict this member. */
  heartbeat: () => Promise<void>;
}

export interface KafkaBatchServerOptions {
  kafka: Kafka;
  groupId: string;
  topicPrefix: string;
  /** Dead-letter sink for messages a handler marks as poison. */
  deadLetters: BatchingProducer;
  partitionsConsumedConcurrently?: number;
  fromBeginning?: boolean;
  /**
   * Back-off before a failed batch is tried again, in ms, per consecutive failure of its
   * partition (the last one repeats); each is jittered ±20%. Default 500, 2000, 5000, 10000.
   */
  retryDelaysMs?: readonly number[];
  /**
   * A paused partition that is still not fetched again this long after its retry was due, or a
   * partition its last batch left messages behind on that gets no batch for this long, is
   * recovered by restarting the consumer (default 30 s); see `watchRetries`.
   */
  stallGraceMs?: number;
  /** kafkajs's bound on one partition's fetch (default 1 MiB). */
  maxBytesPerPartition?: number;
}

// kafkajs error types its runner answers by rejoining the group (errors.js isRebalancing, and
// an unknown member id).
const GROUP_MEMBERSHIP_ERRORS = new Set<unknown>([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
]);

export const DEFAULT_BATCH_RETRY_DELAYS_MS: readonly number[] = [500, 2000, 5000, 10000];

export type ConsumerHealth =
  | { state: 'starting' }
  | { state: 'running'; assigned: number }
  | { state: 'crashed'; error: string; since: number }
  | { state: 'stopped' };

/**
 * A Nest microservice transport over kafkajs that hands whole batches to handlers (the
 * built-in Kafka transport forces eachMessage). Offsets are committed only after the handler
 * returns, so delivery is at least once and handlers are idempotent by their database keys.
 * A handler that throws gets the same batch again after a back-off (`retryDelaysMs`, tier by
 * consecutive failure, jittered): only its partition is paused meanwhile, so the others keep
 * flowing and the member keeps its place in the group. It must throw only for transient
 * failures and send poison messages to dead letters itself (see `deadLetter`).
 * A crashed consumer is restarted here and reported unhealthy until it runs again.
 */
export class KafkaBatchServer extends Server implements CustomTransportStrategy {
  protected override readonly logger = new Logger(KafkaBatchServer.name);
  private consumer: Consumer | undefined;
  private health: ConsumerHealth = { state: 'starting' };
  private closing = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private observer: ConsumeObserver | undefined;
  /** Consecutive failures per `topic:partition`, reset by a batch that succeeds. */
  private readonly failures = new Map<string, number>();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  /** When each failed partition's retry is due (`topic:partition` -> ms), until a batch of it comes. */
  private readonly retryDue = new Map<string, number>();
  /**
   * Partitions whose last handled batch ended before the log's end (`topic:partition` -> when
   * that batch finished): more is owed, so another batch must come soon.
   */
  private readonly behind = new Map<string, number>();
  /** Batches being handled now (`topic:partition`): a long batch is not a stall. */
  private readonly inFlight = new Set<string>();
  /** Since when the consumer has been starting or crashed (not running). */
  private downSince: number | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly options: KafkaBatchServerOptions) {
    super();
  }

  get groupId(): string {
    return `${this.options.topicPrefix}${this.options.groupId}`;
  }

  healthState(): ConsumerHealth {
    return this.health;
  }

  private setHealth(h: ConsumerHealth): void {
    if (h.state === 'running' || h.state === 'stopped') this.downSince = undefined;
    else this.downSince ??= Date.now();
    this.health = h;
  }

  /** The topics this group consumes (full names, prefix included), for lag reporting. */
  topics(): string[] {
    return [...this.getHandlers().keys()].map((pattern) => `${this.options.topicPrefix}${pattern}`);
  }

  /** Metrics hook: told about every handled batch and every dead letter. */
  observe(observer: ConsumeObserver): void {
    this.observer = observer;
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (e) {
      callback(e);
    }
  }

  private async start(): Promise<void> {
    const { kafka, topicPrefix } = this.options;
    this.watchdog ??= setInterval(() => this.watchRetries(), 5000).unref();
    const consumer = kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      // A killed member is noticed within 10 s (the next rebalance waits for no longer than
      // that); batches heartbeat between messages, well inside it.
      sessionTimeout: 10000,
      rebalanceTimeout: 20000,
      heartbeatInterval: 1000,
      // A fetch returns as soon as data is there; this bounds only an idle long poll, and so how
      // long a partition resumed after a back-off waits for its next fetch (kafkajs: 5 s).
      maxWaitTimeInMs: 1000,
      ...(this.options.maxBytesPerPartition
        ? { maxBytesPerPartition: this.options.maxBytesPerPartition }
        : {}),
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = Object.values(payload.memberAssignment).reduce((n, parts) => n + parts.length, 0);
      // Partitions that went to another member are theirs to retry now.
      const mine = new Set(
        Object.entries(payload.memberAssignment).flatMap(([topic, parts]) =>
          parts.map((p) => `${topic}:${p}`),
        ),
      );
      for (const key of [...this.failures.keys()])
        if (!mine.has(key)) {
          this.failures.delete(key);
          this.retryDue.delete(key);
        }
      for (const key of [...this.behind.keys()]) if (!mine.has(key)) this.behind.delete(key);
      this.setHealth({ state: 'running', assigned });
      this.logger.log(`joined ${this.groupId}: ${assigned} partition(s)`);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      const error = payload.error instanceof Error ? payload.error.message : String(payload.error);
      this.setHealth({ state: 'crashed', error, since: Date.now() });
      this.logger.error(`consumer crashed (${error}); restart by kafkajs: ${payload.restart}`);
      // kafkajs restarts itself on retriable errors; on the others it stops for good, and a
      // live process consuming nothing is the worst state, so restart it here.
      if (!payload.restart && !this.closing) this.scheduleRestart();
    });
    await consumer.connect();
    for (const pattern of this.getHandlers().keys()) {
      await consumer.subscribe({
        topic: `${topicPrefix}${pattern}`,
        fromBeginning: this.options.fromBeginning ?? true,
      });
    }
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  private scheduleRestart(afterMs = 2000): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void (async () => {
        // Bounded: a consumer whose batch hangs may never finish disconnecting; the group
        // evicts it when its heartbeats stop, and the new member takes its partitions.
        const old = this.consumer;
        this.consumer = undefined;
        if (old) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            old.disconnect().catch(() => undefined),
            new Promise((r) => (timer = setTimeout(r, 15_000))),
          ]);
          clearTimeout(timer);
        }
        try {
          await this.start();
        } catch (e) {
          this.setHealth({ state: 'crashed', error: describe(e), since: Date.now() });
          if (!this.closing) this.scheduleRestart();
        }
      })();
    }, afterMs);
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    const key = `${batch.topic}:${batch.partition}`;
    this.retryDue.delete(key);
    this.behind.delete(key);
    this.inFlight.add(key);
    try {
      await this.handleOwnBatch(payload, key);
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async handleOwnBatch(payload: EachBatchPayload, key: string): Promise<void> {
    const { batch } = payload;
    const logical = batch.topic.slice(this.options.topicPrefix.length);
    const handler = this.getHandlerByPattern(logical);
    if (!handler) throw new Error(`no handler for topic ${batch.topic}`);
    const data: MessageBatch = {
      topic: logical,
      partition: batch.partition,
      messages: batch.messages,
      heartbeat: () => payload.heartbeat(),
    };
    const started = performance.now();
    try {
      const result: unknown = await handler(data);
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    } catch (e) {
      this.observer?.batchHandled(logical, batch.messages.length, (performance.now() - started) / 1000, true);
      // The group is rebalancing (a heartbeat inside the handler said so): kafkajs rejoins and
      // the batch goes to whoever owns the partition next, so it is not ours to retry.
      if (GROUP_MEMBERSHIP_ERRORS.has((e as { type?: unknown } | null)?.type)) throw e;
      this.retryLater(payload, logical, e);
      return;
    }
    this.failures.delete(key);
    if (BigInt(batch.highWatermark) > BigInt(batch.lastOffset()) + 1n) this.behind.set(key, Date.now());
    this.observer?.batchHandled(logical, batch.messages.length, (performance.now() - started) / 1000, false);
    payload.resolveOffset(batch.lastOffset());
    await payload.commitOffsetsIfNecessary({
      topics: [
        {
          topic: batch.topic,
          partitions: [{ partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }],
        },
      ],
    });
    await payload.heartbeat();
  }

  /**
   * The batch failed: its offsets stay unresolved and its partition is paused for the next
   * back-off tier, after which kafkajs fetches from the same offset again.
   */
  private retryLater(payload: EachBatchPayload, logical: string, e: unknown): void {
    const { batch } = payload;
    const key = `${batch.topic}:${batch.partition}`;
    const attempt = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, attempt);
    const delays = this.options.retryDelaysMs ?? DEFAULT_BATCH_RETRY_DELAYS_MS;
    const delay = Math.round(delays[Math.min(attempt, delays.length) - 1]! * (0.8 + Math.random() * 0.4));
    this.logger.warn(
      `${logical}[${batch.partition}] batch from offset ${batch.firstOffset() ?? '?'} failed (attempt ${attempt}): ` +
        `${describe(e)}; again in ${delay} ms`,
    );
    this.retryDue.set(key, Date.now() + delay);
    this.scheduleResume(payload.pause(), delay);
  }

  /** Resumes a paused partition after its back-off (a seam for the watchdog's test). */
  protected scheduleResume(resume: () => void, delayMs: number): void {
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      resume();
    }, delayMs);
    this.resumeTimers.add(timer);
  }

  /**
   * A safety net under the pause/resume back-off: a failed partition is fetched again when its
   * retry is due. If one is still not fetched `stallGraceMs` after that, the consumer is
   * restarted (as after a crash): it rejoins and fetches every partition from its committed
   * offset. Nothing is skipped, and the batch is tried again.
   */
  private watchRetries(): void {
    if (this.closing) return;
    const grace = this.options.stallGraceMs ?? 30_000;
    const now = Date.now();
    if (this.health.state !== 'running') {
      // A restart that never got the consumer running again (a join or a disconnect that hung).
      if (this.downSince !== undefined && now - this.downSince > 2 * grace && !this.restartTimer) {
        this.logger.error(
          `consumer not running for ${Math.round((now - this.downSince) / 1000)} s (${this.health.state}); restarting it`,
        );
        this.downSince = now;
        this.scheduleRestart(0);
      }
      return;
    }
    const late = (m: Map<string, number>) =>
      [...m].filter(([key, at]) => now - at > grace && !this.inFlight.has(key)).map(([key]) => key);
    const stalled = late(this.retryDue);
    const starved = late(this.behind);
    if (stalled.length === 0 && starved.length === 0) return;
    const s = Math.round(grace / 1000);
    this.logger.error(
      [
        stalled.length ? `${stalled.join(', ')}: not fetched again ${s} s after the retry was due` : '',
        starved.length ? `${starved.join(', ')}: messages waiting but no batch for ${s} s` : '',
      ]
        .filter(Boolean)
        .join('; ') + '; restarting the consumer',
    );
    this.retryDue.clear();
    this.behind.clear();
    this.failures.clear();
    for (const t of this.resumeTimers) clearTimeout(t);
    this.resumeTimers.clear();
    this.setHealth({ state: 'starting' });
    this.scheduleRestart(0);
  }

  /** Consecutive failures of the batch now due on each failing partition (`topic:partition`). */
  failingPartitions(): ReadonlyMap<string, number> {
    return this.failures;
  }

  /**
   * Sends a message that can never be processed to the dead-letter topic with its origin and
   * the reason. Awaited before the batch's offsets are committed, so nothing is lost.
   */
  async deadLetter(batch: MessageBatch, message: KafkaMessage, error: string): Promise<void> {
    await deadLetter(this.options.deadLetters, this.options.topicPrefix, batch, message, error, this.groupId);
    this.observer?.deadLettered(batch.topic);
  }

  on(): never {
    throw new Error('KafkaBatchServer does not support event listeners');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.watchdog);
    for (const t of this.resumeTimers) clearTimeout(t);
    this.resumeTimers.clear();
    await this.consumer?.disconnect();
    this.setHealth({ state: 'stopped' });
  }
}

export async function deadLetter(
  producer: BatchingProducer,
  topicPrefix: string,
  batch: Pick<MessageBatch, 'topic' | 'partition'>,
  message: KafkaMessage,
  error: string,
  consumerGroup: string,
): Promise<void> {
  await producer.send(`${topicPrefix}${Topics.deadLetters}`, {
    key: batch.topic,
    value: message.value,
    headers: {
      'x-source-topic': batch.topic,
      'x-source-partition': String(batch.partition),
      'x-source-offset': message.offset,
      'x-source-key': message.key ?? '',
      'x-consumer-group': consumerGroup,
      'x-error': error.slice(0, 1000),
      'x-failed-at': new Date().toISOString(),
    },
  });
}

/** An error's message; Nest's RPC layer rethrows a handler's error as a plain `{ status, message }`. */
function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object') {
    const m = (e as { message?: unknown }).message;
    if (typeof m === 'string') return m;
    try {
      return JSON.stringify(e);
    } catch {
      /* circular */
    }
  }
  return String(e);
}
