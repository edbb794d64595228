import type { PostbackStatus } from '@app/contracts';
import {
  applyPartnerFormat,
  clip,
  isCurrency,
  type KeyDictionary,
  mapStatus,
  normalizePostbackParams,
  parseMicros,
  type PartnerFormat,
} from '@app/domain';
import { ID_PATTERN } from '../clicks/record-click.dto';

export interface CanonicalPostback {
  click_id: string;
  transaction_id: string;
  status: PostbackStatus;
  offer_id: string | null;
  payout_micros: string | null;
  currency: string | null;
  event: string | null;
  reason: string | null;
  extra: Record<string, string>;
}

export type ParseResult =
  { ok: true; value: CanonicalPostback } | { ok: false; field: string; code: string; message: string };

const REF_PATTERN = /^[\x21-\x7e]{1,128}$/; // printable ASCII, no spaces: ids partners echo back
const EVENT_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

const fail = (field: string, message: string, code = 'invalid_field'): ParseResult => ({
  ok: false,
  field,
  code,
  message,
});

/**
 * Normalises a partner's parameters onto canonical names (its key dictionary first), applies its
 * format (default status, one conversion per click, decimal comma, reversal markers), then
 * validates every canonical field. Pure: the controller only feeds it and maps the result.
 */
export function parsePostback(
  raw: Record<string, string | string[] | undefined>,
  dict?: KeyDictionary,
  format?: PartnerFormat,
): ParseResult {
  const n = normalizePostbackParams(raw, dict);
  if (!n.ok) return fail(n.field, n.message, n.code);
  const formatted = applyPartnerFormat(n.fields, raw, format);
  if (!formatted.ok) return fail(formatted.field, formatted.message, formatted.code);
  const f = formatted.fields;
  if (!f.click_id) return fail('click_id', 'click_id is required', 'missing_field');
  if (!REF_PATTERN.test(f.click_id))
    return fail('click_id', 'click_id must be 1-128 printable characters without spaces');
  if (!f.transaction_id) return fail('transaction_id', 'transaction_id is required', 'missing_field');
  if (!REF_PATTERN.test(f.transaction_id)) {
    return fail('transaction_id', 'transaction_id must be 1-128 printable characters without spaces');
  }
  if (!f.status && !formatted.status) return fail('status', 'status is required', 'missing_field');
  const status = formatted.status ?? mapStatus(f.status ?? '', dict);
  if (!status)
    return fail('status', 'status must be pending, approved, rejected or reversed (or a mapped code)');
  if (f.offer_id !== undefined && !ID_PATTERN.test(f.offer_id))
    return fail('offer_id', 'offer_id must be 1-64 of A-Z a-z 0-9 . _ : -');
  let payout: string | null = null;
  if (f.payout !== undefined) {
    const m = parseMicros(f.payout);
    if (!m.ok) return fail('payout', `payout ${m.reason}`);
    payout = m.micros.toString();
  }
  let currency: string | null = null;
  if (f.currency !== undefined) {
    currency = f.currency.toUpperCase();
    if (!isCurrency(currency))
      return fail('currency', 'currency must be an ISO 4217 code such as USD or EUR');
  }
  if (f.event !== undefined && !EVENT_PATTERN.test(f.event))
    return fail('event', 'event must be 1-64 of A-Z a-z 0-9 . _ : -');
  return {
    ok: true,
    value: {
      click_id: f.click_id,
      transaction_id: f.transaction_id,
      status,
      offer_id: f.offer_id ?? null,
      payout_micros: payout,
      currency,
      event: f.event ?? null,
      reason: f.reason ? clip(f.reason, 512) : null,
      extra: n.extra,
    },
  };
}
