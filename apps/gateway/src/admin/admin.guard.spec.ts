import 'reflect-metadata';
import type { ExecutionContext } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common/enums/request-method.enum';
import { Reflector } from '@nestjs/core';
import type { OperatorRole } from '@app/persistence';
import type { OperatorIdentity } from '@app/operators';
import { GatewayEnv } from '../gateway.env';
import { GatewayModule } from '../gateway.module';
import { ApiError } from '../http/api-error';
import { AdminGuard, requiredRole } from './admin.guard';
import type { OperatorAuth } from './operator-auth';
import { presentedToken } from './operator-auth';

type Ctor = new (...args: never[]) => object;

/** Every route of the gateway: controller, handler name, HTTP method, full path. */
function routes() {
  const controllers = Reflect.getMetadata('controllers', GatewayModule.register(new GatewayEnv())) as Ctor[];
  return controllers.flatMap((c) => {
    const base = String(Reflect.getMetadata(PATH_METADATA, c) ?? '');
    return Object.getOwnPropertyNames(c.prototype)
      .filter((k) => k !== 'constructor')
      .map((k) => ({ c, k, fn: (c.prototype as Record<string, unknown>)[k] as object }))
      .filter(({ fn }) => typeof fn === 'function' && Reflect.getMetadata(PATH_METADATA, fn) !== undefined)
      .map(({ c, k, fn }) => ({
        controller: c,
        handler: fn,
        name: `${c.name}.${k}`,
        method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, fn) as number]!,
        path: `/${base}/${String(Reflect.getMetadata(PATH_METADATA, fn))}`
          .replace(/\/+/g, '/')
          .replace(/\/$/, ''),
      }));
  });
}

describe('admin routes', () => {
  const all = routes();
  const admin = all.filter((r) => /^\/v1\/(admin|reports)\b/.test(r.path));

  it('every /v1/admin and /v1/reports route is behind the operator guard', () => {
    expect(admin.length).toBeGreaterThan(40);
    const unguarded = admin.filter(
      (r) => !((Reflect.getMetadata(GUARDS_METADATA, r.controller) ?? []) as unknown[]).includes(AdminGuard),
    );
    expect(unguarded.map((r) => r.name)).toEqual([]);
  });

  it('reads need a viewer, review and dispute decisions a reviewer, every other change an admin', () => {
    const reflector = new Reflector();
    const needs = Object.fromEntries(
      admin.map((r) => [
        `${r.method} ${r.path}`,
        requiredRole(
          r.method,
          reflector.getAllAndOverride<OperatorRole | undefined>('operator:required-role', [
            r.handler as () => void,
            r.controller,
          ]),
        ),
      ]),
    );
    const reviewer = Object.entries(needs)
      .filter(([, role]) => role === 'reviewer')
      .map(([k]) => k);
    expect(reviewer.sort()).toEqual([
      'POST /v1/admin/disputes/:id/items/:item/resolve',
      'POST /v1/admin/reviews/:conversionId/approve',
      'POST /v1/admin/reviews/:conversionId/reject',
    ]);
    for (const [route, role] of Object.entries(needs))
      if (route.startsWith('GET ')) expect({ route, role }).toEqual({ route, role: 'viewer' });
      else if (!reviewer.includes(route)) expect({ route, role }).toEqual({ route, role: 'admin' });
  });
});

describe('AdminGuard', () => {
  const context = (method: string, handler: object, authorization = 'Bearer t') => {
    const req: Record<string, unknown> = { method, headers: { authorization } };
    return {
      req,
      ctx: {
        switchToHttp: () => ({ getRequest: () => req }),
        getHandler: () => handler,
        getClass: () => Object,
      } as unknown as ExecutionContext,
    };
  };
  const guardFor = (who: OperatorIdentity) =>
    new AdminGuard({ authenticate: async () => who } as unknown as OperatorAuth, new Reflector());
  const approve = routes().find((r) => r.name === 'ReviewsAdminController.approve')!.handler;
  const plain = () => undefined;

  it('lets each role do what it may and refuses the rest with 403 naming the role needed', async () => {
    const viewer = guardFor({ name: 'vera', role: 'viewer' });
    const reviewer = guardFor({ name: 'rita', role: 'reviewer' });
    const boss = guardFor({ name: 'adam', role: 'admin' });
    await expect(viewer.canActivate(context('GET', plain).ctx)).resolves.toBe(true);
    await expect(viewer.canActivate(context('POST', approve).ctx)).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining('needs the reviewer role'),
    });
    await expect(reviewer.canActivate(context('POST', approve).ctx)).resolves.toBe(true);
    await expect(reviewer.canActivate(context('PATCH', plain).ctx)).rejects.toBeInstanceOf(ApiError);
    await expect(boss.canActivate(context('DELETE', plain).ctx)).resolves.toBe(true);
    await expect(boss.canActivate(context('POST', approve).ctx)).resolves.toBe(true);
  });

  it('reads the token from Bearer, or from Basic as the password (a browser opening /docs)', () => {
    expect(presentedToken('Bearer lop_abc')).toBe('lop_abc');
    expect(presentedToken(`Basic ${Buffer.from('me:lop_abc').toString('base64')}`)).toBe('lop_abc');
    expect(presentedToken(`Basic ${Buffer.from('me:').toString('base64')}`)).toBeUndefined();
    expect(presentedToken('lop_abc')).toBeUndefined();
    expect(presentedToken(undefined)).toBeUndefined();
  });
});
