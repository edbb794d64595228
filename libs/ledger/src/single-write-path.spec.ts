import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const SOURCES = ['apps', 'libs', 'infra'];
// SQL that appends to the ledger or changes a conversion's state.
const WRITES =
  /\b(INSERT\s+INTO\s+(ledger_entries|conversions)\b|UPDATE\s+conversions\b|DELETE\s+FROM\s+conversions\b)/i;

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist') continue;
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(p)) yield p;
  }
}

describe('the ledger has one write path', () => {
  it('no code outside libs/ledger appends ledger entries or changes conversions (migrations aside)', () => {
    const offenders: string[] = [];
    for (const top of SOURCES)
      for (const f of files(join(ROOT, top))) {
        const rel = relative(ROOT, f);
        if (rel.startsWith('libs/ledger/') || rel.includes('/migrations/')) continue;
        if (WRITES.test(readFileSync(f, 'utf8'))) offenders.push(rel);
      }
    expect(offenders).toEqual([]);
  });
});
