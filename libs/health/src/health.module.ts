import { type DynamicModule, type InjectionToken, Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HEALTH_INDICATORS, type HealthIndicator } from './health';
import { HealthController } from './health.controller';

@Module({})
export class HealthModule {
  /**
   * Readiness over the given indicators, looked up anywhere in the app (they live in the
   * modules that own the dependency: Kafka, database, catalog, relay...).
   */
  static register(indicators: InjectionToken<HealthIndicator>[]): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [
        {
          provide: HEALTH_INDICATORS,
          inject: [ModuleRef],
          useFactory: (ref: ModuleRef) => {
            // Resolved on first use: every module has been instantiated by then.
            let resolved: HealthIndicator[] | undefined;
            return (): HealthIndicator[] =>
              (resolved ??= indicators.map((t) => ref.get(t, { strict: false })));
          },
        },
      ],
    };
  }
}
