import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import { CommonEnv } from '@app/config';
import { PeriodicGauges } from '@app/metrics';
import { createDataSource } from '@app/persistence';
import { GatewayEnv } from '../gateway.env';

/** Where a report was read, as its answer says. */
export interface ReportSource {
  database: 'primary' | 'replica';
  /** How far the replica is behind the primary (0 when caught up or on the primary); null if unknown. */
  replica_lag_seconds: number | null;
}

// Caught up when everything received is replayed: an idle primary sends no commits, so the age
// of the last replayed one alone would read as growing lag.
const LAG_SQL = `SELECT pg_is_in_recovery() AS replica,
  CASE WHEN NOT pg_is_in_recovery() THEN 0
       WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
       ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8 AS lag`;

/**
 * The database reports and the dashboard read: REPORTS_DATABASE_URL (a streaming replica) when
 * set, else the primary. Connected on first use, so a replica that is down fails the reports
 * only, never the gateway's intake. The lag is refreshed in the background for
 * `reports_replica_lag_seconds` and measured again with each report.
 */
@Injectable()
export class ReportsDatabase extends PeriodicGauges implements OnApplicationShutdown {
  private readonly replica: DataSource | undefined;
  private connecting: Promise<DataSource> | undefined;
  private readonly gauge: Gauge;

  constructor(
    @Inject(DataSource) private readonly primary: DataSource,
    @Inject(GatewayEnv) env: GatewayEnv,
    @Inject(CommonEnv) common: CommonEnv,
    @Inject(Registry) registry: Registry,
  ) {
    super(registry, common.METRICS_REFRESH_MS, {
      name: 'reports_replica_lag',
      label: 'reports replica lag',
      help: 'Refreshes of reports_replica_lag_seconds that failed (the reports database did not answer)',
    });
    this.gauge = new Gauge({
      name: 'reports_replica_lag_seconds',
      help: 'How far the reports database (REPORTS_DATABASE_URL) is behind the primary, seconds; 0 when caught up or when reports read the primary',
      registers: [registry],
    });
    if (env.REPORTS_DATABASE_URL)
      this.replica = createDataSource({
        url: env.REPORTS_DATABASE_URL,
        poolSize: 4,
        applicationName: `${common.KAFKA_CLIENT_ID}:reports`,
      });
  }

  /** The entity manager reports run their queries on. */
  async manager(): Promise<EntityManager> {
    return (await this.dataSource()).manager;
  }

  /** Where reports read, and how stale that is now. */
  async source(): Promise<ReportSource> {
    const ds = await this.dataSource();
    const [r] = await ds.query<{ replica: boolean; lag: number }[]>(LAG_SQL);
    const lag = r ? Math.round(r.lag * 1000) / 1000 : null;
    if (lag !== null) this.gauge.set(lag);
    return { database: r?.replica ? 'replica' : 'primary', replica_lag_seconds: lag };
  }

  protected async refresh(): Promise<void> {
    await this.source();
  }

  override async onApplicationShutdown(): Promise<void> {
    await super.onApplicationShutdown();
    const ds = await this.connecting?.catch(() => undefined);
    if (ds?.isInitialized) await ds.destroy();
  }

  private dataSource(): Promise<DataSource> {
    const replica = this.replica;
    if (!replica) return Promise.resolve(this.primary);
    this.connecting ??= replica.initialize().catch((e: unknown) => {
      this.connecting = undefined;
      throw e;
    });
    return this.connecting;
  }
}
