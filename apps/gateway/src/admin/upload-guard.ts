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
    // Callback style: every other request (postbacks above all) passes without a promise.
    .addHook('onRequest', (req, reply, done) => {
      if (!String(req.headers['content-type'] ?? '').startsWith('text/csv')) return done();
      const refuse = (e: unknown) => {
        const err = toApiError(e);
        void reply
          .code(err.status)
          .headers(err.headers)
          .header('connection', 'close')
          .type('application/json; charset=utf-8')
          .send(err.body());
      };
      if (req.method !== 'POST' || !CSV_UPLOAD_ROUTES.includes(req.routeOptions.url ?? ''))
        return refuse(
          new ApiError(
            415,
            'unsupported_media_type',
            `text/csv is accepted only by POST ${CSV_UPLOAD_ROUTES.join(' and POST ')}`,
          ),
        );
      auth.authenticate(req.headers.authorization).then(() => done(), refuse);
    });
}
