import { main } from '../cli/traffic';
import { parseFlags, UsageError } from './args';
import { generateSpecs } from './generate.command';

describe('parseFlags', () => {
  it('reads --name value and --name=value into camelCase keys, with defaults', () => {
    const f = parseFlags(['--out', 'x.ndjson', '--span-hours=2.5', '--seed', '9'], generateSpecs);
    expect(f).toMatchObject({ out: 'x.ndjson', spanHours: 2.5, seed: 9, clicks: 20000 });
  });

  it.each([
    [['--seed', '1'], '--out is required'],
    [['--out', 'f', '--bogus', '1'], 'unknown option --bogus'],
    [['--out', 'f', 'extra'], 'unexpected argument extra'],
    [['--out'], '--out needs a value'],
    [['--out', 'f', '--seed', '--clicks', '3'], '--seed needs a value'],
    [['--out', 'f', '--clicks', '-5'], '--clicks must be a non-negative integer'],
    [['--out', 'f', '--duplicate-rate', '1.5'], '--duplicate-rate must be a rate between 0 and 1'],
    [['--out', 'f', '--start', 'tomorrow'], '--start must be an ISO 8601 UTC time'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseFlags(argv, generateSpecs)).toThrow(UsageError);
    expect(() => parseFlags(argv, generateSpecs)).toThrow(message);
  });
});

describe('traffic CLI', () => {
  let stderr: jest.SpyInstance;
  beforeEach(() => {
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => stderr.mockRestore());

  it.each([
    [[]],
    [['nope']],
    [['generate', '--clicks', 'many']],
    [['replay', '--speed', '0', '--file', 'f']],
  ])('exits 2 with the usage on %j', async (argv) => {
    expect(await main(argv)).toBe(2);
    expect(String(stderr.mock.calls.map((c) => c[0]).join(''))).toMatch(/usage: traffic/);
  });
});
