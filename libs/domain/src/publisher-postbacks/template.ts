import { formatMicros } from '../money';
import { rfc3986 } from '../signature';

/** Macros a publisher's postback URL may hold; anything else in braces is refused. */
export const POSTBACK_MACROS = [
  'click_id',
  'transaction_id',
  'conversion_id',
  'entry_id',
  'offer_id',
  'event',
  'status',
  'payout',
  'revenue',
  'revenue_share',
  'currency',
  'reward',
  'reward_currency',
  'uid',
  'user_id',
  'sub1',
  'sub2',
  'sub3',
  'sub4',
  'sub5',
  'placement',
  'geo',
] as const;

export type PostbackMacro = (typeof POSTBACK_MACROS)[number];
export type MacroValues = Record<PostbackMacro, string>;

const KNOWN: ReadonlySet<string> = new Set(POSTBACK_MACROS);
const MACRO = /\{([^{}]*)\}/g;
const MAX_URL_LENGTH = 2048;

export type TemplateCheck = { ok: true } | { ok: false; message: string };

/**
 * A postback URL template is acceptable when every `{...}` names a known macro, braces are
 * balanced, and the URL (macros filled) is http(s) without credentials. Macros may not sit in
 * the scheme, host or port: a click's sub id must never choose where we send money facts.
 */
export function checkTemplate(template: string): TemplateCheck {
  if (typeof template !== 'string' || template.length === 0)
    return { ok: false, message: 'must be a non-empty URL' };
  if (template.length > MAX_URL_LENGTH)
    return { ok: false, message: `must be at most ${MAX_URL_LENGTH} characters` };
  for (const m of template.matchAll(MACRO)) {
    const name = m[1] ?? '';
    if (!KNOWN.has(name))
      return {
        ok: false,
        message: `unknown macro {${name}}; known: ${POSTBACK_MACROS.map((x) => `{${x}}`).join(' ')}`,
      };
  }
  const rest = template.replace(MACRO, '');
  if (rest.includes('{') || rest.includes('}'))
    return { ok: false, message: 'has an unbalanced "{" or "}" (macros are written {name})' };
  const slashes = template.indexOf('//');
  const authorityEnd = slashes < 0 ? -1 : template.indexOf('/', slashes + 2);
  const authority = template.slice(0, authorityEnd < 0 ? undefined : authorityEnd).split(/[?#]/)[0] ?? '';
  if (/\{[^{}]*\}/.test(authority))
    return { ok: false, message: 'must not hold macros in its scheme, host or port' };
  let url: URL;
  try {
    url = new URL(template.replace(MACRO, 'x'));
  } catch {
    return { ok: false, message: 'is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, message: 'must be an http or https URL' };
  if (url.username || url.password)
    return { ok: false, message: 'must not carry credentials (user:password@)' };
  if (url.hostname === '') return { ok: false, message: 'must name a host' };
  return { ok: true };
}

/**
 * The ledger entry fields a postback is rendered from (a subset of the ledger entry). The
 * optional ones come with schema v2; a v1 entry lacks them (its amount_micros is the revenue,
 * and then also the payout told to the publisher).
 */
export interface PublisherPostbackFacts {
  entry_id: string;
  entry_type: string;
  conversion_id: string;
  click_id: string;
  transaction_id: string;
  offer_id: string;
  goal: string;
  amount_micros: string;
  currency: string;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  placement: string | null;
  geo: string | null;
  /** The publisher's payout, integer micros as a string, in `currency`. */
  payout_micros?: string | null;
  /** The advertiser's revenue, integer micros as a string, in `currency`. */
  revenue_micros?: string | null;
  /** The user's reward in the app's virtual currency: a decimal string, not ours to convert. */
  reward_amount?: string | null;
  /** The virtual currency's name, e.g. "coins". */
  reward_currency?: string | null;
  /** The wall's user id, from the click. */
  user_id?: string | null;
}

/** The wall fields of a v2 ledger entry that reach a publisher postback. */
export const WALL_FACT_FIELDS = [
  'payout_micros',
  'revenue_micros',
  'reward_amount',
  'reward_currency',
  'user_id',
] as const satisfies readonly (keyof PublisherPostbackFacts)[];

/**
 * The facts of a ledger entry as published (the notifier keeps it whole, as JSON): every v1 field,
 * and the wall fields when the entry has them (schema v2, validated at intake); absent ones are null.
 */
export function postbackFacts(entry: PublisherPostbackFacts): PublisherPostbackFacts {
  const wall = entry as Partial<Record<(typeof WALL_FACT_FIELDS)[number], unknown>>;
  const facts: PublisherPostbackFacts = {
    entry_id: entry.entry_id,
    entry_type: entry.entry_type,
    conversion_id: entry.conversion_id,
    click_id: entry.click_id,
    transaction_id: entry.transaction_id,
    offer_id: entry.offer_id,
    goal: entry.goal,
    amount_micros: entry.amount_micros,
    currency: entry.currency,
    sub1: entry.sub1,
    sub2: entry.sub2,
    sub3: entry.sub3,
    sub4: entry.sub4,
    sub5: entry.sub5,
    placement: entry.placement,
    geo: entry.geo,
  };
  for (const k of WALL_FACT_FIELDS) {
    const v = wall[k];
    facts[k] = typeof v === 'string' ? v : null;
  }
  return facts;
}

/** What the publisher is told: approved (approved, or released after review) or reversed. */
export type PublisherStatus = 'approved' | 'reversed';

export function publisherStatus(entryType: string): PublisherStatus | undefined {
  if (entryType === 'approved' || entryType === 'released') return 'approved';
  if (entryType === 'reversed') return 'reversed';
  return undefined;
}

/**
 * payout ÷ revenue as a percentage, rounded half up to 2 decimals, trailing zeros trimmed
 * (`70`, `72.5`, `33.33`); empty when there is no revenue to divide by.
 */
export function revenueShare(payoutMicros: bigint, revenueMicros: bigint): string {
  if (revenueMicros === 0n) return '';
  const negative = payoutMicros < 0n !== revenueMicros < 0n && payoutMicros !== 0n;
  const p = payoutMicros < 0n ? -payoutMicros : payoutMicros;
  const r = revenueMicros < 0n ? -revenueMicros : revenueMicros;
  // Hundredths of a percent: p / r * 100 * 100, rounded half up.
  const hundredths = (p * 10_000n * 2n + r) / (2n * r);
  const frac = (hundredths % 100n).toString().padStart(2, '0').replace(/0+$/, '');
  const text = `${hundredths / 100n}${frac === '' ? '' : `.${frac}`}`;
  return negative && hundredths !== 0n ? `-${text}` : text;
}

/**
 * Raw (unencoded) macro values for an entry. Money is a decimal string from micros, never a
 * float. A v1 entry (no payout_micros, revenue_micros) has one amount: its revenue, told as the
 * payout too, as before v2.
 */
export function macroValues(f: PublisherPostbackFacts): MacroValues {
  const status = publisherStatus(f.entry_type);
  if (!status) throw new Error(`entry type ${f.entry_type} is not told to publishers`);
  const payout = BigInt(f.payout_micros ?? f.amount_micros);
  const revenue = BigInt(f.revenue_micros ?? f.amount_micros);
  return {
    click_id: f.click_id,
    transaction_id: f.transaction_id,
    conversion_id: f.conversion_id,
    entry_id: f.entry_id,
    offer_id: f.offer_id,
    event: f.goal,
    status,
    payout: formatMicros(payout),
    revenue: formatMicros(revenue),
    revenue_share: revenueShare(payout, revenue),
    currency: f.currency,
    reward: f.reward_amount ?? '',
    reward_currency: f.reward_currency ?? '',
    uid: f.user_id ?? '',
    user_id: f.user_id ?? '',
    sub1: f.sub1 ?? '',
    sub2: f.sub2 ?? '',
    sub3: f.sub3 ?? '',
    sub4: f.sub4 ?? '',
    sub5: f.sub5 ?? '',
    placement: f.placement ?? '',
    geo: f.geo ?? '',
  };
}

/** Fills the macros, each value RFC 3986 percent-encoded (so a value can never add a parameter). */
export function renderTemplate(template: string, values: MacroValues): string {
  return template.replace(MACRO, (whole, name: string) =>
    KNOWN.has(name) ? rfc3986(values[name as PostbackMacro]) : whole,
  );
}
