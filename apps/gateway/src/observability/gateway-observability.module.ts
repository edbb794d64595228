import { Module } from '@nestjs/common';
import { MetricsModule } from '@app/metrics';
import { GatewayMetrics } from './gateway-metrics';

/**
 * GET /metrics on the gateway's port (an operator token or METRICS_TOKEN is checked before it, in
 * main.ts), and the gateway's own partner traffic metrics.
 */
@Module({
  imports: [MetricsModule.forRoot({ app: 'gateway', guardedByApp: true })],
  providers: [GatewayMetrics],
  exports: [GatewayMetrics],
})
export class GatewayObservabilityModule {}
