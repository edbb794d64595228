import { type DynamicModule, Global, Module } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { CommonEnv } from '@app/config';
import { ConsumerLagMetrics } from './consumer-lag';
import { DbPoolMetrics } from './db-pool-metrics';
import { HttpMetrics } from './http-metrics';
import { KafkaMetrics } from './kafka-metrics';
import { MetricsAuth } from './metrics-auth';
import { MetricsController } from './metrics.controller';

export interface MetricsModuleOptions {
  /** Added to every series as `app` (gateway, processor...). */
  app: string;
  /**
   * The app checks who may read /metrics itself (the gateway: an operator token), so METRICS_TOKEN
   * is not required on top.
   */
  guardedByApp?: boolean;
}

/**
 * Prometheus metrics at GET /metrics: process defaults, HTTP, Kafka produce/consume, consumer
 * lag, the Postgres pool. One registry per app instance (not prom-client's global one), so
 * apps built in one process (tests) never share series. Apps register their own metrics on the
 * exported `Registry`.
 */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(options: MetricsModuleOptions): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        {
          provide: Registry,
          useFactory: () => {
            const registry = new Registry();
            registry.setDefaultLabels({ app: options.app });
            collectDefaultMetrics({ register: registry });
            return registry;
          },
        },
        {
          provide: MetricsAuth,
          inject: [CommonEnv],
          useFactory: (env: CommonEnv) =>
            new MetricsAuth(
              options.guardedByApp ? Object.assign(new CommonEnv(), { METRICS_TOKEN: '' }) : env,
            ),
        },
        HttpMetrics,
        KafkaMetrics,
        ConsumerLagMetrics,
        DbPoolMetrics,
      ],
      exports: [Registry],
    };
  }
}
