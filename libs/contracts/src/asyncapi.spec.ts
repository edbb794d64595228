import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPIC_SPECS } from './topics';

/** docs/asyncapi.json must name every topic and point at schema files that exist. */
describe('AsyncAPI document', () => {
  const docsDir = join(__dirname, '..', '..', '..', 'docs');
  const doc = JSON.parse(readFileSync(join(docsDir, 'asyncapi.json'), 'utf8')) as {
    asyncapi: string;
    channels: Record<string, { address: string }>;
    components: { messages: Record<string, { payload: { $ref?: string } }> };
  };

  it('lists every provisioned topic, and only those', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(
      Object.values(doc.channels)
        .map((c) => c.address)
        .sort(),
    ).toEqual(TOPIC_SPECS.map((t) => t.name).sort());
  });

  it('points every message at a published schema file', () => {
    const refs = Object.values(doc.components.messages).flatMap((m) =>
      m.payload.$ref ? [m.payload.$ref] : [],
    );
    expect(refs).toHaveLength(5);
    for (const ref of refs) expect(existsSync(join(docsDir, ref))).toBe(true);
  });
});
