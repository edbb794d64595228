import { Module } from '@nestjs/common';
import { MetricsModule } from '@app/metrics';
import { LedgerGauges } from './ledger-gauges';
import { ProcessorMetrics } from './processor-metrics';

/** GET /metrics on the processor's health port, and the processor's decision and ledger metrics. */
@Module({
  imports: [MetricsModule.forRoot({ app: 'processor' })],
  providers: [ProcessorMetrics, LedgerGauges],
  exports: [ProcessorMetrics],
})
export class ProcessorObservabilityModule {}
