import { Module } from '@nestjs/common';
import { ConfigModule, SecretBox, secretBoxFromEnv } from '@app/config';
import { OutboundGuard } from '@app/domain';
import { HealthModule } from '@app/health';
import { KafkaBrokerIndicator, KafkaConsumerIndicator, KafkaModule } from '@app/kafka';
import { DatabaseModule, PostgresIndicator } from '@app/persistence';
import { DeliveryLoop } from './deliveries/delivery-loop';
import { DeliveryStore } from './deliveries/delivery-store';
import { HttpSender } from './deliveries/http-sender';
import { LedgerIntakeHandler } from './deliveries/ledger-intake.handler';
import type { NotifierEnv } from './notifier.env';
import { NotifierObservabilityModule } from './observability/notifier-observability.module';

/** Its own consumer group: reads the ledger exactly as billing does, independently of it. */
export const NOTIFIER_GROUP = 'publisher-notifier';

/** A publisher host's addresses are kept this long (each call still connects to an address checked). */
const DNS_CACHE_MS = 5000;

export class NotifierModule {
  static register(env: NotifierEnv) {
    @Module({
      imports: [
        ConfigModule.forRoot(env),
        DatabaseModule,
        KafkaModule.forRoot({
          producer: { lingerMs: 2, maxBatch: 100, sendTimeoutMs: 10000 },
          consumerGroup: NOTIFIER_GROUP,
          partitionsConsumedConcurrently: env.PARTITIONS_CONCURRENCY,
        }),
        HealthModule.register([
          KafkaBrokerIndicator,
          KafkaConsumerIndicator,
          PostgresIndicator,
          DeliveryLoop,
        ]),
        NotifierObservabilityModule,
      ],
      controllers: [LedgerIntakeHandler],
      providers: [
        DeliveryStore,
        HttpSender,
        DeliveryLoop,
        { provide: SecretBox, useFactory: () => secretBoxFromEnv(env) },
        { provide: OutboundGuard, useFactory: () => OutboundGuard.fromEnv(env, DNS_CACHE_MS) },
      ],
    })
    class AppModule {}
    return AppModule;
  }
}
