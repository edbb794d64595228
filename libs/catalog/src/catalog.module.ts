import {
  type DynamicModule,
  Global,
  Inject,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CatalogCache } from './catalog.cache';

class CatalogLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(CatalogCache) private readonly catalog: CatalogCache) {}
  async onApplicationBootstrap(): Promise<void> {
    await this.catalog.start();
  }
  onApplicationShutdown(): void {
    this.catalog.stop();
  }
}

/** The in-memory catalog (offers, publishers, partners), loaded at boot and kept fresh. */
@Global()
@Module({})
export class CatalogModule {
  static forRoot(refreshMs: number): DynamicModule {
    return {
      module: CatalogModule,
      providers: [
        {
          provide: CatalogCache,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new CatalogCache(ds, refreshMs),
        },
        CatalogLifecycle,
      ],
      exports: [CatalogCache],
    };
  }
}
