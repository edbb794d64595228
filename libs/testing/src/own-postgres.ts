import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './app-process';

const ROOT = join(__dirname, '..', '..', '..');

/** A private PostgreSQL server of a fault test's own (own port, own data directory). */
export interface OwnPostgres {
  url: string;
  start(): void;
  stop(): void;
  destroy(): void;
}

export async function ownPostgres(tag: string): Promise<OwnPostgres> {
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/test`;
  const data = join(ROOT, '.run', `pg-test-${tag}-${port}`);
  const env = { ...process.env, PG_PORT: String(port), PG_DATA: data, OWNER_DATABASE_URL: url };
  const run = (cmd: string) =>
    execFileSync('bash', [join(ROOT, 'infra/postgres/postgres.sh'), cmd], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  return {
    url,
    start: () => run('ensure'),
    stop: () => run('stop-private'),
    destroy: () => {
      try {
        run('stop-private');
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
    },
  };
}
