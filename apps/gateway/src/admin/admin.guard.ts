import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { GatewayEnv } from '../gateway.env';
import { ApiError } from '../http/api-error';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (over digests: equal lengths). */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(@Inject(GatewayEnv) env: GatewayEnv) {
    this.expected = env.ADMIN_TOKEN ? digest(env.ADMIN_TOKEN) : undefined;
  }

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    if (!this.expected)
      throw new ApiError(401, 'admin_disabled', 'the admin API is disabled: ADMIN_TOKEN is not set');
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!m?.[1]) throw new ApiError(401, 'unauthorized', 'Authorization: Bearer <admin token> is required');
    if (!timingSafeEqual(digest(m[1]), this.expected))
      throw new ApiError(401, 'unauthorized', 'bad admin token');
    return true;
  }
}
