import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiError } from '../http/api-error';
import { toApiError } from '../http/error.filter';
import { OperatorAuth } from './operator-auth';

/** The one route that takes a large body (a counterparty's CSV file for a dispute). */
const UPLOAD_ROUTE = '/v1/admin/disputes';

/**
 * Large bodies only where they belong, and only from an operator: a text/csv request is answered
 * before its body is read unless it is a POST to the upload route carrying a valid operator token
 * (415 elsewhere, 401 without the token). Everything else keeps the small body limit.
 */
export function guardUploads(app: NestFastifyApplication): void {
  const auth = app.get(OperatorAuth);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (req, reply) => {
      if (!String(req.headers['content-type'] ?? '').startsWith('text/csv')) return;
      try {
        if (req.method !== 'POST' || req.routeOptions.url !== UPLOAD_ROUTE)
          throw new ApiError(
            415,
            'unsupported_media_type',
            `text/csv is accepted only by POST ${UPLOAD_ROUTE}`,
          );
        await auth.authenticate(req.headers.authorization);
      } catch (e) {
        const err = toApiError(e);
        return reply
          .code(err.status)
          .headers(err.headers)
          .header('connection', 'close')
          .type('application/json; charset=utf-8')
          .send(err.body());
      }
    });
}
