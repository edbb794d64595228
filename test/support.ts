import {
  type AppProcess,
  createTestDatabase,
  createTestTopics,
  freePort,
  spawnApp,
  type TestDatabase,
  TEST_BROKERS,
  uniquePrefix,
  waitReady,
} from '@app/testing';

/** The gateway and the processor as real processes on their own database and topic prefix. */
export interface RunningSystem {
  gatewayUrl: string;
  processorUrl: string;
  db: TestDatabase;
  prefix: string;
  gateway: AppProcess;
  processor: AppProcess;
  stop(): Promise<void>;
}

export async function startSystem(
  tag: string,
  opts: { brokers?: string[]; env?: Record<string, string> } = {},
): Promise<RunningSystem> {
  const brokers = opts.brokers ?? TEST_BROKERS;
  const prefix = uniquePrefix(tag);
  const db = await createTestDatabase();
  const topics = await createTestTopics(prefix, brokers);
  const [port, healthPort] = [await freePort(), await freePort()];
  const common = {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: brokers.join(','),
    TOPIC_PREFIX: prefix,
    LOG_LEVEL: 'log',
    ...opts.env,
  };
  const gateway = spawnApp('gateway', { ...common, PORT: String(port) });
  const processor = spawnApp('processor', { ...common, HEALTH_PORT: String(healthPort) });
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const processorUrl = `http://127.0.0.1:${healthPort}`;
  const stop = async () => {
    await Promise.all([gateway.stop(), processor.stop()]);
    await db.drop().catch(() => undefined);
    await topics.drop().catch(() => undefined);
  };
  try {
    await waitReady(gateway, `${gatewayUrl}/health/ready`);
    await waitReady(processor, `${processorUrl}/health/ready`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { gatewayUrl, processorUrl, db, prefix, gateway, processor, stop };
}
