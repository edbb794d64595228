/**
 * The targets of issue #17, each a ratio of two figures measured in the same run on the same box,
 * and how they print: target, our figure, the reference figure, the ratio, what is required, and
 * met / missed (or "not measured" when a part of the run was left out).
 */
import { fmt, formatTable } from './stats';

export interface Target {
  name: string;
  /** Our figure and the one it is divided by, as printed (with units). */
  ours: string;
  reference: string;
  /** ours / reference; NaN when either is missing. */
  ratio: number;
  /** The ratio must be at least (`min`) or at most (`max`) this. */
  bound: { min: number } | { max: number };
  /** How the two figures were taken, when it needs saying. */
  note?: string;
}

export type Verdict = 'met' | 'missed' | 'not measured';

export function verdict(t: Target): Verdict {
  if (!Number.isFinite(t.ratio)) return 'not measured';
  if ('min' in t.bound) return t.ratio >= t.bound.min ? 'met' : 'missed';
  return t.ratio <= t.bound.max ? 'met' : 'missed';
}

export const ratioOf = (ours: number | undefined, ref: number | undefined): number =>
  ours === undefined || ref === undefined || !Number.isFinite(ours) || !Number.isFinite(ref) || ref <= 0
    ? NaN
    : ours / ref;

export function targetRows(targets: readonly Target[]): Record<string, string>[] {
  return targets.map((t) => ({
    target: t.name,
    ours: t.ours,
    reference: t.reference,
    ratio: Number.isFinite(t.ratio) ? fmt(t.ratio, 2) : 'n/a',
    required: 'min' in t.bound ? `≥ ${fmt(t.bound.min, 2)}` : `≤ ${fmt(t.bound.max, 2)}`,
    result: verdict(t) === 'met' ? 'met' : verdict(t) === 'missed' ? '**missed**' : 'not measured',
  }));
}

/** The table, the count of met / missed, and the notes under it. */
export function targetsMarkdown(targets: readonly Target[]): string {
  const v = targets.map(verdict);
  const count = (x: Verdict) => v.filter((y) => y === x).length;
  const notes = targets.filter((t) => t.note).map((t) => `- ${t.name}: ${t.note!}`);
  return [
    formatTable(targetRows(targets)),
    '',
    `${count('met')} met, ${count('missed')} missed, ${count('not measured')} not measured.`,
    ...(notes.length ? ['', ...notes] : []),
    '',
  ].join('\n');
}

/**
 * The middle of paired measurements (those with a ratio): each pair is a reference and our figure taken back to back,
 * so a slow minute of a shared box weighs on both. Returns the pair whose ratio is the median
 * and every pair's ratio (NaN for one without). With an even count the one that favours us less is taken: the lower
 * middle for a minimum bound, the upper for a maximum.
 */
export function medianPair<T>(
  pairs: readonly T[],
  ratio: (pair: T) => number,
  bound: Target['bound'],
): { pair: T; ratio: number; ratios: number[] } | undefined {
  const all = pairs.map((pair) => ({ pair, ratio: ratio(pair) }));
  const measured = all.filter((m) => Number.isFinite(m.ratio));
  if (measured.length === 0) return undefined;
  const sorted = [...measured].sort((a, b) => a.ratio - b.ratio);
  const n = sorted.length;
  const mid = n % 2 === 1 ? (n - 1) / 2 : 'min' in bound ? n / 2 - 1 : n / 2;
  const m = sorted[mid]!;
  // Every pair's ratio in run order, NaN where a pair has none.
  return { pair: m.pair, ratio: m.ratio, ratios: all.map((x) => x.ratio) };
}
