import { Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { HealthModule } from '@app/health';
import { KafkaBrokerIndicator, KafkaConsumerIndicator, KafkaModule } from '@app/kafka';
import { CatalogCache, CatalogModule, DatabaseModule, PostgresIndicator } from '@app/persistence';
import { ClickProjectionHandler } from './clicks/click-projection.handler';
import { ClickWatermark } from './conversions/click-watermark';
import { LedgerRelay } from './conversions/ledger-relay';
import { PostbackDecider } from './conversions/postback-decider';
import { PostbackHandler } from './conversions/postback.handler';
import { RetryScheduler } from './conversions/retry-scheduler';
import type { ProcessorEnv } from './processor.env';

export const PROCESSOR_GROUP = 'ledger-processor';

export class ProcessorModule {
  static register(env: ProcessorEnv) {
    @Module({
      imports: [
        ConfigModule.forRoot(env),
        DatabaseModule,
        CatalogModule.forRoot(env.CATALOG_REFRESH_MS),
        KafkaModule.forRoot({
          producer: { lingerMs: 2, maxBatch: 500, sendTimeoutMs: 10000 },
          consumerGroup: PROCESSOR_GROUP,
          partitionsConsumedConcurrently: env.PARTITIONS_CONCURRENCY,
        }),
        HealthModule.register([
          KafkaBrokerIndicator,
          KafkaConsumerIndicator,
          PostgresIndicator,
          CatalogCache,
          LedgerRelay,
        ]),
      ],
      controllers: [ClickProjectionHandler, PostbackHandler],
      providers: [ClickWatermark, PostbackDecider, LedgerRelay, RetryScheduler],
    })
    class AppModule {}
    return AppModule;
  }
}
