import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { CommonEnv } from '@app/config';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * With METRICS_TOKEN set, /metrics answers only `Authorization: Bearer <token>` (the gateway's
 * port faces partners, and metrics name partners and offers). Unset: open, for a private network.
 */
@Injectable()
export class MetricsAuth {
  private readonly token: Buffer | undefined;

  constructor(@Inject(CommonEnv) env: CommonEnv) {
    this.token = env.METRICS_TOKEN ? digest(env.METRICS_TOKEN) : undefined;
  }

  check(authorization: string | undefined): void {
    if (!this.token) return;
    const given = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!given || !timingSafeEqual(digest(given), this.token))
      throw new UnauthorizedException('metrics need the METRICS_TOKEN bearer token');
  }
}
