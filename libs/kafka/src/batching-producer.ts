import { Logger } from '@nestjs/common';
import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import { TimeoutError } from './kafka-client';
import type { ProduceObserver } from './observers';

export interface BatchingProducerOptions {
  /** How long a lone message may wait for company before it is sent. */
  lingerMs: number;
  /** A batch is sent at once when it reaches this many messages. */
  maxBatch: number;
  /** A caller is answered with an error when its message is not acknowledged in time. */
  sendTimeoutMs: number;
  /**
   * Batches in flight at once. 1 keeps strict per-partition order (the ledger relay): after a
   * failed batch nothing queued is sent, its callers are all told, and they send again in order.
   * The gateway sends several, since each of its events is independent: a failed batch is sent
   * again whole, and a duplicate from that is absorbed downstream by the event id.
   */
  maxInFlight?: number;
}

interface Pending {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (e: Error) => void;
  deadline: number;
  settled: boolean;
}

export class KafkaUnavailableError extends Error {
  override name = 'KafkaUnavailableError';
}

/**
 * kafkajs has no linger setting: each send() is one request. This producer gathers messages
 * for a few milliseconds (or until maxBatch) and sends them in one acks=all request, while
 * each caller's promise still settles only when its own message is acknowledged. While the
 * allowed number of batches is in flight, messages queue and go out together as soon as one
 * returns, so batches grow with load instead of requests multiplying.
 */
export class BatchingProducer {
  private readonly log = new Logger(BatchingProducer.name);
  private readonly producer: Producer;
  private queue: Pending[] = [];
  /** Every caller not answered yet, queued or in flight. */
  private readonly waiting = new Set<Pending>();
  private sweeper: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private linger: NodeJS.Timeout | undefined;
  private connected = false;
  private connecting: Promise<void> | undefined;
  private lastError: string | undefined;
  private lastAckAt = 0;

  private readonly maxInFlight: number;
  /** One batch at a time, and nothing sent after a batch that failed until its caller sends again. */
  private readonly ordered: boolean;
  /** Failed sends in a row: the backoff before the next attempt. */
  private failures = 0;
  private observer: ProduceObserver | undefined;

  constructor(
    kafka: Kafka,
    private readonly opts: BatchingProducerOptions,
  ) {
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
    this.ordered = this.maxInFlight === 1;
    this.producer = kafka.producer({
      // No retries inside kafkajs, and so no idempotence (which requires them): kafkajs 2.2.4
      // skips, on a retry, every broker that already answered, so when a partition's leadership
      // moves to such a broker (a broker restart on a cluster) its messages are never resent, yet
      // the send resolves: acknowledged and lost (test/kafka-cluster-fault.cluster-spec.ts,
      // tulios/kafkajs PR #1798); and an idempotent producer whose sequence broke on a leader
      // change fails every later send with OUT_OF_ORDER_SEQUENCE_NUMBER. A failed batch is sent
      // again whole, by a fresh send that maps every partition to its leader anew (see flush):
      // a partition that had taken it gets a second copy, which consumers drop by id.
      idempotent: false,
      maxInFlightRequests: this.ordered ? 1 : undefined,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 0 },
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
    });
    this.producer.on(this.producer.events.CONNECT, () => {
      this.connected = true;
    });
  }

  /** Connects once at a time; every flush calls it, so a producer started before Kafka recovers. */
  connect(): Promise<void> {
    this.connecting ??= this.producer.connect().then(
      () => {
        this.connected = true;
        this.connecting = undefined;
      },
      (e: unknown) => {
        this.connecting = undefined;
        throw e;
      },
    );
    return this.connecting;
  }

  async disconnect(): Promise<void> {
    clearTimeout(this.linger);
    // Let what is queued go out (or fail) before the connection closes.
    for (let i = 0; i < 100 && (this.inFlight > 0 || this.queue.length > 0); i++) {
      this.flush();
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.producer.disconnect();
    this.connected = false;
  }

  /** Metrics hook: told about every produce request once it is answered. */
  observe(observer: ProduceObserver): void {
    this.observer = observer;
  }

  /** What readiness reports: connected and the last send did not fail. */
  state(): { connected: boolean; lastError?: string; lastAckAt: number; queued: number } {
    return {
      connected: this.connected,
      lastError: this.lastError,
      lastAckAt: this.lastAckAt,
      queued: this.queue.length,
    };
  }

  send(topic: string, message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const p: Pending = {
        topic,
        message,
        resolve,
        reject,
        settled: false,
        deadline: Date.now() + this.opts.sendTimeoutMs,
      };
      this.waiting.add(p);
      // One sweep timer for all waiting callers, not one timer per message.
      this.sweeper ??= setInterval(() => this.sweep(), Math.min(100, this.opts.sendTimeoutMs)).unref();
      this.queue.push(p);
      if (this.queue.length >= this.opts.maxBatch) this.flush();
      else if (!this.linger && this.inFlight < this.maxInFlight)
        this.linger = setTimeout(() => this.flush(), this.opts.lingerMs);
    });
  }

  private sweep(): void {
    const now = Date.now();
    for (const p of this.waiting) if (p.deadline <= now) this.expire(p);
    if (this.waiting.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private expire(p: Pending): void {
    if (p.settled) return;
    p.settled = true;
    this.waiting.delete(p);
    // Still queued: it will not be sent at all. In flight: it may still land; the caller was
    // told "unavailable", retries, and downstream dedupe absorbs the repeat.
    const idx = this.queue.indexOf(p);
    if (idx >= 0) this.queue.splice(idx, 1);
    p.reject(new KafkaUnavailableError(this.lastError ?? 'Kafka did not acknowledge in time'));
  }

  private flush(): void {
    clearTimeout(this.linger);
    this.linger = undefined;
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    this.inFlight++;
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic);
      if (list) list.push(p.message);
      else byTopic.set(p.topic, [p.message]);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    const started = performance.now();
    const report = (failed: boolean) => {
      if (!this.observer) return;
      const counts = new Map<string, number>();
      for (const [topic, messages] of byTopic) counts.set(topic, messages.length);
      this.observer.produced(counts, (performance.now() - started) / 1000, failed);
    };
    (this.connected ? Promise.resolve() : this.connect())
      .then(() => this.producer.sendBatch({ acks: -1, topicMessages }))
      .then(
        () => {
          this.lastError = undefined;
          this.failures = 0;
          this.lastAckAt = Date.now();
          report(false);
          for (const p of batch) this.settle(p);
        },
        (e: unknown) => {
          const msg = e instanceof Error ? e.message : String(e);
          if (this.lastError !== msg) this.log.warn(`produce failed: ${msg}`);
          this.lastError = msg;
          this.failures++;
          report(true);
          if (this.ordered) {
            // Nothing behind a failed message may land before it: its callers are told, and so
            // is everyone queued behind it (the ledger relay then sends its outbox again, in order).
            for (const p of [...batch, ...this.queue.splice(0)])
              this.settle(p, new KafkaUnavailableError(msg));
          } else {
            // Independent events: the batch goes again, whole, until its callers' deadlines.
            this.queue.unshift(...batch.filter((p) => !p.settled));
          }
        },
      )
      .finally(() => {
        this.inFlight--;
        if (this.queue.length === 0) return;
        if (this.failures === 0) this.flush();
        else {
          clearTimeout(this.linger);
          this.linger = setTimeout(() => this.flush(), Math.min(2000, 50 * 2 ** Math.min(this.failures, 6)));
        }
      });
  }

  private settle(p: Pending, error?: Error): void {
    if (p.settled) return;
    p.settled = true;
    this.waiting.delete(p);
    if (error) p.reject(error);
    else p.resolve();
  }
}

export { TimeoutError };
