import {
  type DynamicModule,
  Global,
  Inject,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { CommonEnv } from '@app/config';
import { BatchingProducer, type BatchingProducerOptions } from './batching-producer';
import { KafkaBatchServer } from './kafka-batch.server';
import { createKafka, parseBrokers } from './kafka-client';
import { KafkaBrokerIndicator, KafkaConsumerIndicator, KafkaProducerIndicator } from './kafka-health';

export const KAFKA = Symbol('KAFKA');

export interface KafkaModuleOptions {
  producer: BatchingProducerOptions;
  /** Present for worker apps: the consumer group their handlers run in. */
  consumerGroup?: string;
  partitionsConsumedConcurrently?: number;
  /** Back-off tiers for a failed batch (see `KafkaBatchServerOptions.retryDelaysMs`). */
  batchRetryDelaysMs?: readonly number[];
}

class KafkaLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(BatchingProducer) private readonly producer: BatchingProducer,
    @Inject(KafkaBrokerIndicator) private readonly broker: KafkaBrokerIndicator,
  ) {}

  async onModuleInit(): Promise<void> {
    // Boot does not wait for Kafka: the producer connects in the background and readiness
    // reports the broker until it answers, so an app started before the broker recovers by itself.
    this.producer.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    await this.broker.close();
  }
}

@Global()
@Module({})
export class KafkaModule {
  static forRoot(options: KafkaModuleOptions): DynamicModule {
    const providers: Provider[] = [
      {
        provide: KAFKA,
        inject: [CommonEnv],
        useFactory: (env: CommonEnv): Kafka =>
          createKafka({
            brokers: parseBrokers(env.KAFKA_BROKERS),
            clientId: env.KAFKA_CLIENT_ID,
            topicPrefix: env.TOPIC_PREFIX,
          }),
      },
      {
        provide: BatchingProducer,
        inject: [KAFKA],
        useFactory: (kafka: Kafka) => new BatchingProducer(kafka, options.producer),
      },
      {
        provide: KafkaBrokerIndicator,
        inject: [KAFKA],
        useFactory: (kafka: Kafka) => new KafkaBrokerIndicator(kafka),
      },
      {
        provide: KafkaProducerIndicator,
        inject: [BatchingProducer],
        useFactory: (p: BatchingProducer) => new KafkaProducerIndicator(p),
      },
      KafkaLifecycle,
    ];
    const exported: (symbol | Provider)[] = [
      KAFKA,
      BatchingProducer,
      KafkaBrokerIndicator,
      KafkaProducerIndicator,
    ];
    if (options.consumerGroup) {
      const groupId = options.consumerGroup;
      providers.push(
        {
          provide: KafkaBatchServer,
          inject: [KAFKA, BatchingProducer, CommonEnv],
          useFactory: (kafka: Kafka, producer: BatchingProducer, env: CommonEnv) =>
            new KafkaBatchServer({
              kafka,
              groupId,
              topicPrefix: env.TOPIC_PREFIX,
              deadLetters: producer,
              partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
              retryDelaysMs: options.batchRetryDelaysMs,
            }),
        },
        {
          provide: KafkaConsumerIndicator,
          inject: [KafkaBatchServer],
          useFactory: (s: KafkaBatchServer) => new KafkaConsumerIndicator(s),
        },
      );
      exported.push(KafkaBatchServer, KafkaConsumerIndicator);
    }
    return { module: KafkaModule, providers, exports: exported };
  }
}
