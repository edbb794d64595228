import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { appLogger, ConfigError, loadEnv } from '@app/config';
import { KafkaBatchServer } from '@app/kafka';
import { ProcessorEnv } from './processor.env';
import { ProcessorModule } from './processor.module';

/** The processing worker: Kafka consumer group member, plus an HTTP port for health. */
export async function createProcessor(env: ProcessorEnv): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    ProcessorModule.register(env),
    new FastifyAdapter(),
    {
      logger: appLogger(env, 'processor'),
    },
  );
  app.connectMicroservice({ strategy: app.get(KafkaBatchServer) }, { inheritAppConfig: true });
  app.enableShutdownHooks();
  return app;
}

async function main(): Promise<void> {
  let env: ProcessorEnv;
  try {
    env = loadEnv(ProcessorEnv);
  } catch (e) {
    console.error(e instanceof ConfigError ? `processor: ${e.message}` : e);
    process.exit(2);
  }
  const app = await createProcessor(env);
  await app.startAllMicroservices();
  await app.listen(env.HEALTH_PORT, env.HOST);
  new Logger('processor').log(`health on http://${env.HOST}:${env.HEALTH_PORT}/health/ready`);
}

if (require.main === module) void main();
