import { AsyncLocalStorage } from 'node:async_hooks';
import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import type { CommonEnv } from './common.env';

const LEVELS: Record<CommonEnv['LOG_LEVEL'], LogLevel[]> = {
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  log: ['fatal', 'error', 'warn', 'log'],
  warn: ['fatal', 'error', 'warn'],
  error: ['fatal', 'error'],
};

/**
 * The request an HTTP handler is serving (the gateway enters it per request: http/request-id.ts),
 * so every line logged while serving it carries its id without passing it around.
 */
export const requestContext = new AsyncLocalStorage<{ readonly requestId: string }>();

/** LOG_FORMAT when set; else json when stdout is not a terminal (a file, a pipe, a log shipper). */
export function logFormat(env: Pick<CommonEnv, 'LOG_FORMAT'>, stdout: { isTTY?: boolean } = process.stdout) {
  return env.LOG_FORMAT ?? (stdout.isTTY ? 'text' : 'json');
}

/** Nest's console logger plus the current request id: `request_id` in json, `[request <id>]` in text. */
export class AppLogger extends ConsoleLogger {
  protected override getJsonLogObject(
    message: unknown,
    options: Parameters<ConsoleLogger['getJsonLogObject']>[1],
  ): ReturnType<ConsoleLogger['getJsonLogObject']> & { request_id?: string } {
    const line: ReturnType<ConsoleLogger['getJsonLogObject']> & { request_id?: string } =
      super.getJsonLogObject(message, options);
    const id = requestContext.getStore()?.requestId;
    if (id !== undefined) line.request_id = id;
    return line;
  }

  protected override formatContext(context: string): string {
    const id = requestContext.getStore()?.requestId;
    return id === undefined
      ? super.formatContext(context)
      : `${super.formatContext(context)}[request ${id}] `;
  }
}

/**
 * The apps' logger: LOG_LEVEL and LOG_FORMAT from the environment (see logFormat). json: one
 * object per line, `{"level","pid","timestamp","message","context","request_id"?}`, where
 * `message` is the structured object for events such as a postback decision (with its
 * `correlation_id`) and `request_id` the HTTP request being served, if any. text: such objects
 * print on one line too, so grepping an id finds the whole event.
 */
export function appLogger(env: CommonEnv, context: string): ConsoleLogger {
  return new AppLogger(context, {
    logLevels: LEVELS[env.LOG_LEVEL],
    json: logFormat(env) === 'json',
    compact: true,
    breakLength: Infinity,
  });
}
