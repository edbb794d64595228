import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiError } from '../http/api-error';
import { CSV_UPLOAD_ROUTES } from '../http/body-parsers';
import { toApiError } from '../http/error.filter';
import { OperatorAuth } from './operator-auth';

/**
 * Large bodies only where they belong, and only from an operator: a text/csv request is answered
 * before its body is read unless it is a POST to an upload route (a counterparty's file for a
 * dispute, a rates file) carrying a valid operator token (415 elsewhere, 401 without the token).
 * Everything else keeps the small body limit.
 */
export function guardUploads(app: NestFastifyApplication): void {
  const auth = app.get(OperatorAuth);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (req, reply) => {
      if (!String(req.headers['content-type'] ?? '').startsWith('text/csv')) return;
      try {
        if (req.method !== 'POST' || !CSV_UPLOAD_ROUTES.includes(req.routeOptions.url ?? ''))
          throw new ApiError(
            415,
            'unsupported_media_type',
            `text/csv is accepted only by POST ${CSV_UPLOAD_ROUTES.join(' and POST ')}`,
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
