import { parse as parseQuery } from 'node:querystring';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received: what partners sign for POST postbacks. */
    rawBody?: string;
  }
}

/** The routes that take a CSV file (text/csv, up to the upload limit): POST only, operators only. */
export const CSV_UPLOAD_ROUTES = ['/v1/admin/disputes', '/v1/admin/exchange-rates/import'];

/**
 * Bodies are read as UTF-8 text and kept raw (signatures cover the exact bytes), then parsed:
 * JSON, form-encoded, or left as text; CSV only for uploads (CSV_UPLOAD_ROUTES). Anything else is 415.
 */
export function registerBodyParsers(app: FastifyInstance, bodyLimit: number, uploadLimit = bodyLimit): void {
  app.removeAllContentTypeParsers();
  const asText = (req: FastifyRequest, body: string): string => {
    req.rawBody = body;
    return body;
  };
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    const text = asText(req, body as string);
    if (text.trim() === '') return done(null, undefined);
    // Postgres text cannot hold NUL: refused here, named, rather than failing deep inside.
    if (text.includes('\\u0000') || text.includes('\u0000'))
      return done(
        new ApiError(400, 'invalid_body', 'the body contains a NUL character (\\u0000)'),
        undefined,
      );
    try {
      done(null, JSON.parse(text) as unknown);
    } catch {
      done(new ApiError(400, 'invalid_body', 'the body is not valid JSON'), undefined);
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit },
    (req, body, done) => {
      done(null, { ...parseQuery(asText(req, body as string)) });
    },
  );
  app.addContentTypeParser('text/plain', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    done(null, asText(req, body as string));
  });
  // Counterparty files for disputes and rates files, and only there: a larger limit, never kept as rawBody.
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: uploadLimit }, (req, body, done) => {
    const path = req.url.split('?')[0];
    if (!CSV_UPLOAD_ROUTES.includes(path ?? ''))
      return done(
        new ApiError(
          415,
          'unsupported_media_type',
          `text/csv is accepted only by ${CSV_UPLOAD_ROUTES.join(' and ')}`,
        ),
        undefined,
      );
    done(null, body);
  });
}

/** How much of an oversized body we read and drop so the client hears our 413 rather than a reset. */
const DRAIN_CAP_BYTES = 32 * 1024 * 1024;

/**
 * A body announced larger than its limit is answered 413 in our error shape, after reading
 * (and dropping) what the client sends, up to a cap: answering while it still uploads makes
 * Node close the socket under it, and the client sees a reset connection instead of the 413.
 */
export function registerOversizeGuard(app: FastifyInstance, bodyLimit: number, uploadLimit: number): void {
  app.addHook('onRequest', (req, reply, done) => {
    // A NUL in a path or query value (%00) can never be stored: refused before any route runs.
    if (/%00/i.test(req.url)) {
      void reply
        .code(400)
        .type('application/json; charset=utf-8')
        .send({ error: { code: 'invalid_url', message: 'the URL contains a NUL character (%00)' } });
      return;
    }
    const length = Number(req.headers['content-length'] ?? 0);
    const csv = String(req.headers['content-type'] ?? '').startsWith('text/csv');
    const limit = csv ? uploadLimit : bodyLimit;
    if (!(length > limit)) return done();
    const answer = () =>
      void reply
        .code(413)
        .header('connection', 'close')
        .send({ error: { code: 'payload_too_large', message: `the body is larger than ${limit} bytes` } });
    if (length > limit + DRAIN_CAP_BYTES) return answer();
    let seen = 0;
    req.raw.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit + DRAIN_CAP_BYTES) req.raw.destroy();
    });
    req.raw.once('end', answer);
    req.raw.once('error', () => undefined);
    req.raw.resume();
  });
}
