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
   * Batches in flight at once. 1 keeps the idempotent producer's strict per-partition order
   * (the ledger relay); the gateway sends several, since each of its events is independent
   * and a rare duplicate from a retried batch is absorbed downstream by the event id.
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
  private observer: ProduceObserver | undefined;

  constructor(
    kafka: Kafka,
    private readonly opts: BatchingProducerOptions,
  ) {
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
    const ordered = (opts.maxInFlight ?? 1) <= 1;
    this.producer = kafka.producer({
      idempotent: ordered,
      maxInFlightRequests: ordered ? 1 : undefined,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // The idempotent producer keeps retrying a batch until Kafka takes it (its sequence
      // numbers stay valid); callers are answered by sendTimeoutMs meanwhile.
      retry: ordered
        ? { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 }
        : { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
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
          this.lastAckAt = Date.now();
          report(false);
          for (const p of batch) this.settle(p);
        },
        (e: unknown) => {
          const msg = e instanceof Error ? e.message : String(e);
          if (this.lastError !== msg) this.log.warn(`produce failed: ${msg}`);
          this.lastError = msg;
          report(true);
          for (const p of batch) this.settle(p, new KafkaUnavailableError(msg));
        },
      )
      .finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.flush();
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
