import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import http from 'node:http';
import https from 'node:https';
import { NotifierEnv } from '../notifier.env';

export interface HttpAnswer {
  /** undefined: no answer (network error or timeout). */
  status: number | undefined;
  retryAfter: string | null;
  latencyMs: number;
  error: string | null;
}

const USER_AGENT = 'conversion-ledger-notifier/1';

/**
 * One GET to a publisher, bounded by DELIVERY_TIMEOUT_MS for the whole exchange (answer and
 * body). Redirects are not followed (a postback URL must not send our signed call elsewhere); the
 * body is discarded. node:http with keep-alive agents: a fraction of fetch's CPU per call.
 */
@Injectable()
export class HttpSender implements OnApplicationShutdown {
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(@Inject(NotifierEnv) private readonly env: NotifierEnv) {
    const opts = { keepAlive: true, maxSockets: env.DELIVERY_CONCURRENCY, maxFreeSockets: 64 };
    this.agents = { http: new http.Agent(opts), https: new https.Agent(opts) };
  }

  onApplicationShutdown(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  get(url: string, headers: Record<string, string>): Promise<HttpAnswer> {
    const started = performance.now();
    const timeoutMs = this.env.DELIVERY_TIMEOUT_MS;
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
        // Read (and drop) the body so the connection goes back to the pool.
        res.resume();
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
