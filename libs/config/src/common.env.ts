import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';
import { DEFAULT_DATABASE_URL } from './database-urls';

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

/** Variables every app reads. */
export class CommonEnv {
  @Matches(/^postgres(ql)?:\/\/[^\s]+$/, { message: 'must be a postgres:// URL' })
  /** The application role's URL (never the owner's): see database-urls.ts. */
  DATABASE_URL = DEFAULT_DATABASE_URL;

  @Matches(/^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/, {
    message: 'must be a comma-separated list of host:port',
  })
  KAFKA_BROKERS = '127.0.0.1:9092';

  /** Prepended to every topic and consumer group name; lets tests share a broker. Empty in production. */
  @Matches(/^[A-Za-z0-9._-]{0,40}$/, { message: 'may hold only letters, digits, ".", "_" and "-"' })
  TOPIC_PREFIX = '';

  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,60}$/, { message: 'may hold only letters, digits, ".", "_" and "-"' })
  KAFKA_CLIENT_ID = 'conversion-ledger';

  @IsIn(['debug', 'log', 'warn', 'error'])
  LOG_LEVEL: 'debug' | 'log' | 'warn' | 'error' = 'log';

  /** Unset: json when stdout is not a terminal, text when it is (logger.ts). */
  @IsOptional()
  @IsIn(['json', 'text'])
  LOG_FORMAT: 'json' | 'text' | undefined = undefined;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  DB_POOL_SIZE = 10;

  /** How often metrics that need I/O (consumer lag, outbox depth, cap usage) are refreshed. */
  @Transform(toInt)
  @IsInt()
  @Min(200)
  @Max(600000)
  METRICS_REFRESH_MS = 5000;

  /** Bearer token GET /metrics requires; empty: /metrics is open (keep it on a private network). */
  @ValidateIf((e: CommonEnv) => e.METRICS_TOKEN !== '')
  @MinLength(16, { message: 'METRICS_TOKEN must be at least 16 characters' })
  METRICS_TOKEN = '';
}

export const portField = () => {
  return function (target: object, key: string): void {
    Transform(toInt)(target, key);
    IsInt({ message: `${key} must be a port number (1-65535)` })(target, key);
    Min(1, { message: `${key} must be a port number (1-65535)` })(target, key);
    Max(65535, { message: `${key} must be a port number (1-65535)` })(target, key);
  };
};

export { toInt };
