import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** How long a refused connection is kept reading (and discarding) before it is dropped. */
const LINGER_MS = 2000;

const ANSWERS: Record<string, { status: number; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'headers_too_large',
    message: `the request line and headers are larger than ${maxHeaderSize} bytes`,
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'request_timeout',
    message: 'the request took too long to arrive',
  },
};
const MALFORMED = { status: 400, code: 'malformed_request', message: 'the request is not valid HTTP/1.1' };

/**
 * Requests answered here, by error code. They never reach Fastify's hooks (nor the HTTP
 * metrics): the gateway's metrics read this at scrape time (`http_parser_refused_total`).
 */
const refusedByCode = new Map<string, number>();
export const parserRefusals = (): ReadonlyMap<string, number> => refusedByCode;

/**
 * Answers a request Node's HTTP parser refused (a URL or headers over the size limit, bytes
 * that are not HTTP, a request that never finishes) in the gateway's error shape, and closes
 * the connection gently. Fastify's default handler answers in another JSON shape, without
 * `Connection: close`, and destroys the socket at once: a client on a kept-alive connection may
 * then send its next request into a socket that is going away, and the reset that destroying a
 * socket with unread bytes causes can discard the answer before the client reads it. Here the
 * answer says `Connection: close`, the rest of the request is read and dropped, and the socket
 * is destroyed when the client hangs up or after LINGER_MS.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const a = (err.code && ANSWERS[err.code]) || MALFORMED;
  refusedByCode.set(a.code, (refusedByCode.get(a.code) ?? 0) + 1);
  const body = JSON.stringify({ error: { code: a.code, message: a.message } });
  socket.on('error', () => undefined);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.resume();
  socket.end(
    `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status]}\r\nConnection: close\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.once('end', () => socket.destroy());
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * Fastify's `frameworkErrors`: the router's own refusals (a malformed percent-encoding in the
 * path, a path parameter over 200 characters) answered in our error shape like every other 4xx.
 */
export function answerFrameworkError(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const status =
    error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
      ? error.statusCode
      : 400;
  void reply
    .code(status)
    .header('x-request-id', req.id)
    .type('application/json; charset=utf-8')
    .send({
      error: {
        code: tooLong ? 'path_too_long' : 'invalid_url',
        message: tooLong
          ? 'a path segment is longer than 200 characters'
          : 'the URL is not validly percent-encoded',
        request_id: req.id,
      },
    });
}
