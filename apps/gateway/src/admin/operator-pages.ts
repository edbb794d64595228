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
    .addHook('onRequest', async (req, reply) => {
      const page = isOperatorPage(req.routeOptions.url);
      if (!page) return;
      if (page === 'metrics' && auth.isMetricsToken(req.headers.authorization)) return;
      try {
        await auth.authenticate(req.headers.authorization);
      } catch (e) {
        const err = toApiError(e);
        if (err.status === 401 && page === 'docs')
          void reply.header(
            'www-authenticate',
            'Basic realm="conversion-ledger operator token", charset="UTF-8"',
          );
        return reply
          .code(err.status)
          .headers(err.headers)
          .type('application/json; charset=utf-8')
          .send(err.body());
      }
    });
}
