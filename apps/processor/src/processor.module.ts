import { Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { ConsumerGroups } from '@app/contracts';
import { HealthModule } from '@app/health';
import { KafkaBrokerIndicator, KafkaConsumerIndicator, KafkaModule } from '@app/kafka';
import { DatabaseModule, PostgresIndicator } from '@app/persistence';
import { CatalogCache, CatalogModule } from '@app/catalog';
import { AlertEvaluator } from './alerts/alert-evaluator';
import { AlertGauges } from './alerts/alert-gauges';
import { AlertNotifier } from './alerts/alert-notifier';
import { ClickProjectionHandler } from './clicks/click-projection.handler';
import { ClickWatermark } from './conversions/click-watermark';
import { Leadership } from './leadership/leadership';
import { LedgerRelay } from './conversions/ledger-relay';
import { PostbackDecider } from './conversions/postback-decider';
import { SoftFailureLog } from './conversions/soft-failures';
import { TrafficRuleCache } from './conversions/routing-controls';
import { PostbackHandler } from './conversions/postback.handler';
import { RetryScheduler } from './conversions/retry-scheduler';
import { ProcessorObservabilityModule } from './observability/processor-observability.module';
import type { ProcessorEnv } from './processor.env';
import { RefusedPostbacksHandler } from './postback-log/refused-postbacks.handler';
import { RefusedRetention } from './postback-log/refused-retention';
import { ClickRetention } from './clicks/click-retention';
import { ReadModelProjector } from './read-models/projector';

export const PROCESSOR_GROUP = ConsumerGroups.processor;

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
          batchRetryDelaysMs: env.DEPENDENCY_RETRY_DELAYS_MS.split(',').map(Number),
        }),
        HealthModule.register([
          KafkaBrokerIndicator,
          KafkaConsumerIndicator,
          PostgresIndicator,
          CatalogCache,
          LedgerRelay,
          ReadModelProjector,
        ]),
        ProcessorObservabilityModule,
      ],
      controllers: [ClickProjectionHandler, PostbackHandler, RefusedPostbacksHandler],
      providers: [
        Leadership,
        ClickWatermark,
        PostbackDecider,
        TrafficRuleCache,
        LedgerRelay,
        RetryScheduler,
        SoftFailureLog,
        ReadModelProjector,
        AlertEvaluator,
        AlertNotifier,
        AlertGauges,
        RefusedRetention,
        ClickRetention,
      ],
    })
    class AppModule {}
    return AppModule;
  }
}
