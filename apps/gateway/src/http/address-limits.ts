import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientIp, parseCidrList } from '@app/domain';
import { GatewayEnv } from '../gateway.env';
import { GatewayMetrics } from '../observability/gateway-metrics';

/**
 * Token buckets per key with a bounded number of keys: the least recently used key is dropped
 * when full, so a flood from many addresses costs bounded memory (a dropped key starts full
 * again, which only ever errs towards serving).
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes a token for `key`; when none is left, how many seconds until one is. */
  take(key: string, now = Date.now()): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const b = this.peek(key, now);
    if (b.tokens < 1)
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.ratePerSecond)) };
    b.tokens -= 1;
    return { ok: true };
  }

  /**
   * Whether `key` has a token now, without taking it and without touching the buckets: a key never
   * taken from has a full bucket, and asking for it neither stores it nor pushes out a key that was
   * (every accepted postback asks for its address).
   */
  has(key: string, now = Date.now()): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const b = this.buckets.get(key);
    if (!b) return { ok: true };
    const tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSecond);
    return tokens >= 1
      ? { ok: true }
      : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.ratePerSecond)) };
  }

  /** How many keys are held (tests). */
  get size(): number {
    return this.buckets.size;
  }

  private peek(key: string, now: number): { tokens: number; at: number } {
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key); // re-inserted below: Map order is recency
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSecond);
      b.at = now;
    } else {
      b = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, b);
    return b;
  }
}

/**
 * Limits per client address (behind TRUSTED_PROXIES, the first untrusted X-Forwarded-For hop) on
 * anonymous traffic, checked in the request's first hook, before any body is read, validated or
 * published: clicks (both routes), and postbacks from an address whose recent postbacks were
 * refused (bad signature, unknown partner, bad fields). A partner whose postbacks are accepted
 * never meets the second limit. Over a limit: 429 with Retry-After.
 */
@Injectable()
export class AddressLimits {
  private readonly clicks: KeyedBuckets;
  private readonly refusals: KeyedBuckets;
  private readonly samples: KeyedBuckets;
  private readonly trusted: (ip: string) => boolean;

  constructor(
    @Inject(GatewayEnv) env: GatewayEnv,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
  ) {
    this.clicks = new KeyedBuckets(env.CLICK_RATE_PER_ADDRESS, env.CLICK_RATE_PER_ADDRESS * 2);
    this.refusals = new KeyedBuckets(env.REFUSAL_RATE_PER_ADDRESS, env.REFUSAL_RATE_PER_ADDRESS * 5);
    this.samples = new KeyedBuckets(env.REFUSAL_SAMPLES_PER_SECOND, env.REFUSAL_SAMPLES_PER_SECOND, 2000);
    const parsed = parseCidrList(
      env.TRUSTED_PROXIES.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    if (!parsed.ok) throw new Error(`TRUSTED_PROXIES: ${parsed.entry}: ${parsed.message}`);
    this.trusted = parsed.matcher;
  }

  addressOf(req: FastifyRequest): string {
    const xff = req.headers['x-forwarded-for'];
    return clientIp(
      req.socket.remoteAddress ?? req.ip,
      Array.isArray(xff) ? xff.join(',') : xff,
      this.trusted,
    );
  }

  /**
   * Counts a refused postback against its address, and says whether to publish it to
   * postbacks.refused: a sample per partner (`_unknown` for ids not in the catalog), enough to
   * debug a partner's setup, never one event per request of a flood.
   */
  refused(req: FastifyRequest, partnerLabel: string): { publish: boolean } {
    this.refusals.take(this.addressOf(req));
    return { publish: this.samples.take(partnerLabel).ok };
  }

  register(app: FastifyInstance): void {
    app.addHook('onRequest', (req, reply, done) => {
      const path = req.url;
      const click = path.startsWith('/c/') || path === '/v1/clicks' || path.startsWith('/v1/clicks?');
      const postback = path.startsWith('/v1/postbacks/');
      if (!click && !postback) return done();
      const address = this.addressOf(req);
      const r = click ? this.clicks.take(address) : this.refusals.has(address);
      if (r.ok) return done();
      this.metrics.addressLimited(click ? 'click' : 'refused_postbacks');
      tooMany(reply, r.retryAfterSeconds, click ? 'clicks' : 'refused postbacks');
    });
  }
}

function tooMany(reply: FastifyReply, seconds: number, what: string): void {
  void reply
    .code(429)
    .header('retry-after', String(seconds))
    .header('connection', 'close')
    .send({
      error: {
        code: 'rate_limited',
        message: `too many ${what} from this address; retry after ${seconds} s`,
      },
    });
}
