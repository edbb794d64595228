import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isExposedSeries, promqlMetricNames, registeredMetrics } from '@app/testing/metric-names';
import { promtool } from '@app/testing/promtool';

const ROOT = join(__dirname, '..', '..');
const DIR = __dirname;
const files = readdirSync(DIR).sort();
const RULE_FILES = files.filter((f) => /\.ya?ml$/.test(f) && !/\.test\.ya?ml$/.test(f));
const TEST_FILES = files.filter((f) => /\.test\.ya?ml$/.test(f));

interface Rule {
  name: string;
  expr: string;
}

/** `record`/`alert` names and their `expr` (plain or block scalar) from a rules file. */
function rulesOf(yaml: string): Rule[] {
  const lines = yaml.split('\n');
  const rules: Rule[] = [];
  let name = '?';
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:- )?(record|alert|expr):\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    const [, indent, key, value] = m as unknown as [string, string, string, string];
    if (key !== 'expr') {
      name = value.replace(/^['"]|['"]$/g, '');
      continue;
    }
    let expr = value;
    if (/^[|>][-+]?$/.test(value)) {
      const col = indent.length + (lines[i]!.trimStart().startsWith('- ') ? 2 : 0);
      const body: string[] = [];
      while (
        i + 1 < lines.length &&
        (lines[i + 1]!.trim() === '' || /^\s*/.exec(lines[i + 1]!)![0].length > col)
      )
        body.push(lines[++i]!);
      expr = body.join('\n');
    } else {
      expr = expr.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
    }
    rules.push({ name, expr });
  }
  return rules;
}

describe('Prometheus rules (infra/prometheus)', () => {
  it('has rule files and promtool unit tests to check', () => {
    expect(RULE_FILES).toContain('alerts.yml');
    expect(TEST_FILES.length).toBeGreaterThan(0);
  });

  it('promtool check rules accepts every rules file', () => {
    expect(promtool(DIR, 'check', 'rules', ...RULE_FILES)).toMatch(/SUCCESS/);
  });

  it('promtool test rules passes (alerts.test.yml)', () => {
    expect(promtool(DIR, 'test', 'rules', ...TEST_FILES)).toMatch(/SUCCESS/);
  });

  it('rules only use metrics the apps register, or series the rules record', async () => {
    const metrics = await registeredMetrics(ROOT);
    const rules = RULE_FILES.flatMap((f) => rulesOf(readFileSync(join(DIR, f), 'utf8')));
    const recorded = new Set(
      RULE_FILES.flatMap((f) =>
        [...readFileSync(join(DIR, f), 'utf8').matchAll(/^\s*- record:\s*(\S+)/gm)].map((m) => m[1]!),
      ),
    );
    expect(rules.length).toBeGreaterThan(10);
    const unknown = rules.flatMap((r) =>
      promqlMetricNames(r.expr)
        .filter((n) => !recorded.has(n) && !isExposedSeries(n, metrics))
        .map((n) => `${r.name}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });
});
