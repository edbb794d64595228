import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import ts from 'typescript';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

export interface RegisteredMetric {
  type: MetricType;
  /** Where it is defined (`prom-client` for the process defaults). */
  definedIn: string;
}

const KINDS: Record<string, MetricType> = {
  Counter: 'counter',
  Gauge: 'gauge',
  Histogram: 'histogram',
  Summary: 'summary',
};

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') yield* sourceFiles(p);
    } else if (p.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(p) && !p.endsWith('.d.ts')) {
      yield p;
    }
  }
}

const stringValue = (n: ts.Node): string | undefined =>
  ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) ? n.text : undefined;

function property(obj: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  for (const p of obj.properties)
    if (ts.isPropertyAssignment(p) && p.name.getText() === name) return p.initializer;
  return undefined;
}

interface Pending {
  /** `${what.name}_refresh_errors_total`: prefix + (the `name` a subclass passes to super) + suffix. */
  head: string;
  tail: string;
  className: string;
  type: MetricType;
  file: string;
}

/**
 * Every Prometheus metric the code registers, read from its definitions: each
 * `new Counter|Gauge|Histogram|Summary({ name })` of prom-client under `dirs` (apps, libs), plus
 * prom-client's default process metrics. A name built from a template (`${what.name}_suffix` in a
 * base class) is resolved through the `name` each subclass passes to `super(...)`; a name that
 * cannot be resolved throws, so nothing is silently missed.
 */
export async function registeredMetrics(
  root: string,
  dirs: readonly string[] = ['apps', 'libs'],
): Promise<Map<string, RegisteredMetric>> {
  const out = new Map<string, RegisteredMetric>();
  const pending: Pending[] = [];
  // class name -> `name` values its subclasses pass up in super(...)
  const superNames = new Map<string, string[]>();

  for (const dir of dirs)
    for (const file of sourceFiles(join(root, dir))) {
      const text = readFileSync(file, 'utf8');
      const rel = relative(root, file);
      const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
      const importsPromClient = src.statements.some(
        (s) => ts.isImportDeclaration(s) && stringValue(s.moduleSpecifier) === 'prom-client',
      );
      const visit = (node: ts.Node, cls: ts.ClassLikeDeclaration | undefined): void => {
        if (ts.isClassLike(node)) {
          cls = node;
          const base = node.heritageClauses
            ?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)
            ?.types[0]?.expression.getText();
          if (base) {
            const names: string[] = [];
            const findSuper = (n: ts.Node): void => {
              if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.SuperKeyword)
                for (const arg of n.arguments)
                  if (ts.isObjectLiteralExpression(arg)) {
                    const v = property(arg, 'name');
                    const s = v && stringValue(v);
                    if (s) names.push(s);
                  }
              ts.forEachChild(n, findSuper);
            };
            findSuper(node);
            superNames.set(base, [...(superNames.get(base) ?? []), ...names]);
          }
        }
        if (
          importsPromClient &&
          ts.isNewExpression(node) &&
          ts.isIdentifier(node.expression) &&
          KINDS[node.expression.text] &&
          node.arguments?.[0] &&
          ts.isObjectLiteralExpression(node.arguments[0])
        ) {
          const type = KINDS[node.expression.text]!;
          const nameExpr = property(node.arguments[0], 'name');
          const literal = nameExpr && stringValue(nameExpr);
          const at = `${rel}:${src.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
          if (literal) out.set(literal, { type, definedIn: at });
          else if (
            nameExpr &&
            ts.isTemplateExpression(nameExpr) &&
            nameExpr.templateSpans.length === 1 &&
            cls?.name
          ) {
            pending.push({
              head: nameExpr.head.text,
              tail: nameExpr.templateSpans[0]!.literal.text,
              className: cls.name.text,
              type,
              file: at,
            });
          } else {
            throw new Error(`${at}: metric name ${nameExpr?.getText() ?? '(none)'} is not a literal`);
          }
        }
        ts.forEachChild(node, (child) => visit(child, cls));
      };
      visit(src, undefined);
    }

  for (const p of pending) {
    const names = superNames.get(p.className) ?? [];
    if (names.length === 0)
      throw new Error(`${p.file}: no subclass of ${p.className} passes a literal name to super()`);
    for (const n of names) out.set(`${p.head}${n}${p.tail}`, { type: p.type, definedIn: p.file });
  }

  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  for (const m of await defaults.getMetricsAsJSON())
    out.set(m.name, { type: m.type as unknown as MetricType, definedIn: 'prom-client' });
  return out;
}

/**
 * Whether `series` is a name Prometheus scrapes from a registered metric: the metric itself, or
 * a histogram's / summary's `_bucket`, `_sum`, `_count` series.
 */
export function isExposedSeries(series: string, metrics: ReadonlyMap<string, RegisteredMetric>): boolean {
  if (metrics.has(series)) return true;
  const m = /^(.+)_(bucket|sum|count)$/.exec(series);
  const base = m && metrics.get(m[1]!);
  if (!base) return false;
  return base.type === 'histogram' || (base.type === 'summary' && m[2] !== 'bucket');
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects (Grafana variables allowed). Strings, label
 * matchers, ranges, grouping labels and function names are not metric names. Selecting by
 * `__name__` is refused: a test could not tell which metrics it means.
 */
export function promqlMetricNames(expr: string): string[] {
  if (/__name__/.test(expr)) throw new Error(`select metrics by name, not __name__: ${expr}`);
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{[^}]*\}|\$[A-Za-z0-9_]+/g, ' ')
    .replace(/#[^\n]*/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?[0-9a-z]+/g, ' ')
    .replace(/@\s*[0-9.a-z_()]+/g, ' ');
  const names = new Set<string>();
  const token = /(\d+(?:\.\d*)?(?:e[+-]?\d+)?|0x[0-9a-f]+)|([A-Za-z_:][A-Za-z0-9_:]*)/gi;
  for (let m = token.exec(s); m; m = token.exec(s)) {
    const id = m[2];
    if (!id || KEYWORDS.has(id.toLowerCase())) continue;
    if (/^\s*\(/.test(s.slice(token.lastIndex))) continue; // a function or aggregation
    names.add(id);
  }
  return [...names];
}
