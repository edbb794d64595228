import type { DataSource } from 'typeorm';
import type { HealthCheckResult, HealthIndicator } from '@app/health';

export class PostgresIndicator implements HealthIndicator {
  readonly name = 'postgres';
  constructor(private readonly ds: DataSource) {}

  async check(): Promise<HealthCheckResult> {
    try {
      if (!this.ds.isInitialized) return { ok: false, detail: 'not connected yet' };
      await this.ds.query('SELECT 1');
      return { ok: true };
    } catch (e) {
      return { ok: false, detail: `Postgres unreachable: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
}
