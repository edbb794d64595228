import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';

/**
 * docs/asyncapi.json is a valid AsyncAPI 3 document, as the official parser reads it: the
 * specification's JSON Schema, its semantic rules, and the payload files it points at.
 */
/** Errors and warnings fail the test; hints and information do not. */
const SEVERE: number[] = [DiagnosticSeverity.Error, DiagnosticSeverity.Warning];

describe('AsyncAPI document validity', () => {
  const path = join(__dirname, '..', '..', '..', 'docs', 'asyncapi.json');

  it('parses without errors or warnings, resolving every payload schema file', async () => {
    const { document, diagnostics } = await new Parser().parse(readFileSync(path, 'utf8'), {
      source: path,
    });
    const problems = diagnostics
      .filter((d) => SEVERE.includes(d.severity))
      .map((d) => `${d.code} at ${d.path.join('.') || '(root)'}: ${d.message}`);
    expect(problems).toEqual([]);
    expect(document).toBeDefined();
    // The $refs to libs/contracts/src/schemas/ were followed: those payloads are the files' schemas.
    const raw = JSON.parse(readFileSync(path, 'utf8')) as {
      components: { messages: Record<string, { payload: { $ref?: string } }> };
    };
    const referenced = Object.entries(raw.components.messages).filter(([, m]) => m.payload.$ref);
    expect(referenced.length).toBeGreaterThan(0);
    for (const [id, m] of referenced) {
      const file = JSON.parse(readFileSync(join(path, '..', m.payload.$ref!), 'utf8')) as { title: string };
      const payload = document!.components().messages().get(id)?.payload();
      expect({ id, title: payload?.title(), type: payload?.type() }).toEqual({
        id,
        title: file.title,
        type: 'object',
      });
    }
  });
});
