import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { appLogger, ConfigError, loadEnv } from '@app/config';
import { guardOperatorPages } from './admin/operator-pages';
import { guardUploads } from './admin/upload-guard';
import { registerDashboard } from './dashboard/dashboard.static';
import { GatewayEnv } from './gateway.env';
import { GatewayModule } from './gateway.module';
import { AddressLimits } from './http/address-limits';
import { registerBodyParsers, registerOversizeGuard } from './http/body-parsers';
import { answerClientError, answerFrameworkError } from './http/client-errors';
import { registerRequestId, requestIdOf } from './http/request-id';

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
  guardOperatorPages(app);
  guardUploads(app);
  if (!(await registerDashboard(app))) new Logger('gateway').warn('dashboard files not found: no /dashboard');
  const openapi = new DocumentBuilder()
    .setTitle('Conversion ledger gateway')
    .setDescription(
      'Clicks, partner postbacks and the admin API. Errors are always JSON: {"error": {"code", "message", "field"?}}. ' +
        'Partner signing: docs/partners/postbacks.md.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  // Partners and publishers read /docs (their routes only: postbacks, clicks, health); the whole
  // API, admin included, is /docs/admin, for operators only (admin/operator-pages.ts).
  const full = () => SwaggerModule.createDocument(app, openapi);
  const partnerFacing = () => {
    const d = full();
    d.paths = Object.fromEntries(Object.entries(d.paths).filter(([p]) => !OPERATOR_PATHS.test(p)));
    return d;
  };
  SwaggerModule.setup('docs/admin', app, full, { jsonDocumentUrl: 'docs/admin/openapi.json' });
  SwaggerModule.setup('docs', app, partnerFacing, { jsonDocumentUrl: 'docs/openapi.json' });
  app.enableShutdownHooks();
  return app;
}

/** Routes documented only in the operators' OpenAPI document. */
const OPERATOR_PATHS = /^\/(v1\/(admin|reports)|metrics|dashboard)(\/|$)/;

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
