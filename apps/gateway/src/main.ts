import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { appLogger, ConfigError, loadEnv } from '@app/config';
import { guardOperatorPages } from './admin/operator-pages';
import { guardUploads } from './admin/upload-guard';
import { registerDashboard } from './dashboard/dashboard.static';
import { GatewayEnv } from './gateway.env';
import { GatewayModule } from './gateway.module';
import { AddressLimits } from './http/address-limits';
import { registerBodyParsers, registerOversizeGuard } from './http/body-parsers';
import { answerClientError, answerFrameworkError } from './http/client-errors';
import { registerOpenApi } from './http/openapi';
import { registerRequestId, requestIdOf } from './http/request-id';
import { registerPostbackRoute } from './postbacks/postbacks.route';

export async function createGateway(env: GatewayEnv): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: env.BODY_LIMIT_BYTES,
    maxParamLength: 200,
    trustProxy: false,
    // Duplicate query keys arrive as arrays; the postback parser decides what they mean.
    routerOptions: { ignoreTrailingSlash: true },
    // Requests Node's parser refuses (e.g. a 40 KiB URL) get our error shape and a gentle close.
    clientErrorHandler: answerClientError,
    // x-request-id: the caller's when well-formed, else a ULID (http/request-id.ts).
    requestIdHeader: false,
    genReqId: requestIdOf,
    // The router's own refusals (a malformed percent-encoding, a path parameter over 200
    // characters) answer in our error shape like every other 4xx.
    frameworkErrors: answerFrameworkError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.register(env), adapter, {
    logger: appLogger(env, 'gateway'),
    // Our own parsers keep the raw body that partners sign (see http/body-parsers.ts).
    bodyParser: false,
  });
  registerRequestId(app.getHttpAdapter().getInstance());
  registerBodyParsers(app.getHttpAdapter().getInstance(), env.BODY_LIMIT_BYTES, env.UPLOAD_LIMIT_BYTES);
  registerOversizeGuard(app.getHttpAdapter().getInstance(), env.BODY_LIMIT_BYTES, env.UPLOAD_LIMIT_BYTES);
  app.get(AddressLimits).register(app.getHttpAdapter().getInstance());
  registerPostbackRoute(app);
  guardOperatorPages(app);
  guardUploads(app);
  if (!(await registerDashboard(app))) new Logger('gateway').warn('dashboard files not found: no /dashboard');
  registerOpenApi(app);
  app.enableShutdownHooks();
  return app;
}

async function main(): Promise<void> {
  let env: GatewayEnv;
  try {
    env = loadEnv(GatewayEnv);
  } catch (e) {
    console.error(e instanceof ConfigError ? `gateway: ${e.message}` : e);
    process.exit(2);
  }
  const app = await createGateway(env);
  await app.listen(env.PORT, env.HOST);
  new Logger('gateway').log(`listening on http://${env.HOST}:${env.PORT}`);
}

if (require.main === module) void main();
