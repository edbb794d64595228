import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { appLogger, ConfigError, loadEnv } from '@app/config';
import { KafkaBatchServer } from '@app/kafka';
import { NotifierEnv } from './notifier.env';
import { NotifierModule } from './notifier.module';

/** The publisher notifier: consumes the ledger, calls publishers' postback URLs; an HTTP port for health. */
export async function createNotifier(env: NotifierEnv): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    NotifierModule.register(env),
    new FastifyAdapter(),
    { logger: appLogger(env, 'notifier') },
  );
  app.connectMicroservice({ strategy: app.get(KafkaBatchServer) }, { inheritAppConfig: true });
  app.enableShutdownHooks();
  return app;
}

async function main(): Promise<void> {
  let env: NotifierEnv;
  try {
    env = loadEnv(NotifierEnv);
  } catch (e) {
    console.error(e instanceof ConfigError ? `notifier: ${e.message}` : e);
    process.exit(2);
  }
  const app = await createNotifier(env);
  await app.startAllMicroservices();
  await app.listen(env.HEALTH_PORT, env.HOST);
  new Logger('notifier').log(`health on http://${env.HOST}:${env.HEALTH_PORT}/health/ready`);
}

if (require.main === module) void main();
