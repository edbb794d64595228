import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KafkaUnavailableError } from '@app/kafka';
import { ApiError } from './api-error';

const HTTP_CODES: Record<number, string> = {
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** Fastify's own client-error codes, mapped to our error shape. */
const FASTIFY_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_body'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_body'],
  FST_ERR_BAD_URL: [400, 'bad_url'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'bad_request'],
};

/** Network failures reaching a database, and Postgres's connection (08) and shutdown (57P0x) states. */
const DATABASE_UNREACHABLE =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|08...|57P0[123])$/;

/** A database (the primary or REPORTS_DATABASE_URL) that cannot be reached or went away mid-query. */
export function isDatabaseUnreachable(e: unknown): boolean {
  const err = e as { code?: unknown; driverError?: { code?: unknown; message?: unknown }; message?: unknown };
  const code = err?.code ?? err?.driverError?.code;
  if (typeof code === 'string' && DATABASE_UNREACHABLE.test(code)) return true;
  const message = err?.driverError?.message ?? err?.message;
  // node-postgres's own words when the server closes a pooled connection (no code).
  return typeof message === 'string' && /^Connection terminated/.test(message);
}

/**
 * Every error leaves as JSON in one shape. Client mistakes are 4xx with a reason; Kafka or a
 * database being down is 503 with Retry-After (the caller retries); only our own bugs are 500.
 */
export function toApiError(exception: unknown): ApiError {
  if (exception instanceof ApiError) return exception;
  if (exception instanceof KafkaUnavailableError) {
    return new ApiError(503, 'unavailable', 'the event log is unavailable; retry later', undefined, {
      'retry-after': '5',
    });
  }
  if (isDatabaseUnreachable(exception)) {
    return new ApiError(503, 'unavailable', 'the database is unavailable; retry later', undefined, {
      'retry-after': '5',
    });
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const res = exception.getResponse();
    const message =
      typeof res === 'object' && res !== null && 'message' in res ? String(res.message) : exception.message;
    const code = HTTP_CODES[status] ?? (status < 500 ? 'bad_request' : 'internal');
    return new ApiError(status, code, message);
  }
  const e = exception as { code?: unknown; statusCode?: unknown; message?: unknown };
  const text = (fallback: string) => (typeof e?.message === 'string' ? e.message : fallback);
  const known = typeof e?.code === 'string' ? FASTIFY_ERRORS[e.code] : undefined;
  if (known) return new ApiError(known[0], known[1], text(known[1]));
  // Body parser errors carry a 4xx statusCode (bad JSON, bad encoding): the client's fault.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError(e.statusCode, 'bad_request', text('bad request'));
  }
  return new ApiError(500, 'internal', 'internal error');
}

/**
 * Answers `exception` in the error shape. Only our own bugs (500) are logged, with the request id
 * a caller quotes from its answer.
 */
export function sendError(
  reply: FastifyReply,
  req: FastifyRequest,
  exception: unknown,
  log: Logger,
): FastifyReply {
  const err = toApiError(exception);
  if (err.status >= 500 && err.status !== 503)
    log.error(`request ${req.id}: ${exception instanceof Error ? exception.stack : String(exception)}`);
  return reply
    .status(err.status)
    .headers(err.headers)
    .type('application/json; charset=utf-8')
    .send(err.body());
}

@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    void sendError(http.getResponse<FastifyReply>(), http.getRequest<FastifyRequest>(), exception, this.log);
  }
}
