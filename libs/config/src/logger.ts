import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import type { CommonEnv } from './common.env';

const LEVELS: Record<CommonEnv['LOG_LEVEL'], LogLevel[]> = {
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  log: ['fatal', 'error', 'warn', 'log'],
  warn: ['fatal', 'error', 'warn'],
  error: ['fatal', 'error'],
};

/** The apps' logger: LOG_LEVEL and LOG_FORMAT (json for log shippers) from the environment. */
export function appLogger(env: CommonEnv, context: string): ConsoleLogger {
  return new ConsoleLogger(context, { logLevels: LEVELS[env.LOG_LEVEL], json: env.LOG_FORMAT === 'json' });
}
