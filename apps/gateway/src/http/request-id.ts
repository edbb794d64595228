import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { requestContext } from '@app/config';
import { ulidFactory } from '@app/domain';

export const REQUEST_ID_HEADER = 'x-request-id';
const WELL_FORMED = /^[A-Za-z0-9._-]{1,64}$/;
const mint = ulidFactory();

/**
 * Fastify's `genReqId`: a caller's own well-formed `x-request-id` (at most 64 of A-Z a-z 0-9 . _ -)
 * is kept, so a partner can quote its own id to support; anything else gets a fresh ULID.
 */
export function requestIdOf(raw: IncomingMessage): string {
  const sent = raw.headers[REQUEST_ID_HEADER];
  return typeof sent === 'string' && WELL_FORMED.test(sent) ? sent : mint(Date.now());
}

/**
 * Every answer carries the request id in `x-request-id`, and every JSON error body in
 * `error.request_id`: set in the first hook, so early answers (429 from the address limits) have
 * it too. Registered before any other hook. Everything the request runs sees it in
 * `requestContext`, so each line logged meanwhile carries it (libs/config/src/logger.ts).
 */
export function registerRequestId(app: FastifyInstance): void {
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, req.id);
    // The rest of the request (hooks, body parsing, handler) runs inside: request-id.spec.ts.
    requestContext.run({ requestId: req.id }, done);
  });
  // Only object payloads reach this hook (strings and streams do not): cheap on the hot path.
  app.addHook('preSerialization', (req, _reply, payload: unknown, done) => {
    const error = (payload as { error?: unknown } | null)?.error;
    if (error !== null && typeof error === 'object' && !Array.isArray(error))
      (error as Record<string, unknown>).request_id = req.id;
    done(null, payload);
  });
}
