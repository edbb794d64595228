import { Inject, Injectable, Optional } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { BatchingProducer, type ConsumeObserver, KafkaBatchServer, type ProduceObserver } from '@app/kafka';
import { LabelBounder } from './label-bounder';

/** Produce and consume metrics, fed by the Kafka wrappers' in-process hooks (no I/O). */
@Injectable()
export class KafkaMetrics implements ProduceObserver, ConsumeObserver {
  // Topic names are fixed by the code (plus the deployment's prefix): a small bound is plenty.
  private readonly topics = new LabelBounder(50);
  private readonly produceDuration: Histogram<'result'>;
  private readonly produceMessages: Counter<'topic'>;
  private readonly produceErrors: Counter<'topic'>;
  private readonly batchSize: Histogram<'handler'>;
  private readonly batchDuration: Histogram<'handler' | 'result'>;
  private readonly deadLetters: Counter<'source_topic'>;

  constructor(
    @Inject(Registry) registry: Registry,
    @Inject(BatchingProducer) producer: BatchingProducer,
    @Optional() @Inject(KafkaBatchServer) server: KafkaBatchServer | null,
  ) {
    const registers = [registry];
    this.produceDuration = new Histogram({
      name: 'kafka_produce_duration_seconds',
      help: 'Produce requests (one acks=all request carries a batch of messages), by result',
      labelNames: ['result'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.produceMessages = new Counter({
      name: 'kafka_produced_messages_total',
      help: 'Messages Kafka acknowledged, by topic',
      labelNames: ['topic'],
      registers,
    });
    this.produceErrors = new Counter({
      name: 'kafka_produce_errors_total',
      help: 'Messages whose produce request failed, by topic (callers were answered with an error)',
      labelNames: ['topic'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'kafka_consumer_batch_size',
      help: 'Messages per partition batch handed to a handler',
      labelNames: ['handler'],
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    });
    this.batchDuration = new Histogram({
      name: 'kafka_consumer_batch_duration_seconds',
      help: 'Time a handler took for one partition batch, by result (error: the batch is retried whole)',
      labelNames: ['handler', 'result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'kafka_dead_letters_published_total',
      help: 'Messages sent to dead.letters because they can never be processed, by source topic',
      labelNames: ['source_topic'],
      registers,
    });
    producer.observe(this);
    server?.observe(this);
  }

  produced(messagesByTopic: ReadonlyMap<string, number>, seconds: number, failed: boolean): void {
    this.produceDuration.labels(failed ? 'error' : 'ok').observe(seconds);
    const counter = failed ? this.produceErrors : this.produceMessages;
    for (const [topic, n] of messagesByTopic) counter.labels(this.topics.bound(topic)).inc(n);
  }

  batchHandled(handler: string, size: number, seconds: number, failed: boolean): void {
    const h = this.topics.bound(handler);
    this.batchSize.labels(h).observe(size);
    this.batchDuration.labels(h, failed ? 'error' : 'ok').observe(seconds);
  }

  deadLettered(sourceTopic: string): void {
    this.deadLetters.labels(this.topics.bound(sourceTopic)).inc();
  }
}
