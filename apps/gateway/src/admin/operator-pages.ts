import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { toApiError } from '../http/error.filter';
import { OperatorAuth } from './operator-auth';

/** Routes that are not admin API routes yet tell outsiders about the system: the admin API's docs, metrics. */
export function isOperatorPage(routeUrl: string | undefined): 'metrics' | 'docs' | undefined {
  if (routeUrl === '/metrics') return 'metrics';
  // The operators' API document; /docs (partner-facing routes only) is public.
  if (routeUrl !== undefined && /^\/docs\/admin(?:$|[-/])/.test(routeUrl)) return 'docs';
  return undefined;
}

/**
 * /metrics and /docs/admin answer only an operator token (any role; METRICS_TOKEN also opens /metrics),
 * checked on the matched route (not the raw URL) before anything else runs. A browser opening
 * /docs/admin is asked for it (Basic auth: any user name, the token as password).
 */
export function guardOperatorPages(app: NestFastifyApplication): void {
  const auth = app.get(OperatorAuth);
  app
    .getHttpAdapter()
    .getInstance()
    // Callback style: every other request (postbacks above all) passes without a promise.
    .addHook('onRequest', (req, reply, done) => {
      const page = isOperatorPage(req.routeOptions.url);
      if (!page || (page === 'metrics' && auth.isMetricsToken(req.headers.authorization))) return done();
      auth.authenticate(req.headers.authorization).then(
        () => done(),
        (e: unknown) => {
          const err = toApiError(e);
          if (err.status === 401 && page === 'docs')
            void reply.header(
              'www-authenticate',
              'Basic realm="conversion-ledger operator token", charset="UTF-8"',
            );
          void reply
            .code(err.status)
            .headers(err.headers)
            .type('application/json; charset=utf-8')
            .send(err.body());
        },
      );
    });
}
