import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ConfigModule, SecretBox, secretBoxFromEnv } from '@app/config';
import { OutboundGuard } from '@app/domain';
import { HealthModule } from '@app/health';
import { KafkaBrokerIndicator, KafkaModule, KafkaProducerIndicator } from '@app/kafka';
import { DatabaseModule } from '@app/persistence';
import { CatalogCache, CatalogModule } from '@app/catalog';
import {
  OffersAdminController,
  PartnersAdminController,
  PublishersAdminController,
} from './admin/admin.controllers';
import { AdminGuard } from './admin/admin.guard';
import { AlertsAdminController } from './admin/alerts.controller';
import { AuditAdminController } from './admin/audit.controller';
import { PostbackLogAdminController } from './admin/postback-log.controller';
import { OperatorAuth } from './admin/operator-auth';
import { SourcesAdminController } from './admin/sources.controller';
import { ReportsController } from './admin/reports.controller';
import { ReportsDatabase } from './admin/reports-database';
import { LaunchAdminController } from './admin/launch.controller';
import { DisputesAdminController } from './admin/disputes.controller';
import { ExchangeRatesAdminController } from './admin/exchange-rates.controller';
import {
  PayoutRulesAdminController,
  RewardRulesAdminController,
  TrialBalanceAdminController,
} from './admin/money-rules.controller';
import { ReviewsAdminController } from './admin/reviews.controller';
import { PublisherPostbacksAdminController } from './admin/publisher-postbacks.controller';
import { CatalogAdminService } from './admin/catalog-admin.service';
import { ConsumerLagController } from './admin/consumer-lag.controller';
import { ConsumerLagService } from './admin/consumer-lag.service';
import { ClicksController } from './clicks/clicks.controller';
import { EventPublisher } from './events/event-publisher';
import type { GatewayEnv } from './gateway.env';
import { ErrorFilter } from './http/error.filter';
import { GatewayObservabilityModule } from './observability/gateway-observability.module';
import { AddressLimits } from './http/address-limits';
import { ReplayClock } from './http/replay-clock';
import { BodyValidationPipe } from './http/validation.pipe';
import { PartnerAuthenticator } from './postbacks/partner-auth';
import { PostbackReceiver } from './postbacks/postback-receiver';

export class GatewayModule {
  static register(env: GatewayEnv) {
    @Module({
      imports: [
        ConfigModule.forRoot(env),
        DatabaseModule,
        CatalogModule.forRoot(env.CATALOG_REFRESH_MS),
        KafkaModule.forRoot({
          producer: {
            lingerMs: env.PRODUCE_LINGER_MS,
            maxBatch: env.PRODUCE_MAX_BATCH,
            sendTimeoutMs: env.PRODUCE_TIMEOUT_MS,
            maxInFlight: env.PRODUCE_MAX_IN_FLIGHT,
          },
        }),
        HealthModule.register([KafkaBrokerIndicator, KafkaProducerIndicator, CatalogCache]),
        GatewayObservabilityModule,
      ],
      controllers: [
        ClicksController,
        OffersAdminController,
        PublishersAdminController,
        PartnersAdminController,
        SourcesAdminController,
        ReviewsAdminController,
        PublisherPostbacksAdminController,
        ReportsController,
        LaunchAdminController,
        DisputesAdminController,
        ExchangeRatesAdminController,
        PayoutRulesAdminController,
        RewardRulesAdminController,
        TrialBalanceAdminController,
        ConsumerLagController,
        AlertsAdminController,
        AuditAdminController,
        PostbackLogAdminController,
      ],
      providers: [
        EventPublisher,
        PostbackReceiver,
        PartnerAuthenticator,
        CatalogAdminService,
        ConsumerLagService,
        ReportsDatabase,
        AdminGuard,
        OperatorAuth,
        { provide: SecretBox, useFactory: () => secretBoxFromEnv(env) },
        { provide: OutboundGuard, useFactory: () => OutboundGuard.fromEnv(env) },
        ReplayClock,
        AddressLimits,
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: APP_PIPE, useClass: BodyValidationPipe },
      ],
    })
    class AppModule {}
    return AppModule;
  }
}
