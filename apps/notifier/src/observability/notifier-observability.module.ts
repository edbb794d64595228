import { Module } from '@nestjs/common';
import { MetricsModule } from '@app/metrics';
import { DeliveryGauges } from './delivery-gauges';
import { NotifierMetrics } from './notifier-metrics';

/** GET /metrics on the notifier's health port, and its delivery metrics. */
@Module({
  imports: [MetricsModule.forRoot({ app: 'notifier' })],
  providers: [NotifierMetrics, DeliveryGauges],
  exports: [NotifierMetrics],
})
export class NotifierObservabilityModule {}
