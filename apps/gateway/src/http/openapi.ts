import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { postbackPathItem } from '../postbacks/postbacks.route';
import { REQUEST_ID_HEADER } from './request-id';

/** Routes documented only in the operators' OpenAPI document. */
export const OPERATOR_PATHS = /^\/(v1\/(admin|reports)|metrics|dashboard)(\/|$)/;
const POSTBACK_PATH = '/v1/postbacks/{partnerId}';
const ERROR_REF = { $ref: '#/components/schemas/ApiError' };

type Operation = OpenAPIObject['paths'][string]['get'] & object;
type Response = { description: string; content?: Record<string, unknown>; headers?: Record<string, unknown> };

/**
 * Serves the OpenAPI documents: /docs (partners and publishers: postbacks, clicks, health) and
 * /docs/admin (every route, operators only: admin/operator-pages.ts). Checked in as
 * docs/openapi.json and docs/openapi-admin.json (`npm run openapi:write`).
 */
export function registerOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Conversion ledger gateway')
    .setDescription(
      'Clicks, partner postbacks and the admin API. Errors are always JSON: {"error": {"code", "message", "field"?, "request_id"}}. ' +
        'Every answer carries X-Request-Id (the caller’s own when well-formed). Partner signing: docs/partners/postbacks.md.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const full = () => completeDocument(SwaggerModule.createDocument(app, config));
  const partnerFacing = () => {
    const d = full();
    d.paths = Object.fromEntries(Object.entries(d.paths).filter(([p]) => !OPERATOR_PATHS.test(p)));
    return d;
  };
  SwaggerModule.setup('docs/admin', app, full, { jsonDocumentUrl: 'docs/admin/openapi.json' });
  SwaggerModule.setup('docs', app, partnerFacing, { jsonDocumentUrl: 'docs/openapi.json' });
}

/**
 * What the decorators cannot say once for every route: the error shape, the request id header,
 * the refusals of the operator guard, and the postback route's two methods and bodies.
 */
export function completeDocument(doc: OpenAPIObject): OpenAPIObject {
  doc.components = {
    ...doc.components,
    schemas: {
      ...doc.components?.schemas,
      ApiError: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string', example: 'invalid_field' },
              message: { type: 'string' },
              field: { type: 'string', description: 'the field or parameter at fault, when one is' },
              request_id: { type: 'string', description: 'the X-Request-Id of this answer' },
            },
          },
        },
      },
    },
  };
  // Not a Nest controller: described by its route (postbacks.route.ts).
  doc.paths[POSTBACK_PATH] = postbackPathItem();
  for (const [path, item] of Object.entries(doc.paths))
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const op = item[method];
      if (op) completeOperation(path, op);
    }
  return doc;
}

function completeOperation(path: string, op: Operation): void {
  const responses = op.responses as Record<string, Response>;
  if (OPERATOR_PATHS.test(path)) {
    const takesInput = (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined;
    if (takesInput) responses['400'] ??= { description: 'A parameter or field is bad; error.field names it' };
    responses['401'] ??= { description: 'No operator token, or one not known' };
    responses['403'] ??= { description: "The token's role may not do this (viewer < reviewer < admin)" };
    if (path.includes('{')) responses['404'] ??= { description: 'No such resource' };
  }
  for (const [status, r] of Object.entries(responses)) {
    // Health answers 503 with its own report, not the error shape.
    if (Number(status) >= 400 && !r.content && !path.startsWith('/health/'))
      r.content = { 'application/json': { schema: ERROR_REF } };
    r.headers = {
      ...r.headers,
      'X-Request-Id': {
        description: `${REQUEST_ID_HEADER} of the request when well-formed (1-64 of A-Z a-z 0-9 . _ -), else a ULID`,
        schema: { type: 'string' },
      },
    };
  }
}
