import { POSTBACK_STATUSES, type PostbackStatus } from '@app/contracts';
import { clip } from './text';
// Partners name postback parameters differently; this maps them onto canonical fields before validation.

export const CANONICAL_FIELDS = [
  'click_id',
  'transaction_id',
  'status',
  'offer_id',
  'payout',
  'currency',
  'event',
  'reason',
] as const;
export type CanonicalField = (typeof CANONICAL_FIELDS)[number];

// The statuses are part of the published contract; the domain takes them from there.
export { POSTBACK_STATUSES, type PostbackStatus };

export const MAX_VALUE_LENGTH = 512;
export const MAX_EXTRA_KEYS = 50;
export const MAX_EXTRA_VALUE_LENGTH = 256;
export const MAX_EXTRA_KEY_LENGTH = 128;

export const DEFAULT_ALIASES: Readonly<Record<CanonicalField, readonly string[]>> = Object.freeze({
  click_id: ['click_id', 'clickid', 'clickId', 'cid', 'subid', 'sub_id', 'aff_sub', 'aff_click_id'],
  transaction_id: ['transaction_id', 'transactionId', 'txid', 'tid', 'order_id', 'conversion_id', 'trans_id'],
  status: ['status', 'state', 'conversion_status'],
  offer_id: ['offer_id', 'offer', 'offerid'],
  payout: ['payout', 'revenue', 'amount', 'sum'],
  currency: ['currency', 'cur', 'currency_code'],
  event: ['event', 'goal', 'goal_id', 'event_id', 'goal_name'],
  reason: ['reason', 'reject_reason', 'comment'],
});

// Default only: numeric codes differ between networks, so partners override them via KeyDictionary.statusMap.
// Common convention (HasOffers-style trackers): 1 approved, 2 pending, 3 rejected, 5 reversed.
// Keys are lowercase; lookups lowercase the incoming value.
export const DEFAULT_STATUS_MAP: Readonly<Record<string, PostbackStatus>> = Object.freeze({
  '1': 'approved',
  '2': 'pending',
  '3': 'rejected',
  '5': 'reversed',
  approve: 'approved',
  approved: 'approved',
  confirmed: 'approved',
  success: 'approved',
  hold: 'pending',
  pending: 'pending',
  decline: 'rejected',
  declined: 'rejected',
  reject: 'rejected',
  rejected: 'rejected',
  reverse: 'reversed',
  reversed: 'reversed',
  chargeback: 'reversed',
  refund: 'reversed',
  refunded: 'reversed',
});

/** Per-partner overrides: aliases are tried before the defaults; statusMap entries win over the defaults. */
export interface KeyDictionary {
  aliases?: Partial<Record<CanonicalField, string[]>>;
  statusMap?: Record<string, PostbackStatus>;
  /**
   * Names kept for audit but never read as a canonical field, even when a default alias claims
   * them: a platform's own ids (its offer_id, a campaign `cid`) that would otherwise collide.
   */
  ignore?: readonly string[];
}

export type NormalizeErrorCode = 'duplicate_parameter' | 'conflicting_alias' | 'invalid_value';

export type NormalizeResult =
  | { ok: true; fields: Partial<Record<CanonicalField, string>>; extra: Record<string, string> }
  | { ok: false; field: string; code: NormalizeErrorCode; message: string };

export type RawParams = Record<string, string | string[] | undefined>;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS_G = /[\u0000-\u001f\u007f]/g;

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

const isStatus = (v: unknown): v is PostbackStatus =>
  typeof v === 'string' && (POSTBACK_STATUSES as readonly string[]).includes(v);

// null: a name the partner's dictionary ignores.
interface AliasLookup {
  exact: Map<string, CanonicalField | null>;
  folded: Map<string, CanonicalField | null>;
}

// Built once per dictionary object (partners' dictionaries are compiled once per version).
const lookups = new WeakMap<KeyDictionary, AliasLookup>();
let defaultLookup: AliasLookup | undefined;

function lookupFor(dict: KeyDictionary | undefined): AliasLookup {
  if (!dict) return (defaultLookup ??= buildLookup(undefined));
  let l = lookups.get(dict);
  if (!l) lookups.set(dict, (l = buildLookup(dict)));
  return l;
}

function buildLookup(dict: KeyDictionary | undefined): AliasLookup {
  const exact = new Map<string, CanonicalField | null>();
  const folded = new Map<string, CanonicalField | null>();
  // Partner aliases go in first so a name they claim is never taken by a default of another field;
  // then the names it ignores, so no default claims those either.
  const add = (field: CanonicalField | null, names: readonly string[] | undefined): void => {
    if (!Array.isArray(names)) return;
    for (const name of names) {
      if (typeof name !== 'string' || name === '') continue;
      const f = name.toLowerCase();
      // An ignored name stays ignored whatever its case.
      if (field !== null && folded.get(f) === null) continue;
      if (!exact.has(name)) exact.set(name, field);
      if (!folded.has(f)) folded.set(f, field);
    }
  };
  const partner = dict?.aliases;
  if (partner)
    for (const field of CANONICAL_FIELDS) add(field, hasOwn(partner, field) ? partner[field] : undefined);
  add(null, dict?.ignore);
  for (const field of CANONICAL_FIELDS) add(field, DEFAULT_ALIASES[field]);
  return { exact, folded };
}

/** Resolves a raw parameter name: exact (case-sensitive) alias match first, then case-insensitive. */
function resolve(lookup: AliasLookup, name: string): CanonicalField | null | undefined {
  const exact = lookup.exact.get(name);
  return exact !== undefined ? exact : lookup.folded.get(name.toLowerCase());
}

type Values = { ok: true; value: string | undefined } | { ok: false; distinct: number };

// Collapses a raw value (or repeated values) to one trimmed string. Empty values count as absent:
// unfilled partner macros arrive as `payout=`.
function collapse(raw: unknown): Values {
  const list = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  const seen = new Set<string>();
  for (const v of list) {
    if (typeof v !== 'string') continue;
    const t = v.trim();
    if (t !== '') seen.add(t);
  }
  if (seen.size > 1) return { ok: false, distinct: seen.size };
  const [only] = seen;
  return { ok: true, value: only };
}

/** Maps partner parameter names onto canonical fields. Never throws; unknown parameters are kept in `extra`. */
export function normalizePostbackParams(raw: RawParams, dict?: KeyDictionary): NormalizeResult {
  const lookup = lookupFor(dict);
  const fields: Partial<Record<CanonicalField, string>> = {};
  const sourceOf: Partial<Record<CanonicalField, string>> = {};
  const extra: Array<[string, string]> = [];
  const extraSeen = new Set<string>();

  const entries = raw !== null && typeof raw === 'object' ? Object.keys(raw) : [];
  for (const name of entries) {
    const rawValue: unknown = raw[name];
    const field = resolve(lookup, name);

    if (field === undefined || field === null) {
      // Kept for audit only, never interpreted: sanitise rather than fail the postback.
      if (extra.length >= MAX_EXTRA_KEYS || extraSeen.has(name)) continue;
      if (name === '' || name.length > MAX_EXTRA_KEY_LENGTH || CONTROL_CHARS.test(name)) continue;
      const first = (Array.isArray(rawValue) ? (rawValue as unknown[]) : [rawValue]).find(
        (v): v is string => typeof v === 'string',
      );
      if (first === undefined) continue;
      extraSeen.add(name);
      extra.push([name, clip(first.trim().replace(CONTROL_CHARS_G, '\uFFFD'), MAX_EXTRA_VALUE_LENGTH)]);
      continue;
    }

    const collapsed = collapse(rawValue);
    if (!collapsed.ok) {
      return {
        ok: false,
        field: name,
        code: 'duplicate_parameter',
        message: `parameter "${name}" was given ${collapsed.distinct} different values`,
      };
    }
    const value = collapsed.value;
    if (value === undefined) continue;

    if (value.length > MAX_VALUE_LENGTH) {
      return {
        ok: false,
        field,
        code: 'invalid_value',
        message: `${field} (parameter "${name}") is longer than ${MAX_VALUE_LENGTH} characters`,
      };
    }
    if (CONTROL_CHARS.test(value)) {
      return {
        ok: false,
        field,
        code: 'invalid_value',
        message: `${field} (parameter "${name}") contains control characters`,
      };
    }

    const previous = fields[field];
    if (previous === undefined) {
      fields[field] = value;
      sourceOf[field] = name;
    } else if (previous !== value) {
      return {
        ok: false,
        field,
        code: 'conflicting_alias',
        message: `${field} was given different values by parameters "${sourceOf[field] ?? '?'}" and "${name}"`,
      };
    }
  }

  // fromEntries defines own properties, so a "__proto__" parameter stays plain data.
  return { ok: true, fields, extra: Object.fromEntries(extra) };
}

/** Maps a partner status value (case-insensitive, trimmed) to a ledger status; partner entries win. */
export function mapStatus(value: string, dict?: KeyDictionary): PostbackStatus | undefined {
  if (typeof value !== 'string') return undefined;
  const key = value.trim().toLowerCase();
  if (key === '') return undefined;
  const partner = dict?.statusMap;
  if (partner !== null && typeof partner === 'object') {
    // Partner keys may be written in any case. A matched key with an unusable value maps to nothing
    // rather than silently falling back to the default meaning.
    const k = hasOwn(partner, key) ? key : Object.keys(partner).find((p) => p.trim().toLowerCase() === key);
    if (k !== undefined) {
      const v = partner[k];
      return isStatus(v) ? v : undefined;
    }
  }
  const d = hasOwn(DEFAULT_STATUS_MAP, key) ? DEFAULT_STATUS_MAP[key] : undefined;
  return isStatus(d) ? d : undefined;
}
