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
  'currency',
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

/** The ledger entry fields a postback is rendered from (a subset of LedgerEntryV1). */
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
}

/** What the publisher is told: approved (approved, or released after review) or reversed. */
export type PublisherStatus = 'approved' | 'reversed';

export function publisherStatus(entryType: string): PublisherStatus | undefined {
  if (entryType === 'approved' || entryType === 'released') return 'approved';
  if (entryType === 'reversed') return 'reversed';
  return undefined;
}

/** Raw (unencoded) macro values for an entry; payout is a decimal string from micros, never a float. */
export function macroValues(f: PublisherPostbackFacts): MacroValues {
  const status = publisherStatus(f.entry_type);
  if (!status) throw new Error(`entry type ${f.entry_type} is not told to publishers`);
  return {
    click_id: f.click_id,
    transaction_id: f.transaction_id,
    conversion_id: f.conversion_id,
    entry_id: f.entry_id,
    offer_id: f.offer_id,
    event: f.goal,
    status,
    payout: formatMicros(BigInt(f.amount_micros)),
    currency: f.currency,
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
