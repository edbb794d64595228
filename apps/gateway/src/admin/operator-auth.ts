import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BOOTSTRAP_OPERATOR, findOperatorByToken, type OperatorIdentity } from '@app/operators';
import { GatewayEnv } from '../gateway.env';
import { ApiError } from '../http/api-error';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The token of `Authorization: Bearer <token>`, or the password of `Basic` (a browser's prompt, for /docs). */
export function presentedToken(authorization: string | undefined): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization);
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const password = decoded.slice(decoded.indexOf(':') + 1);
  return password === '' ? undefined : password;
}

/**
 * Who is calling: ADMIN_TOKEN (the bootstrap admin, compared in constant time over digests), or
 * a named operator token from the operator_tokens table (only its SHA-256 is stored there).
 */
@Injectable()
export class OperatorAuth {
  private readonly log = new Logger('OperatorAuth');
  private readonly bootstrap: Buffer | undefined;
  private readonly metrics: Buffer | undefined;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(GatewayEnv) env: GatewayEnv,
  ) {
    this.bootstrap = env.ADMIN_TOKEN ? digest(env.ADMIN_TOKEN) : undefined;
    this.metrics = env.METRICS_TOKEN ? digest(env.METRICS_TOKEN) : undefined;
  }

  /** 401 without a known token; 503 when the token table cannot be read. */
  async authenticate(authorization: string | undefined): Promise<OperatorIdentity> {
    const token = presentedToken(authorization);
    if (!token) throw new ApiError(401, 'unauthorized', 'Authorization: Bearer <operator token> is required');
    if (this.bootstrap && timingSafeEqual(digest(token), this.bootstrap))
      return { name: BOOTSTRAP_OPERATOR, role: 'admin' };
    let who: OperatorIdentity | undefined;
    try {
      who = await findOperatorByToken(this.ds.manager, token);
    } catch (e) {
      this.log.warn(`operator tokens unreadable: ${(e as Error).message}`);
      throw new ApiError(
        503,
        'unavailable',
        'operator tokens cannot be checked right now; retry later',
        undefined,
        {
          'retry-after': '5',
        },
      );
    }
    if (!who) throw new ApiError(401, 'unauthorized', 'unknown or revoked operator token');
    return who;
  }

  /** METRICS_TOKEN, when set, also opens /metrics (a Prometheus scrape needs no operator name). */
  isMetricsToken(authorization: string | undefined): boolean {
    const token = presentedToken(authorization);
    return !!this.metrics && !!token && timingSafeEqual(digest(token), this.metrics);
  }
}
