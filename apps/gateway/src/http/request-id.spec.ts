import type { IncomingMessage } from 'node:http';
import Fastify from 'fastify';
import { requestContext } from '@app/config';
import { registerRequestId, requestIdOf } from './request-id';

const withHeader = (v: string | string[] | undefined) =>
  ({ headers: v === undefined ? {} : { 'x-request-id': v } }) as unknown as IncomingMessage;
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

describe('request id', () => {
  it("keeps the caller's well-formed id", () => {
    expect(requestIdOf(withHeader('case-42.a_B'))).toBe('case-42.a_B');
    expect(requestIdOf(withHeader('x'.repeat(64)))).toBe('x'.repeat(64));
  });

  it('mints a ULID for a missing, long, repeated or malformed one', () => {
    for (const v of [undefined, '', 'x'.repeat(65), 'has space', 'é', 'a\nb', ['a', 'b']])
      expect(requestIdOf(withHeader(v))).toMatch(ULID);
  });
});

describe('request context', () => {
  it('is the request id in the handler, for bodiless and body-carrying requests alike', async () => {
    const app = Fastify({ genReqId: requestIdOf, requestIdHeader: false });
    registerRequestId(app);
    // As our own parsers do (body-parsers.ts): the body is read from the socket's stream.
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) =>
      done(null, JSON.parse(body as string)),
    );
    const seen = async () => {
      await new Promise((r) => setImmediate(r));
      return { in_context: requestContext.getStore()?.requestId ?? null };
    };
    app.get('/x', seen);
    app.post('/x', seen);
    try {
      // A real socket: a body arrives in the socket's async context, which inject() does not show.
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const get = await fetch(`${base}/x`, { headers: { 'x-request-id': 'get-1' } });
      expect(await get.json()).toEqual({ in_context: 'get-1' });
      const post = await fetch(`${base}/x`, {
        method: 'POST',
        headers: { 'x-request-id': 'post-1', 'content-type': 'application/json' },
        // Large enough to arrive in several reads, after the request event.
        body: JSON.stringify({ a: 'x'.repeat(300_000) }),
      });
      expect(post.headers.get('x-request-id')).toBe('post-1');
      expect(await post.json()).toEqual({ in_context: 'post-1' });
      expect(requestContext.getStore()).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});
