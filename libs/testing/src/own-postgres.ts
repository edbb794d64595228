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
  const script = join(ROOT, 'infra/postgres/postgres.sh');
  const run = (cmd: string) =>
    execFileSync('bash', [script, cmd], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  // Where the script really keeps it (elsewhere than asked when the clone is out of postgres's reach).
  const dataDir = execFileSync('bash', [script, 'data-dir'], { env, encoding: 'utf8' }).trim();
  return {
    url,
    start: () => run('ensure'),
    stop: () => run('stop-private'),
    destroy: () => {
      try {
        run('stop-private');
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A streaming replica of a private server (`postgres.sh start-replica`: pg_basebackup -R, its own
 * port and data directory). `url` names the replica with the primary URL's role and database.
 */
export async function ownReplica(tag: string, primaryUrl: string): Promise<OwnPostgres> {
  const port = await freePort();
  const primary = new URL(primaryUrl);
  const replica = new URL(primaryUrl);
  replica.port = String(port);
  const data = join(ROOT, '.run', `pg-replica-${tag}-${port}`);
  const env = {
    ...process.env,
    PG_PORT: String(port),
    PG_DATA: data,
    PRIMARY_PORT: primary.port,
    OWNER_DATABASE_URL: replica.toString(),
  };
  const script = join(ROOT, 'infra/postgres/postgres.sh');
  const run = (cmd: string) =>
    execFileSync('bash', [script, cmd], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const dataDir = execFileSync('bash', [script, 'data-dir'], { env, encoding: 'utf8' }).trim();
  return {
    url: replica.toString(),
    start: () => run('start-replica'),
    stop: () => run('stop-private'),
    destroy: () => {
      try {
        run('stop-private');
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
