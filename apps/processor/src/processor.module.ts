import { Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { HealthModule } from '@app/health';
import { KafkaBrokerIndicator, KafkaConsumerIndicator, KafkaModule } from '@app/kafka';
import { DatabaseModule, PostgresIndicator } from '@app/persistence';
import { ClickProjectionHandler } from './clicks/click-projection.handler';
import { PostbackInboxHandler } from './postbacks/postback-inbox.handler';
import type { ProcessorEnv } from './processor.env';

export const PROCESSOR_GROUP = 'ledger-processor';

export class ProcessorModule {
  static register(env: ProcessorEnv) {
    @Module({
      imports: [
        ConfigModule.forRoot(env),
        DatabaseModule,
        KafkaModule.forRoot({
          producer: { lingerMs: 2, maxBatch: 500, sendTimeoutMs: 10000 },
          consumerGroup: PROCESSOR_GROUP,
          partitionsConsumedConcurrently: env.PARTITIONS_CONCURRENCY,
        }),
        HealthModule.register({
          inject: [KafkaBrokerIndicator, KafkaConsumerIndicator, PostgresIndicator],
          useFactory: (b: KafkaBrokerIndicator, c: KafkaConsumerIndicator, pg: PostgresIndicator) => [
            b,
            c,
            pg,
          ],
        }),
      ],
      controllers: [ClickProjectionHandler, PostbackInboxHandler],
    })
    class AppModule {}
    return AppModule;
  }
}
