import { Logger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/**
 * TypeORM's own loggers print a failed query's parameters, and catalog writes carry partner
 * HMAC secrets and tokens (a duplicate partner id is enough to fail one). This logger prints
 * failed queries with their SQL and error but only the number of parameters, and migrations;
 * nothing else (per-query logging would be far too much at our rates anyway).
 */
export class QueryLogger implements TypeOrmLogger {
  private readonly out = new Logger('Database');

  logQuery(): void {
    /* not logged */
  }

  logQueryError(error: string | Error, query: string, parameters?: unknown[]): void {
    const sql = query.replace(/\s+/g, ' ').trim().slice(0, 2000);
    const why = error instanceof Error ? error.message : error;
    this.out.error(`query failed: ${why}: ${sql} (${parameters?.length ?? 0} parameter(s), never logged)`);
  }

  logQuerySlow(): void {
    /* not logged */
  }

  logSchemaBuild(): void {
    /* not logged */
  }

  logMigration(message: string): void {
    this.out.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.out.warn(String(message));
  }
}
