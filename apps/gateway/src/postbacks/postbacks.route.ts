import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { sendError } from '../http/error.filter';
import { PostbackReceiver } from './postback-receiver';

export const POSTBACK_ROUTE = '/v1/postbacks/:partnerId';

/**
 * The postback route, registered on Fastify itself rather than as a Nest controller. It is the
 * one route partners load, and Nest's router (execution context, pipes, interceptors, exception
 * filter zone) cost about a tenth of the gateway's throughput there: 9.5k against 10.2-10.4k
 * signed postbacks/s in the gateway bench, same box, interleaved (2026-12-06). Everything else
 * stays as every route has it: the hooks (request id, address limits, body limits, operator
 * pages), the body parsers, and the error shape (`sendError`, the global filter's own code).
 * The receiver answers 405 to every method but GET and POST.
 * Its OpenAPI description is `postbackPathItem` below.
 */
export function registerPostbackRoute(app: NestFastifyApplication): void {
  const receiver = app.get(PostbackReceiver);
  const log = new Logger('HTTP');
  const fail = (reply: FastifyReply, req: FastifyRequest, e: unknown) => sendError(reply, req, e, log);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.route<{ Params: { partnerId: string } }>({
    // Every method, as Nest's @All (fastify.all) registered it.
    method: fastify.supportedMethods,
    url: POSTBACK_ROUTE,
    // What fails before the handler (a body that does not parse, an unsupported media type)
    // gets the error shape too. A route takes the error handler of when it was registered,
    // and Nest sets its own (the global filter) only later, at init.
    errorHandler: (error, req, reply) => {
      void fail(reply, req, error);
    },
    handler: async (req, reply) => {
      try {
        return await receiver.receive(req.params.partnerId, req);
      } catch (e) {
        return fail(reply, req, e);
      }
    },
  });
}

type PathItem = OpenAPIObject['paths'][string];

/** The postback route in the OpenAPI documents (openapi.ts adds the error shape and X-Request-Id). */
export function postbackPathItem(): PathItem {
  const operation = (method: 'get' | 'post') => ({
    operationId: `PostbacksController_receive_${method}`,
    parameters: [
      {
        name: 'partnerId',
        required: true,
        in: 'path' as const,
        schema: { example: 'network-1', type: 'string' },
      },
    ],
    responses: {
      '200': { description: '{"status":"accepted","id":"<event id>"}: durably recorded' },
      '400': { description: 'a field is missing or bad; error.field names it' },
      '401': { description: 'missing or bad signature / token' },
      '403': { description: 'unknown or paused partner, or source address not allowed' },
      '413': { description: 'body too large' },
      '429': { description: "over the partner's rate; Retry-After says when to retry" },
      '503': { description: 'the event log is unavailable; retry after Retry-After' },
    },
    summary: 'Receive a partner postback (see docs/partners/postbacks.md)',
    tags: ['postbacks'],
  });
  return {
    get: operation('get'),
    post: {
      ...operation('post'),
      requestBody: {
        description:
          "The postback's fields (the partner's own names: its key dictionary maps them), as well as or instead of the query",
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }] },
            },
            example: { click_id: '01JDK6Y0000000000000000000', transaction_id: 'tx-9', status: 'approved' },
          },
          'application/x-www-form-urlencoded': {
            schema: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
      },
    },
  };
}
