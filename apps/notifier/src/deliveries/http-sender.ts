import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { LookupFunction } from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { OutboundGuard, type ResolvedAddress } from '@app/domain';
import { NotifierEnv } from '../notifier.env';

export interface HttpAnswer {
  /** undefined: no answer (network error, timeout, or a refused address). */
  status: number | undefined;
  retryAfter: string | null;
  latencyMs: number;
  error: string | null;
}

const USER_AGENT = 'conversion-ledger-notifier/1';
const MAX_HEADER_BYTES = 16 * 1024;

/** A lookup that answers the address already checked, so the connection goes where the check looked. */
export function pinnedLookup(address: ResolvedAddress): LookupFunction {
  return (_host, options, callback) => {
    if ((options as { all?: boolean }).all)
      (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [
        { address: address.address, family: address.family },
      ]);
    else callback(null, address.address, address.family);
  };
}

/**
 * One GET to a publisher. Its host is resolved and checked first (no loopback, private,
 * link-local, unique-local or metadata address unless PUBLISHER_URL_ALLOW names it), and the
 * connection is made to the address checked, never to a second answer of the DNS. The whole
 * exchange (answer and body) is bounded by DELIVERY_TIMEOUT_MS, the body by
 * DELIVERY_MAX_ANSWER_BYTES (read and dropped). Redirects are not followed (a postback URL must
 * not send our signed call elsewhere). node:http with keep-alive agents: a fraction of fetch's
 * CPU per call.
 */
@Injectable()
export class HttpSender implements OnApplicationShutdown {
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(
    @Inject(NotifierEnv) private readonly env: NotifierEnv,
    @Inject(OutboundGuard) private readonly outbound: OutboundGuard,
  ) {
    const opts = { keepAlive: true, maxSockets: env.DELIVERY_CONCURRENCY, maxFreeSockets: 64 };
    this.agents = { http: new http.Agent(opts), https: new https.Agent(opts) };
  }

  onApplicationShutdown(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  async get(url: string, headers: Record<string, string>): Promise<HttpAnswer> {
    const started = performance.now();
    const check = await this.outbound.check(url);
    if (!check.ok)
      return {
        status: undefined,
        retryAfter: null,
        latencyMs: performance.now() - started,
        error: `not called: ${check.message}`,
      };
    return this.call(url, headers, check.addresses[0]!, started);
  }

  private call(
    url: string,
    headers: Record<string, string>,
    address: ResolvedAddress,
    started: number,
  ): Promise<HttpAnswer> {
    const timeoutMs = this.env.DELIVERY_TIMEOUT_MS;
    const maxBytes = this.env.DELIVERY_MAX_ANSWER_BYTES;
    return new Promise<HttpAnswer>((resolve) => {
      let settled = false;
      const done = (a: Omit<HttpAnswer, 'latencyMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...a, latencyMs: performance.now() - started });
      };
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        done({ status: undefined, retryAfter: null, error: 'invalid URL' });
        return;
      }
      const secure = u.protocol === 'https:';
      const req = (secure ? https : http).request(u, {
        method: 'GET',
        headers: { 'user-agent': USER_AGENT, ...headers },
        agent: secure ? this.agents.https : this.agents.http,
        lookup: pinnedLookup(address),
        maxHeaderSize: MAX_HEADER_BYTES,
      });
      const timer = setTimeout(() => {
        done({ status: undefined, retryAfter: null, error: `timeout after ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const retryAfter = typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : null;
        const error =
          status >= 300 && status < 400 ? `redirect to ${res.headers.location ?? '?'} not followed` : null;
        // Read (and drop) the body so the connection goes back to the pool; past the bound, drop
        // the connection instead.
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > maxBytes) {
            done({
              status,
              retryAfter,
              error: error ?? `answer longer than ${maxBytes} bytes: not read further`,
            });
            res.destroy();
          }
        });
        res.on('end', () => done({ status, retryAfter, error }));
        res.on('error', () => done({ status, retryAfter, error }));
      });
      req.on('error', (e: NodeJS.ErrnoException) =>
        done({ status: undefined, retryAfter: null, error: `network error: ${e.code ?? e.message}` }),
      );
      req.end();
    });
  }
}
