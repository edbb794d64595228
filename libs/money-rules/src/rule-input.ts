/**
 * Operators' payout and reward rules as they are asked for (admin API, `ledger rules`), checked
 * into what the tables hold (docs/admin-api.md#payout-and-reward-rules). Pure: no database.
 */
import { isISO8601 } from 'class-validator';
import { FULL_SHARE_BP, formatMicros, parseMicros } from '@app/domain';

/**
 * A rule starts at least this long after it is stored, so it is committed before any postback
 * it prices arrives: a decision never misses a rule that was in force when its postback arrived.
 */
export const PAYOUT_KINDS = ['share', 'fixed'] as const;
export const REWARD_ROUNDINGS = ['floor', 'round', 'ceil'] as const;
export type PayoutKind = (typeof PAYOUT_KINDS)[number];
export type RewardRounding = (typeof REWARD_ROUNDINGS)[number];
/** Reward minimums above this are a typo, not a policy (and stay exact as JSON numbers). */
export const MAX_REWARD_MINIMUM = 1_000_000_000_000;

const ID = /^[A-Za-z0-9._:-]{1,64}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const PERCENT = /^(\d{1,3})(?:\.(\d{1,2}))?$/;
const ZONE = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * A rule refused: `invalid` (400), `unknown` (404: the offer or publisher it names does not
 * exist) or `conflict` (409: the same offer, goal, publisher and start already has a rule).
 */
export class RuleRefused extends Error {
  constructor(
    readonly reason: 'invalid' | 'unknown' | 'conflict',
    readonly code: string,
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'RuleRefused';
  }
}

const invalid = (field: string, message: string, code = 'invalid_field') =>
  new RuleRefused('invalid', code, field, message);

/** A percentage of revenue with at most 2 decimals, 0 to 100, in basis points (70.5 -> 7050). */
export function sharePercentToBp(v: unknown): number | undefined {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? v.trim() : '';
  const m = PERCENT.exec(s);
  if (!m) return undefined;
  const bp = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return bp <= FULL_SHARE_BP ? bp : undefined;
}

/** Basis points as the percentage operators wrote: 7050 -> "70.5", 7000 -> "70". */
export function formatShareBp(bp: number): string {
  const frac = String(bp % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  return `${Math.floor(bp / 100)}${frac ? `.${frac}` : ''}`;
}

/** An ISO 8601 time with its zone (Z or an offset), years 1970 to 9999. */
export function parseRuleTime(v: unknown, field: string): Date {
  const message = `${field} must be an ISO 8601 time with its zone, like 2026-12-01T00:00:00Z`;
  if (typeof v !== 'string' || v.length > 40 || !isISO8601(v, { strict: true }) || !ZONE.test(v))
    throw invalid(field, message);
  const d = new Date(v);
  const year = d.getUTCFullYear();
  if (Number.isNaN(d.getTime()) || year < 1970 || year > 9999) throw invalid(field, message);
  return d;
}

const id = (v: unknown, field: string): string => {
  if (typeof v !== 'string' || !ID.test(v))
    throw invalid(field, `${field} must be 1-64 of A-Z a-z 0-9 . _ : -`);
  return v;
};
const optionalId = (v: unknown, field: string): string | null =>
  v === undefined || v === null ? null : id(v, field);

/** Free text an operator wrote: 1 to `max` characters, no control characters. */
function text(v: unknown, field: string, max: number): string {
  if (typeof v !== 'string' || v.trim() === '' || [...v].length > max || CONTROL.test(v) || !v.isWellFormed())
    throw invalid(field, `${field} must be 1-${max} characters without control characters`);
  return v;
}

/** A positive or zero decimal with at most 6 places, as micros. */
function decimal(v: unknown, field: string, example: string): bigint {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? v : undefined;
  const m = s === undefined ? undefined : parseMicros(s);
  if (!m?.ok)
    throw invalid(
      field,
      `${field} must be a decimal like "${example}" (at most 6 decimals and 9 integer digits, not negative)`,
    );
  return m.micros;
}

export interface PayoutRuleRequest {
  offer_id?: unknown;
  goal?: unknown;
  publisher_id?: unknown;
  kind?: unknown;
  share_percent?: unknown;
  amount?: unknown;
  effective_from?: unknown;
  note?: unknown;
}

export interface PayoutRuleInput {
  offerId: string;
  goal: string | null;
  publisherId: string | null;
  kind: PayoutKind;
  shareBp: number | null;
  amountMicros: bigint | null;
  /** null: from the moment it is stored. */
  effectiveFrom: Date | null;
  note: string | null;
}

/** Checks a payout rule's fields, naming the first bad one (RuleRefused, invalid). */
export function parsePayoutRule(r: PayoutRuleRequest): PayoutRuleInput {
  const offerId = id(r.offer_id, 'offer_id');
  const goal = optionalId(r.goal, 'goal');
  const publisherId = optionalId(r.publisher_id, 'publisher_id');
  if (r.kind !== 'share' && r.kind !== 'fixed') throw invalid('kind', 'kind must be share or fixed');
  let shareBp: number | null = null;
  let amountMicros: bigint | null = null;
  if (r.kind === 'share') {
    if (r.amount !== undefined && r.amount !== null)
      throw invalid('amount', 'kind share takes share_percent, not amount');
    if (r.share_percent === undefined || r.share_percent === null)
      throw invalid('share_percent', 'kind share needs share_percent (0 to 100, at most 2 decimals)');
    const bp = sharePercentToBp(r.share_percent);
    if (bp === undefined)
      throw invalid(
        'share_percent',
        'share_percent must be 0 to 100 with at most 2 decimals, like "70" or 72.5',
      );
    shareBp = bp;
  } else {
    if (r.share_percent !== undefined && r.share_percent !== null)
      throw invalid('share_percent', 'kind fixed takes amount, not share_percent');
    if (r.amount === undefined || r.amount === null)
      throw invalid('amount', "kind fixed needs amount (a decimal in the offer's currency)");
    amountMicros = decimal(r.amount, 'amount', '1.50');
  }
  return {
    offerId,
    goal,
    publisherId,
    kind: r.kind,
    shareBp,
    amountMicros,
    effectiveFrom:
      r.effective_from === undefined || r.effective_from === null
        ? null
        : parseRuleTime(r.effective_from, 'effective_from'),
    note: r.note === undefined || r.note === null ? null : text(r.note, 'note', 256),
  };
}

export interface RewardRuleRequest {
  publisher_id?: unknown;
  currency_name?: unknown;
  units_per_unit?: unknown;
  rounding?: unknown;
  minimum?: unknown;
  effective_from?: unknown;
  note?: unknown;
}

export interface RewardRuleInput {
  publisherId: string;
  currencyName: string;
  unitsPerUnitMicros: bigint;
  rounding: RewardRounding;
  minimum: bigint;
  effectiveFrom: Date | null;
  note: string | null;
}

/** Checks a reward rule's fields, naming the first bad one (RuleRefused, invalid). */
export function parseRewardRule(r: RewardRuleRequest): RewardRuleInput {
  const publisherId = id(r.publisher_id, 'publisher_id');
  const currencyName = text(r.currency_name, 'currency_name', 32);
  if (currencyName.trim() !== currencyName)
    throw invalid('currency_name', 'currency_name must not start or end with spaces');
  const unitsPerUnitMicros = decimal(r.units_per_unit, 'units_per_unit', '100');
  if (unitsPerUnitMicros === 0n) throw invalid('units_per_unit', 'units_per_unit must be above 0');
  if (!REWARD_ROUNDINGS.includes(r.rounding as RewardRounding))
    throw invalid('rounding', 'rounding must be floor, round or ceil');
  let minimum = 0n;
  if (r.minimum !== undefined && r.minimum !== null) {
    const n = typeof r.minimum === 'string' && /^\d{1,13}$/.test(r.minimum) ? Number(r.minimum) : r.minimum;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_REWARD_MINIMUM)
      throw invalid('minimum', `minimum must be a whole number from 0 to ${MAX_REWARD_MINIMUM}`);
    minimum = BigInt(n);
  }
  return {
    publisherId,
    currencyName,
    unitsPerUnitMicros,
    rounding: r.rounding as RewardRounding,
    minimum,
    effectiveFrom:
      r.effective_from === undefined || r.effective_from === null
        ? null
        : parseRuleTime(r.effective_from, 'effective_from'),
    note: r.note === undefined || r.note === null ? null : text(r.note, 'note', 256),
  };
}

/**
 * When a new rule starts: the asked time, or `now` (the database's clock). Any time may be
 * asked; the table's trigger refuses one that reaches back over an entry already written for
 * the rule's offer (or publisher), after waiting for the decisions pricing it at that moment
 * (`addPayoutRule` answers that as `rule_reaches_back`). A replay's catalog, in a database with
 * no entries yet, may so date its rules in its virtual past.
 */
export function ruleStart(asked: Date | null, now: Date): Date {
  return asked ?? now;
}

/** The trigger's refusal of a rule that would reach back over an entry already written, as a 409. */
export function reachesBack(e: unknown): RuleRefused | undefined {
  const message = e instanceof Error ? e.message : '';
  const m = /effective_from (.+?) would reach back over entry (\S+) \(occurred (.+?)\)/.exec(message);
  if (!m) return undefined;
  return new RuleRefused(
    'conflict',
    'rule_reaches_back',
    'effective_from',
    `effective_from ${m[1]} would reach back over entry ${m[2]} (occurred ${m[3]}), already priced: a rule never reprices entries already written; start it after them`,
  );
}

/** `units` with the micros formatted the way money is (no float): 100_000_000n -> "100". */
export const formatUnits = (micros: bigint | string): string => formatMicros(BigInt(micros));
