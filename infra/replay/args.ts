/** A command line the user got wrong: the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagKind = 'int' | 'number' | 'rate' | 'string' | 'time' | 'speed';

export interface FlagSpec {
  kind: FlagKind;
  help: string;
  /** Absent: the flag is required. */
  default?: string | number;
}

export type Flags = Record<string, string | number>;

const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Parses `--name value` / `--name=value` flags into camelCase keys, checking each value's kind.
 * Unknown flags, missing values and bad values are UsageErrors naming the flag.
 */
export function parseFlags(argv: string[], specs: Record<string, FlagSpec>): Flags {
  const byFlag = new Map(Object.keys(specs).map((k) => [`--${kebab(k)}`, k]));
  const out: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = byFlag.get(flag);
    if (!key)
      throw new UsageError(arg.startsWith('--') ? `unknown option ${flag}` : `unexpected argument ${arg}`);
    const raw = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined || (eq < 0 && raw.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    out[key] = convert(flag, raw, specs[key]!.kind);
  }
  for (const [key, spec] of Object.entries(specs)) {
    if (out[key] !== undefined) continue;
    if (spec.default === undefined) throw new UsageError(`--${kebab(key)} is required`);
    out[key] = spec.default;
  }
  return out;
}

function convert(flag: string, raw: string, kind: FlagKind): string | number {
  const bad = (what: string) => new UsageError(`${flag} must be ${what}, got "${raw}"`);
  switch (kind) {
    case 'int': {
      if (!/^\d{1,9}$/.test(raw)) throw bad('a non-negative integer');
      return Number(raw);
    }
    case 'number':
    case 'rate': {
      const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw bad('a non-negative number');
      if (kind === 'rate' && n > 1) throw bad('a rate between 0 and 1');
      return n;
    }
    case 'speed': {
      if (raw === 'max') return raw;
      const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
      if (!(n > 0)) throw bad('a positive factor (3600 = an hour per second) or "max"');
      return n;
    }
    case 'time': {
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z$/.test(raw) || Number.isNaN(Date.parse(raw)))
        throw bad('an ISO 8601 UTC time such as 2026-01-05T00:00:00Z');
      return new Date(raw).toISOString();
    }
    case 'string':
      if (raw === '') throw bad('non-empty');
      return raw;
  }
}

/** The usage text of a command's flags, one per line. */
export function describeFlags(specs: Record<string, FlagSpec>): string {
  return Object.entries(specs)
    .map(([k, s]) => {
      const name = `--${kebab(k)} <${s.kind}>`;
      const def = s.default === undefined ? ' (required)' : ` (default ${s.default})`;
      return `  ${name.padEnd(34)} ${s.help}${def}`;
    })
    .join('\n');
}
