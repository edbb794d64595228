import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * The folder holding index.html, app.js and app.css. They are not compiled, so tsc does not copy
 * them to dist/: look upwards from this file (apps/gateway/src/dashboard in the sources,
 * dist/apps/gateway/src/dashboard once built) for the repository's apps/gateway/dashboard.
 */
export function dashboardDir(from = __dirname): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'apps', 'gateway', 'dashboard');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

// The page keeps the operator token in sessionStorage (this tab only): nothing but our own files may run in it.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * GET /dashboard: the operators' single page, public like any static file; every data call it
 * makes carries the operator token. Chart.js is served from node_modules (no CDN).
 */
export async function registerDashboard(app: NestFastifyApplication): Promise<boolean> {
  const root = dashboardDir();
  if (!root) return false;
  const chartDir = dirname(require.resolve('chart.js'));
  await app.register(fastifyStatic, { root, serve: false });
  const files: Record<string, [string, string]> = {
    '/dashboard': ['index.html', root],
    '/dashboard/app.js': ['app.js', root],
    '/dashboard/app.css': ['app.css', root],
    '/dashboard/chart.umd.min.js': ['chart.umd.min.js', chartDir],
  };
  const fastify = app.getHttpAdapter().getInstance();
  for (const [url, [file, dir]] of Object.entries(files)) {
    fastify.get(url, (_req, reply) =>
      reply
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-cache')
        .sendFile(file, dir, { cacheControl: false, lastModified: true }),
    );
  }
  return true;
}
