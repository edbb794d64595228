import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { DOCUMENTS, docsGateway, fetchServedDocs, type OpenApiDocument, ROOT } from './served-docs';

/** Writes a document as `npm run lint` (prettier) wants it. */
async function writeCheckedIn(file: string, doc: OpenApiDocument): Promise<void> {
  const path = join(ROOT, file);
  const options = (await resolveConfig(path)) ?? {};
  writeFileSync(path, await format(JSON.stringify(doc), { ...options, parser: 'json' }));
}

/**
 * `npm run openapi:write`: starts the built gateway on a fresh database and writes the OpenAPI
 * documents it serves to docs/ (test/openapi.e2e-spec.ts fails while they differ).
 */
async function main(): Promise<void> {
  const token = 'openapi-write-token-0123456789';
  const gateway = await docsGateway(token);
  try {
    const docs = await fetchServedDocs(gateway.url, token);
    for (const d of DOCUMENTS) {
      await writeCheckedIn(d.file, docs[d.file]!);
      console.log(`wrote ${d.file} (${Object.keys(docs[d.file]!.paths).length} paths)`);
    }
  } finally {
    await gateway.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
