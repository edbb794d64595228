import { Module } from '@nestjs/common';
import { MetricsModule } from '@app/metrics';
import { GatewayMetrics } from './gateway-metrics';

/** GET /metrics on the gateway's port, and the gateway's own partner traffic metrics. */
@Module({
  imports: [MetricsModule.forRoot({ app: 'gateway' })],
  providers: [GatewayMetrics],
  exports: [GatewayMetrics],
})
export class GatewayObservabilityModule {}
