import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './app-process';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * A broker of a fault test's own (own port, own data directory), so stopping it never
 * touches the shared one. Always call `destroy()` in afterAll.
 */
export interface OwnKafka {
  brokers: string[];
  start(): void;
  stop(): void;
  kill(): void;
  destroy(): void;
}

export async function ownKafka(tag: string): Promise<OwnKafka> {
  const port = await freePort();
  let controller = await freePort();
  while (controller === port) controller = await freePort();
  const data = join(ROOT, '.run', `kafka-test-${tag}-${port}`);
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controller),
    KAFKA_DATA: data,
    KAFKA_HEAP: '384m',
  };
  const run = (cmd: string) =>
    execFileSync('bash', [join(ROOT, 'infra/kafka/kafka.sh'), cmd], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  return {
    brokers: [`127.0.0.1:${port}`],
    start: () => run('start'),
    stop: () => run('stop'),
    kill: () => run('kill'),
    destroy: () => {
      try {
        run('kill');
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
    },
  };
}
