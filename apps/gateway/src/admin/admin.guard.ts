import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { type OperatorRole } from '@app/persistence';
import { type OperatorIdentity, roleAtLeast } from '@app/operators';
import { ApiError } from '../http/api-error';
import { OperatorAuth } from './operator-auth';

const REQUIRED_ROLE = 'operator:required-role';

/**
 * The role a route needs when it is not the default: GET needs `viewer`, anything else `admin`.
 * Review and dispute decisions are `reviewer`.
 */
export const RequiresRole = (role: OperatorRole) => SetMetadata(REQUIRED_ROLE, role);

const operators = new WeakMap<object, OperatorIdentity>();

/** The operator the guard authenticated: every change is recorded under this name. */
export const CurrentOperator = createParamDecorator((_: unknown, ctx: ExecutionContext): OperatorIdentity => {
  const who = operators.get(ctx.switchToHttp().getRequest<FastifyRequest>());
  if (!who) throw new Error('CurrentOperator on a route without AdminGuard');
  return who;
});

/** The role a request needs: the route's own, else viewer for reads and admin for changes. */
export function requiredRole(method: string, declared: OperatorRole | undefined): OperatorRole {
  return declared ?? (method === 'GET' || method === 'HEAD' ? 'viewer' : 'admin');
}

/** An operator token (or ADMIN_TOKEN) whose role may use this route: 401 unknown, 403 not allowed. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    @Inject(OperatorAuth) private readonly auth: OperatorAuth,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const who = await this.auth.authenticate(req.headers.authorization);
    const needed = requiredRole(
      req.method,
      this.reflector.getAllAndOverride<OperatorRole | undefined>(REQUIRED_ROLE, [
        ctx.getHandler(),
        ctx.getClass(),
      ]),
    );
    if (!roleAtLeast(who.role, needed))
      throw new ApiError(
        403,
        'forbidden',
        `operator ${who.name} (${who.role}) may not do this: it needs the ${needed} role`,
      );
    operators.set(req, who);
    return true;
  }
}
