import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { HEALTH_INDICATORS } from './health';
import { HealthController } from './health.controller';

@Module({})
export class HealthModule {
  /** `indicators` is a provider whose value is the app's HealthIndicator[]. */
  static register(
    indicators: Omit<Provider, 'provide'> & { useFactory: (...args: never[]) => unknown; inject?: unknown[] },
  ): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [{ provide: HEALTH_INDICATORS, ...indicators } as Provider],
    };
  }
}
