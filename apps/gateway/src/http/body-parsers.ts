import { parse as parseQuery } from 'node:querystring';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received: what partners sign for POST postbacks. */
    rawBody?: string;
  }
}

/**
 * Bodies are read as UTF-8 text and kept raw (signatures cover the exact bytes), then parsed:
 * JSON, form-encoded, or left as text. Anything else is 415.
 */
export function registerBodyParsers(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  const asText = (req: FastifyRequest, body: string): string => {
    req.rawBody = body;
    return body;
  };
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    const text = asText(req, body as string);
    if (text.trim() === '') return done(null, undefined);
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
}
