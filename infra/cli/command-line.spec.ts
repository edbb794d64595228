import { COMMANDS } from './commands';
import { type ParsedCommand, parseCommandLine, UsageError } from './command-line';
import { ledger } from './ledger';

/** One working command line per subcommand: what docs/cli.md shows. */
const EXAMPLES: Record<string, string[]> = {
  'report reconciliation': [
    '--from',
    '2026-01-01',
    '--to',
    '2026-01-31',
    '--group-by',
    'day,offer',
    '--format',
    'csv',
  ],
  'report soft-rejects': ['--from', '2026-01-01', '--to', '2026-01-01', '--partner', 'p1'],
  'report latency': ['--from', '2026-01-01', '--to', '2026-01-01', '--json'],
  'review list': ['--reason', 'fraud_suspected', '--limit', '20'],
  'review show': ['cv_01J0000000000000000000000'],
  'review approve': ['cv_01J0000000000000000000000', '--note', 'checked the device'],
  'review reject': ['cv_01J0000000000000000000000', '--note', 'bot', '--operator', 'anna'],
  'projections rebuild': [],
  'projections check': ['--json'],
  'launch-check': ['--from', '2026-01-01', '--to', '2026-01-07', '--offer', 'o1'],
  'trial-balance': ['--format', 'json'],
  'dispute import': ['--file', 'nov.csv', '--partner', 'network-1', '--columns', 'transaction_id=txid'],
  'dispute show': ['7', '--open', '--format', 'json'],
  'dispute resolve': ['7', '3', '--adjust', '-1.25', '--note', 'rate card v3'],
  'rates import': ['rates-2026-01.csv', '--replace', '--dry-run'],
  'rates list': ['--base', 'USD', '--quote', 'EUR', '--from', '2026-01-01', '--to', '2026-01-31'],
  'rules payout add': ['--offer', 'o1', '--publisher', 'pub-1', '--amount', '1.50', '--note', 'launch deal'],
  'rules payout list': ['--offer', 'o1', '--at', '2026-12-01T00:00:00Z'],
  'rules reward add': [
    '--publisher',
    'pub-1',
    '--currency-name',
    'coins',
    '--per-unit',
    '100',
    '--rounding',
    'floor',
  ],
  'rules reward list': ['--publisher', 'pub-1'],
  'tokens create': ['--name', 'alice', '--role', 'reviewer'],
  'tokens list': ['--all'],
  'tokens revoke': ['--name', 'alice'],
  'secrets status': [],
  'secrets reencrypt': [],
  'secrets new-key': ['--id', 'k2026a'],
  'dead-letters list': ['--json'],
  'dead-letters replay': ['--yes'],
  'dead-letters exhausted': [],
  'dead-letters exhausted replay': ['--event', 'A', '--event', 'B', '--yes'],
  'deliveries list': ['--status', 'dead', '--limit', '10'],
  'deliveries state': ['pub-1'],
  'deliveries replay': ['--yes', '--entry', 'e1,e2'],
  'deliveries resume': ['pub-1'],
  'traffic generate': ['--out', '-', '--clicks', '100', '--seed', '7'],
  'traffic replay': ['--file', 'f.ndjson', '--admin-token', 'a', '--replay-token', 'r', '--speed', 'max'],
  'traffic verify': ['--file', 'f.ndjson', '--json'],
  'topics provision': [],
};

const withoutFormat = (line: string[]) => {
  const i = line.indexOf('--format');
  return i < 0 ? line : [...line.slice(0, i), ...line.slice(i + 2)];
};
const parse = (line: string[]) => parseCommandLine(line, COMMANDS, undefined, { disputes: 'dispute' });
const parsed = (line: string[]) => {
  const r = parse(line);
  if ('help' in r) throw new Error('help, not a command');
  return r as ParsedCommand;
};
const usageOf = (line: string[]) => {
  try {
    parse(line);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error(`accepted: ${line.join(' ')}`);
};

describe('ledger command line', () => {
  it('has an example for every subcommand', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(COMMANDS.map((c) => c.path.join(' ')).sort());
  });

  describe.each(COMMANDS.map((c) => [c.path.join(' '), c] as const))('%s', (name, spec) => {
    const words = name.split(' ');

    it('accepts its example', () => {
      const p = parsed([...words, ...EXAMPLES[name]!]);
      expect(p.spec).toBe(spec);
      expect(p.args).toHaveLength(spec.args?.length ?? 0);
    });

    it.each([['--help'], ['-h']])('prints its usage on %s, even after other options', (flag) => {
      for (const line of [
        [...words, flag],
        [...words, ...EXAMPLES[name]!, flag],
      ]) {
        const r = parse(line);
        expect('help' in r && r.help).toMatch(new RegExp(`^usage: ledger ${name}`));
        if ('help' in r) {
          for (const o of Object.keys(spec.options)) expect(r.help).toContain(`--${o}`);
          expect(r.help).toContain('exit codes:');
        }
      }
    });

    it('refuses an unknown option, naming the command', () => {
      expect(usageOf([...words, ...EXAMPLES[name]!, '--bogus'])).toBe(
        `ledger ${name}: unknown option --bogus`,
      );
      expect(usageOf([...words, ...EXAMPLES[name]!, '-x'])).toBe(`ledger ${name}: unknown option -x`);
    });

    it('refuses a missing required option or argument, and an extra argument', () => {
      const required = Object.entries(spec.options).filter(([, o]) => o.required);
      for (const [k] of required) {
        const ex = EXAMPLES[name]!;
        const i = ex.indexOf(`--${k}`);
        const without = [...ex.slice(0, i), ...ex.slice(i + 2)];
        expect(usageOf([...words, ...without])).toMatch(`--${k}`);
      }
      if (spec.args?.length) expect(usageOf(words)).toMatch(/: give </);
      else expect(usageOf([...words, ...EXAMPLES[name]!, 'extra'])).toMatch(/unexpected argument 'extra'/);
    });

    it(spec.json ? 'takes --json' : 'prints no data, so has no --json', () => {
      if (!spec.json)
        expect(usageOf([...words, ...EXAMPLES[name]!, '--json'])).toMatch(/unknown option --json/);
      else expect(parsed([...words, ...withoutFormat(EXAMPLES[name]!), '--json']).json).toBe(true);
    });
  });

  it('lists every subcommand on --help, -h and a group --help', () => {
    for (const flag of ['--help', '-h']) {
      const r = parse([flag]);
      expect('help' in r && r.help).toMatch(/^usage: ledger <command>/);
      for (const c of COMMANDS) expect('help' in r && r.help).toContain(`ledger ${c.path.join(' ')}`);
    }
    const group = parse(['dispute', '--help']);
    expect('help' in group && group.help).toMatch(
      /ledger dispute import[\s\S]*ledger dispute resolve <id> <item>/,
    );
  });

  it('refuses an unknown command or subcommand, and a bare group', () => {
    expect(usageOf([])).toBe('a command is required');
    expect(usageOf(['nope'])).toBe("unknown command 'nope'");
    expect(usageOf(['report', 'nope'])).toBe(
      "ledger report: unknown subcommand 'nope' (reconciliation, soft-rejects, latency)",
    );
    expect(usageOf(['tokens'])).toBe('ledger tokens: a subcommand is required (create, list, revoke)');
  });

  it('reads values, switches, repeats, --x=y and old group names', () => {
    const p = parsed(['disputes', 'show', '7', '--format=csv', '--open']);
    expect(p.spec.path).toEqual(['dispute', 'show']);
    expect(Object.fromEntries(p.opts)).toEqual({ format: 'csv', open: 'true' });
    expect(p.json).toBe(false);
    expect(
      parsed(['dead-letters', 'exhausted', 'replay', '--event', 'A', '--event=B']).lists.get('event'),
    ).toEqual(['A', 'B']);
    expect(parsed(['dead-letters', 'exhausted']).spec.path).toEqual(['dead-letters', 'exhausted']);
  });

  it('makes --json the same as --format json, and refuses both disagreeing', () => {
    const p = parsed(['launch-check', '--from', '2026-01-01', '--to', '2026-01-02', '--json']);
    expect(p.opts.get('format')).toBe('json');
    expect(
      parsed(['launch-check', '--from', '2026-01-01', '--to', '2026-01-02', '--format', 'json']).json,
    ).toBe(true);
    expect(usageOf(['dispute', 'show', '7', '--format', 'csv', '--json'])).toMatch(
      /--json and --format csv disagree/,
    );
  });

  it.each([
    [
      ['report', 'latency', '--from', '2026-01-01', '--to', '2026-01-02', '--format', 'csv'],
      '--format must be table or json',
    ],
    [['report', 'reconciliation', '--from', 'yesterday', '--to', '2026-01-02'], '--from must be a UTC day'],
    [
      ['report', 'reconciliation', '--from', '2026-01-03', '--to', '2026-01-02'],
      '--from must not be after to',
    ],
    [
      ['report', 'reconciliation', '--from', '2026-01-01', '--to', '2026-01-02', '--group-by', 'colour'],
      "unknown dimension 'colour'",
    ],
    [['review', 'list', '--limit', '0'], '--limit must be 1..1000'],
    [['review', 'approve', 'cv_x', '--note'], '--note needs a value'],
    [['review', 'approve', 'cv_x', '--note', '--operator', 'a'], '--note needs a value'],
    [['dispute', 'import', '--file', 'f.csv'], 'give --partner or --publisher'],
    [['dispute', 'import', '--file', 'f.csv', '--partner', 'p', '--columns', 'bogus=x'], '--columns'],
    [['dispute', 'resolve', '7', 'x', '--dismiss', '--note', 'n'], '<item> must be an item number'],
    [['dispute', 'resolve', '7', '3', '--note', 'n'], 'give --adjust AMOUNT or --dismiss'],
    [['dispute', 'resolve', '7', '3', '--adjust', '0', '--note', 'n'], '--adjust needs a non-zero'],
    [['dispute', 'show', '7', '--open=yes'], '--open takes no value'],
    [['tokens', 'list', '--all', '--all'], '--all given twice'],
    [['deliveries', 'list', '--limit', 'many'], '--limit must be a positive integer'],
    [['traffic', 'generate', '--out', '-', '--clicks', 'many'], '--clicks must be a non-negative integer'],
    [
      ['traffic', 'replay', '--file', 'f', '--admin-token', 'a', '--replay-token', 'r', '--speed', '0'],
      '--speed must be',
    ],
  ])('refuses bad values: %j', (line, message) => {
    expect(usageOf(line)).toContain(message);
  });

  it('names an old entry point by its own name', () => {
    const program = { name: 'dead-letters', group: 'dead-letters' };
    expect(() => parseCommandLine(['exhausted', 'replay', '--bogus'], COMMANDS, program)).toThrow(
      'dead-letters exhausted replay: unknown option --bogus',
    );
    const r = parseCommandLine(['list', '--help'], COMMANDS, program);
    expect('help' in r && r.help).toMatch(/^usage: dead-letters list/);
  });
});

describe('ledger()', () => {
  let stdout: jest.SpyInstance;
  let stderr: jest.SpyInstance;
  const written = (s: jest.SpyInstance) => s.mock.calls.map((c) => String(c[0])).join('');
  beforeEach(() => {
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stdout.mockRestore();
    stderr.mockRestore();
  });

  it.each(COMMANDS.map((c) => [c.path.join(' ')]))('%s --help: usage on stdout, exit 0', async (name) => {
    expect(await ledger([...name.split(' '), '--help'])).toBe(0);
    expect(written(stdout)).toMatch(new RegExp(`^usage: ledger ${name}`));
    expect(written(stderr)).toBe('');
  });

  it.each([
    [['--bogus'], /^ledger: unknown command '--bogus'|^ledger: a command is required/],
    [['nope'], /^ledger: unknown command 'nope' \('ledger --help' lists the commands\)\n$/],
    [
      ['report', 'nope'],
      /^ledger report: unknown subcommand 'nope' .*\('ledger report --help' lists the commands\)\n$/,
    ],
    [
      ['tokens', 'list', '--bogus'],
      /^ledger tokens list: unknown option --bogus \(usage: ledger tokens list \[--all\] \[--json\]\)\n$/,
    ],
    [
      ['traffic', 'generate', '--clicks', '1'],
      /^ledger traffic generate: --out is required \(usage: ledger traffic generate --out <string> \[options\]\)\n$/,
    ],
  ])('%j: one line on stderr, nothing on stdout, exit 2', async (line, message) => {
    expect(await ledger(line)).toBe(2);
    expect(written(stdout)).toBe('');
    expect(written(stderr)).toMatch(message);
    expect(written(stderr).trimEnd().split('\n')).toHaveLength(1);
  });

  it('an old entry point says its own usage (dead-letters)', async () => {
    expect(
      await ledger(['exhausted', 'replay', '--bogus'], { name: 'dead-letters', group: 'dead-letters' }),
    ).toBe(2);
    expect(written(stderr)).toContain('usage: dead-letters exhausted replay');
  });
});
