import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * A worked example from a guide in docs/, so a unit test can recompute it: the fenced block
 * between `<!-- name:start -->` and `<!-- name:end -->`, read as `key: value` lines.
 */
/** A document under docs/ (path from the repository root), as text. */
export const docText = (docPath: string): string => readFileSync(join(ROOT, docPath), 'utf8');

export function docExample(docPath: string, name: string): Record<string, string> {
  const doc = docText(docPath);
  const m = new RegExp(`<!-- ${name}:start -->\\s*\`\`\`\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`).exec(
    doc,
  );
  if (!m?.[1]) throw new Error(`no ${name} block in ${docPath}`);
  return Object.fromEntries(
    m[1]
      .trim()
      .split('\n')
      .map((l) => {
        const i = l.indexOf(':');
        return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
      }),
  );
}
