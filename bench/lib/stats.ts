/**
 * Small helpers shared by the benches: percentiles, a latency recorder, markdown tables, a
 * resident-memory sampler and the results writer. Benches print figures; nothing here asserts.
 */
import { promises as fsp, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';

/** Nearest-rank percentile, p in [0, 100]. Accepts sorted or unsorted input; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  let sorted = values;
  for (let i = 1; i < values.length; i++) {
    if (values[i]! < values[i - 1]!) {
      sorted = [...values].sort((a, b) => a - b);
      break;
    }
  }
  const clamped = Math.min(100, Math.max(0, p));
  const rank = Math.ceil((clamped / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Collects latencies in milliseconds and summarises them. */
export class LatencyRecorder {
  private readonly values: number[] = [];

  record(ms: number): void {
    if (Number.isFinite(ms)) this.values.push(ms);
  }

  /** Times an async call and records how long it took; returns its result. */
  async time<T>(fn: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      this.record(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }

  get count(): number {
    return this.values.length;
  }

  summary(): LatencySummary {
    const sorted = [...this.values].sort((a, b) => a - b);
    const sum = sorted.reduce((a, b) => a + b, 0);
    return {
      count: sorted.length,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1]! : NaN,
      mean: sorted.length ? sum / sorted.length : NaN,
    };
  }
}

/** A number for a table: thousands separators, a fixed number of decimals. */
export function fmt(n: number, decimals = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

const cell = (v: string | number | undefined): string =>
  (v === undefined ? '' : typeof v === 'number' ? fmt(v, Number.isInteger(v) ? 0 : 2) : v)
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');

/** A GitHub markdown table; columns are the keys in order of first appearance. */
export function formatTable(rows: Record<string, string | number>[]): string {
  const columns: string[] = [];
  for (const row of rows) for (const k of Object.keys(row)) if (!columns.includes(k)) columns.push(k);
  if (columns.length === 0) return '';
  const body = rows.map((row) => columns.map((c) => cell(row[c])));
  const header = columns.map((c) => cell(c));
  const widths = columns.map((_, i) => Math.max(3, header[i]!.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join('\n');
}

const MIB = 1024 * 1024;

/** VmRSS of a process in bytes, from /proc/<pid>/status; undefined when it is gone or unreadable. */
export async function readRssBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await fsp.readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m?.[1] ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples the resident set size of some processes every `intervalMs` (200 ms by default) and
 * keeps the peak per label. The current process is sampled too (process.memoryUsage().rss)
 * under `selfLabel`, unless selfLabel is null.
 */
export class RssSampler {
  private readonly pids = new Map<string, number>();
  private readonly peaks = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;

  constructor(
    pids: Record<string, number | undefined> = {},
    private readonly selfLabel: string | null = 'bench process',
    private readonly intervalMs = 200,
  ) {
    for (const [label, pid] of Object.entries(pids)) if (pid !== undefined) this.add(label, pid);
  }

  add(label: string, pid: number): void {
    this.pids.set(label, pid);
  }

  start(): this {
    if (this.timer) return this;
    this.kick();
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Stops sampling (after one last sample) and returns the peaks in MiB per label. */
  async stop(): Promise<Record<string, number>> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
    await this.sample();
    return this.peaksMiB();
  }

  peaksMiB(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [label, bytes] of this.peaks) out[label] = Math.round((bytes / MIB) * 10) / 10;
    return out;
  }

  /** One sample at a time: a slow /proc read never piles up. */
  private kick(): void {
    this.sampling ??= this.sample().finally(() => (this.sampling = undefined));
  }

  private note(label: string, bytes: number | undefined): void {
    if (bytes === undefined) return;
    const prev = this.peaks.get(label);
    if (prev === undefined || bytes > prev) this.peaks.set(label, bytes);
  }

  private async sample(): Promise<void> {
    if (this.selfLabel !== null) this.note(this.selfLabel, process.memoryUsage().rss);
    await Promise.all([...this.pids].map(async ([label, pid]) => this.note(label, await readRssBytes(pid))));
  }
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux (getconf CLK_TCK)

/** User + system CPU seconds of a process from /proc/<pid>/stat; undefined when it is gone. */
export async function readCpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** Busy CPU seconds of the whole box (all cores, all processes) from /proc/stat. */
export async function readBoxCpuSeconds(): Promise<number | undefined> {
  try {
    const line = (await fsp.readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal ...
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0);
    return Number.isFinite(busy) ? busy / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

export const WHOLE_BOX = 'whole box (all processes)';

/**
 * CPU used by some processes (and this one, under selfLabel, and the whole box under WHOLE_BOX)
 * between start() and stop(), as a percentage of one core over the wall time: 200 % is both
 * cores of a 2-core box.
 */
export class CpuMeter {
  private readonly before = new Map<string, number>();
  private startNs = 0n;

  constructor(
    private readonly pids: Record<string, number | undefined>,
    private readonly selfLabel: string | null = 'bench process',
  ) {}

  private async snapshot(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (this.selfLabel !== null) {
      const u = process.cpuUsage();
      out.set(this.selfLabel, (u.user + u.system) / 1e6);
    }
    for (const [label, pid] of Object.entries(this.pids)) {
      const s = pid === undefined ? undefined : await readCpuSeconds(pid);
      if (s !== undefined) out.set(label, s);
    }
    const box = await readBoxCpuSeconds();
    if (box !== undefined) out.set(WHOLE_BOX, box);
    return out;
  }

  async start(): Promise<this> {
    this.before.clear();
    for (const [k, v] of await this.snapshot()) this.before.set(k, v);
    this.startNs = process.hrtime.bigint();
    return this;
  }

  /** Percent of one core per label. */
  async stop(): Promise<Record<string, number>> {
    const wall = secondsSince(this.startNs);
    const after = await this.snapshot();
    const out: Record<string, number> = {};
    for (const [k, v] of after) {
      const b = this.before.get(k);
      if (b !== undefined && wall > 0) out[k] = Math.round(((v - b) / wall) * 1000) / 10;
    }
    return out;
  }
}

/**
 * The pid of the project's Kafka broker serving `broker` (host:port), from its pid file
 * (.run/kafka-<port>/broker.pid, as infra/kafka/kafka.sh writes it), if it runs on this box.
 * Only read, for memory and CPU figures; never signalled.
 */
export function localBrokerPid(broker: string, root = join(__dirname, '..', '..')): number | undefined {
  const m = /^(?:127\.0\.0\.1|localhost):(\d+)$/.exec(broker.trim());
  if (!m) return undefined;
  try {
    const pid = Number(readFileSync(join(root, '.run', `kafka-${m[1]}`, 'broker.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The machine the figures come from. */
export function machine(): { cores: number; model: string; memGiB: number; node: string; kernel: string } {
  const list = cpus();
  return {
    cores: list.length,
    model: list[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: release(),
  };
}

export function machineLine(): string {
  const m = machine();
  return `${m.cores} cores (${m.model}), ${fmt(m.memGiB, 1)} GiB RAM, Node ${m.node}, Linux ${m.kernel}`;
}

export const RESULTS_DIR = join(__dirname, '..', 'results');

/** Writes bench/results/<YYYY-MM-DD>-<name>.md (UTC date) and prints the markdown. Returns the path. */
export function writeResults(name: string, markdown: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '-');
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${date}-${safe}.md`);
  const text = markdown.endsWith('\n') ? markdown : `${markdown}\n`;
  writeFileSync(file, text);
  process.stdout.write(`\n${text}\n(written to ${file})\n`);
  return file;
}

/** A positive integer from the environment, within bounds; the default when unset. */
export function envInt(name: string, def: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  return n;
}

/** Seconds since `startNs` (process.hrtime.bigint()). */
export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

/** Exits once stdout and stderr have flushed (a pipe is written asynchronously; process.exit would cut it). */
export function exitAfterFlush(code: number): void {
  let waiting = 2;
  const done = () => {
    if (--waiting === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

/**
 * CPU used by the Postgres backends serving one database (their process titles name it), summed:
 * backends that exist at start() count from there, those that appear later count whole.
 * Sampled every 500 ms so a backend that exits in between loses at most its last half second.
 */
export class BackendCpu {
  private readonly base = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;

  constructor(private readonly database: string) {}

  private async pids(): Promise<number[]> {
    const out: number[] = [];
    for (const d of await fsp.readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(d)) continue;
      const cmd = await fsp.readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => '');
      if (cmd.startsWith('postgres: ') && cmd.includes(` ${this.database} `)) out.push(Number(d));
    }
    return out;
  }

  private async sample(first: boolean): Promise<void> {
    for (const pid of await this.pids()) {
      const s = await readCpuSeconds(pid);
      if (s === undefined) continue;
      if (!this.base.has(pid)) this.base.set(pid, first ? s : 0);
      this.last.set(pid, s);
    }
  }

  async start(): Promise<this> {
    await this.sample(true);
    this.timer = setInterval(() => {
      this.sampling ??= this.sample(false).finally(() => (this.sampling = undefined));
    }, 500);
    this.timer.unref();
    return this;
  }

  /** CPU seconds since start(), all backends together. */
  async seconds(): Promise<number> {
    await this.sampling;
    await this.sample(false);
    let sum = 0;
    for (const [pid, s] of this.last) sum += s - (this.base.get(pid) ?? 0);
    return sum;
  }

  async stop(): Promise<number> {
    clearInterval(this.timer);
    return this.seconds();
  }
}
