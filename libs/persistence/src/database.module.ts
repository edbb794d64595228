import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CommonEnv } from '@app/config';
import { createDataSource } from './data-source';
import { PostgresIndicator } from './postgres-health';

const log = new Logger('Database');

/** Connects with retries so an app started while Postgres restarts waits rather than dies. */
async function connect(env: CommonEnv, appName: string): Promise<DataSource> {
  const ds = createDataSource({
    url: env.DATABASE_URL,
    poolSize: env.DB_POOL_SIZE,
    applicationName: appName,
  });
  for (let attempt = 1; ; attempt++) {
    try {
      return await ds.initialize();
    } catch (e) {
      if (attempt >= 30)
        throw new Error(`cannot connect to DATABASE_URL after ${attempt} attempts: ${(e as Error).message}`);
      if (attempt === 1) log.warn(`Postgres not reachable yet (${(e as Error).message}); retrying`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [CommonEnv],
      useFactory: (env: CommonEnv) => connect(env, env.KAFKA_CLIENT_ID),
    },
    {
      provide: PostgresIndicator,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new PostgresIndicator(ds),
    },
    DatabaseLifecycle,
  ],
  exports: [DataSource, PostgresIndicator],
})
export class DatabaseModule {}
