import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, freePort, poll, spawnApp, uniquePrefix } from '@app/testing';

/** Run from source (ts-node, jest), as bench/ is: @app/testing spawns the built apps in dist/. */
export const ROOT = join(__dirname, '..', '..');

/** The documents the gateway serves, and where each is checked in. */
export const DOCUMENTS = [
  { url: '/docs/openapi.json', file: 'docs/openapi.json' },
  { url: '/docs/admin/openapi.json', file: 'docs/openapi-admin.json' },
] as const;

export const REGENERATE = 'npm run openapi:write';

export type OpenApiDocument = { paths: Record<string, Record<string, unknown>> } & Record<string, unknown>;

/** The served documents, by checked-in file name (/docs/admin needs an operator token). */
export async function fetchServedDocs(
  gatewayUrl: string,
  operatorToken: string,
): Promise<Record<string, OpenApiDocument>> {
  const out: Record<string, OpenApiDocument> = {};
  for (const d of DOCUMENTS) {
    const r = await fetch(`${gatewayUrl}${d.url}`, { headers: { authorization: `Bearer ${operatorToken}` } });
    if (r.status !== 200) throw new Error(`GET ${d.url}: ${r.status}`);
    out[d.file] = (await r.json()) as OpenApiDocument;
  }
  return out;
}

export function readCheckedIn(file: string): OpenApiDocument {
  return JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as OpenApiDocument;
}

/**
 * The built gateway alone on a fresh database (no Kafka needed: the documents do not depend
 * on it), until stop().
 */
export async function docsGateway(token: string): Promise<{ url: string; stop(): Promise<void> }> {
  const db = await createTestDatabase();
  const port = await freePort();
  const gateway = spawnApp('gateway', {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS || '127.0.0.1:9092',
    TOPIC_PREFIX: uniquePrefix('openapi'),
    PORT: String(port),
    ADMIN_TOKEN: token,
    LOG_LEVEL: 'warn',
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await gateway.stop();
    await db.drop();
  };
  try {
    await poll('gateway answering', async () => {
      if (gateway.proc.exitCode !== null) throw new Error(`gateway exited:\n${gateway.logs()}`);
      return (await fetch(`${url}/health/live`).catch(() => undefined))?.status === 200 || undefined;
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, stop };
}
