import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  adminClient,
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
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface RunningSystem {
  admin: ReturnType<typeof adminClient>;
  gatewayUrl: string;
  processorUrl: string;
  db: TestDatabase;
  prefix: string;
  gateway: AppProcess;
  processor: AppProcess;
  /** Stops the processor (kill -9 by default) and starts a new one on the same settings plus `env`. */
  restartProcessor(signal?: NodeJS.Signals, env?: Record<string, string>): Promise<AppProcess>;
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
    ADMIN_TOKEN,
    CATALOG_REFRESH_MS: '200',
    ...opts.env,
  };
  const gateway = spawnApp('gateway', { ...common, PORT: String(port) });
  let processor = spawnApp('processor', { ...common, HEALTH_PORT: String(healthPort) });
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
  const sys: RunningSystem = {
    admin: adminClient(gatewayUrl, ADMIN_TOKEN),
    gatewayUrl,
    processorUrl,
    db,
    prefix,
    gateway,
    processor,
    restartProcessor: async (signal = 'SIGKILL', env = {}) => {
      await sys.processor.stop(signal);
      processor = spawnApp('processor', { ...common, HEALTH_PORT: String(healthPort), ...env });
      sys.processor = processor;
      await waitReady(processor, `${processorUrl}/health/ready`);
      return processor;
    },
    stop,
  };
  return sys;
}

/** One offer, publisher and HMAC partner, created through the admin API. */
export async function seedCatalog(sys: RunningSystem, tag = 'a') {
  const ids = {
    offer: `offer-${tag}`,
    publisher: `pub-${tag}`,
    partner: `partner-${tag}`,
    secret: `secret-${tag}-0123456789abcdef-0123456789abcdef`,
  };
  const results = [
    await sys.admin('POST', '/v1/admin/publishers', { id: ids.publisher, name: 'Publisher' }),
    await sys.admin('POST', '/v1/admin/offers', {
      id: ids.offer,
      name: 'Offer',
      landing_url: 'https://adv.example/land?c={click_id}&p={pub}&s={sub1}',
      payout: '1.25',
      currency: 'USD',
    }),
    await sys.admin('POST', '/v1/admin/partners', {
      id: ids.partner,
      name: 'Partner',
      auth: { mode: 'hmac', secret: ids.secret },
    }),
  ];
  for (const r of results)
    if (r.status !== 201) throw new Error(`seeding failed: ${r.status} ${JSON.stringify(r.body)}`);
  return ids;
}

/** `npm run ledger -- <args>` against the test database (the operator CLI), its stdout. */
export function ledgerCli(dbUrl: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync(
    process.execPath,
    [join(__dirname, '..', 'dist', 'infra', 'cli', 'ledger.js'), ...args],
    {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: dbUrl, USER: 'test-ops', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  ).toString();
}

/** A named operator token made by the CLI (`ledger tokens create`), as an operator would get one. */
export function operatorToken(
  sys: RunningSystem,
  name: string,
  role: 'viewer' | 'reviewer' | 'admin',
): string {
  return ledgerCli(sys.db.url, ['tokens', 'create', '--name', name, '--role', role]).trim();
}
