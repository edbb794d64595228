import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import type { CommonEnv } from './common.env';

const LEVELS: Record<CommonEnv['LOG_LEVEL'], LogLevel[]> = {
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  log: ['fatal', 'error', 'warn', 'log'],
  warn: ['fatal', 'error', 'warn'],
  error: ['fatal', 'error'],
};

/**
 * The apps' logger: LOG_LEVEL and LOG_FORMAT (json for log shippers) from the environment. json:
 * one object per line, `{"level","pid","timestamp","message","context"}`, where `message` is the
 * structured object for events such as a postback decision (with its `correlation_id`). text:
 * such objects print on one line too, so grepping an id finds the whole event.
 */
export function appLogger(env: CommonEnv, context: string): ConsoleLogger {
  return new ConsoleLogger(context, {
    logLevels: LEVELS[env.LOG_LEVEL],
    json: env.LOG_FORMAT === 'json',
    compact: true,
    breakLength: Infinity,
  });
}
