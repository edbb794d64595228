import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { COMMANDS } from '../infra/cli/commands';

/**
 * The `ledger` command (bin/ledger, the package's bin) as an operator runs it: a child process
 * against a fresh database. Help and bad usage on every subcommand, JSON on stdout, and large
 * output that arrives whole through a pipe whose reader is slow or goes away.
 */
const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'ledger');

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Reads a stream one chunk per turn of the event loop, starting only once `start` resolves. */
async function readSlowly(stream: Readable, start: Promise<unknown>): Promise<string> {
  stream.pause();
  await start;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    await new Promise((r) => setImmediate(r));
  }
  return Buffer.concat(chunks).toString();
}

/**
 * Runs the CLI. `slow`: stdout is read one chunk per turn of the event loop, and only once
 * stderr matches `slow.after` (if given).
 */
function run(
  args: string[],
  env: Record<string, string>,
  opts: { command?: string; slow?: { after?: RegExp } } = {},
): Promise<Run> {
  const child = spawn(opts.command ?? BIN, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', USER: 'cli-test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const after = opts.slow?.after;
  let seen: () => void = () => undefined;
  const stderrMatched = new Promise<void>((resolve) => (seen = resolve));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (!after || after.test(err)) seen();
  });
  // A CLI that fails before printing it: read what there is rather than wait forever.
  child.on('exit', () => seen());
  const out = opts.slow
    ? readSlowly(child.stdout, after ? stderrMatched : Promise.resolve())
    : new Promise<string>((resolve) => {
        let s = '';
        child.stdout.on('data', (d: Buffer) => (s += d.toString()));
        child.stdout.on('end', () => resolve(s));
      });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      void out.then((o) => resolve({ code, out: o, err }));
    });
  });
}

describe('ledger CLI (bin/ledger)', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
  const ledger = (...args: string[]) => run(args, env);

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, OWNER_DATABASE_URL: db.ownerUrl };
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('npx ledger --help: the package bin prints the commands on stdout, exit 0', async () => {
    const r = await run(['ledger', '--help'], env, { command: 'npx' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: ledger <command>/);
    for (const c of COMMANDS) expect(r.out).toContain(`ledger ${c.path.join(' ')}`);
    expect(r.out).toContain('exit codes:');
  });

  it('every subcommand prints its usage on --help and -h, exit 0', async () => {
    // Four processes at a time: each is a whole `bin/ledger` start, and there are dozens.
    const queue = [...COMMANDS];
    const answers: { name: string; code: number | null; usage: string | undefined }[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          const r = await ledger(...c.path, c.path.length % 2 ? '--help' : '-h');
          answers.push({ name: c.path.join(' '), code: r.code, usage: r.out.split('\n')[0] });
        }
      }),
    );
    expect(answers).toHaveLength(COMMANDS.length);
    for (const a of answers)
      expect(a).toEqual({
        name: a.name,
        code: 0,
        usage: expect.stringMatching(new RegExp(`^usage: ledger ${a.name}( |$)`)) as string,
      });
  });

  it('bad usage: one line on stderr, nothing on stdout, exit 2', async () => {
    for (const [args, message] of [
      [
        ['report', 'reconciliation', '--from', '2026-01-01', '--to', '2026-01-02', '--bogus'],
        'unknown option --bogus',
      ],
      [['tokens', 'create', '--name', 'x'], '--role is required'],
      [['review', 'list', '--limit', 'lots'], '--limit must be 1..1000'],
      [['report', 'nope'], "unknown subcommand 'nope'"],
      [['nope'], "unknown command 'nope'"],
    ] as const) {
      const r = await ledger(...args);
      expect({ args, code: r.code, out: r.out }).toEqual({ args, code: 2, out: '' });
      const lines = r.err.split('\n').filter((l) => l.startsWith('ledger'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(message);
    }
  });

  it('--json: stdout is JSON and nothing else, on the commands that print data', async () => {
    const created = await ledger('tokens', 'create', '--name', 'ops-json', '--role', 'viewer', '--json');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({
      name: 'ops-json',
      role: 'viewer',
      token: expect.any(String),
    });

    const tokens = await ledger('tokens', 'list', '--json');
    expect(JSON.parse(tokens.out)).toEqual([expect.objectContaining({ name: 'ops-json', role: 'viewer' })]);

    const report = await ledger(
      'report',
      'reconciliation',
      '--from',
      '2026-01-01',
      '--to',
      '2026-01-31',
      '--json',
    );
    expect(report.code).toBe(0);
    expect(JSON.parse(report.out)).toMatchObject({ from: '2026-01-01', to: '2026-01-31', rows: [] });

    const check = await ledger('projections', 'check', '--json');
    expect(check.code).toBe(0);
    expect(JSON.parse(check.out)).toMatchObject({ command: 'check', ok: true, read_models_identical: true });

    // A failed check still prints its data: exit 1, JSON on stdout.
    const launch = await ledger('launch-check', '--from', '2026-01-01', '--to', '2026-01-02', '--json');
    const verdict = JSON.parse(launch.out) as { pass: boolean };
    expect(launch.code).toBe(verdict.pass ? 0 : 1);

    for (const args of [
      ['review', 'list'],
      ['deliveries', 'list'],
      ['secrets', 'new-key', '--id', 'k1'],
    ]) {
      const r = await ledger(...args, '--json');
      expect({ args, code: r.code }).toEqual({ args, code: 0 });
      expect(() => JSON.parse(r.out) as unknown).not.toThrow();
    }
  });

  it('large output arrives whole through a pipe to a slow reader, and a reader that leaves is no error', async () => {
    // Database-backed: a dispute of 50,000 differences, shown as CSV.
    const today = new Date().toISOString().slice(0, 10);
    const file = join(dir, 'theirs.csv');
    const rows = 50_000;
    writeFileSync(
      file,
      ['transaction_id,status,payout,currency,date']
        .concat(Array.from({ length: rows }, (_, i) => `cli-${i},approved,1.00,USD,${today}`))
        .join('\n') + '\n',
    );
    const imported = await ledger('dispute', 'import', '--file', file, '--partner', 'cli-partner', '--json');
    expect(imported.code).toBe(0);
    const { id, summary } = JSON.parse(imported.out) as { id: string; summary: { missing_ours: number } };
    expect(summary.missing_ours).toBe(rows);
    expect(imported.err).toMatch(/read \d+ rows/); // progress, on stderr

    const csv = await run(['dispute', 'show', id, '--format', 'csv'], env, { slow: {} });
    expect(csv.code).toBe(0);
    const lines = csv.out.split(/\r?\n/).filter(Boolean);
    expect(lines).toHaveLength(rows + 1);
    expect(lines.at(-1)).toMatch(/^\d+,missing_ours,/);

    // Megabytes in one write: the reader starts only once the CLI says it has written them all
    // (its summary on stderr), so an exit before stdout drained would lose most of them.
    const args = ['traffic', 'generate', '--out', '-', '--clicks', '20000', '--seed', '11'];
    const slow = await run(args, env, { slow: { after: /\[traffic\] stdout:/ } });
    expect(slow.code).toBe(0);
    const copy = join(dir, 'traffic.ndjson');
    expect(
      (await ledger('traffic', 'generate', '--out', copy, '--clicks', '20000', '--seed', '11')).code,
    ).toBe(0);
    const expected = readFileSync(copy, 'utf8');
    expect(expected.length).toBeGreaterThan(1 << 20);
    expect(slow.out.length).toBe(expected.length);
    expect(slow.out).toBe(expected);

    // `| head`: the reader goes away; the CLI ends quietly with its own exit code.
    const head = await run(
      [
        '-c',
        `set -o pipefail; "${BIN}" ${args.join(' ')} 2>"${join(dir, 'head.err')}" | head -c 100 >/dev/null`,
      ],
      env,
      { command: 'bash' },
    );
    expect(head.code).toBe(0);
    expect(readFileSync(join(dir, 'head.err'), 'utf8')).not.toMatch(/EPIPE|Error/);
  });
});
