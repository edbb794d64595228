import { createHash } from 'node:crypto';
import {
  type CanonicalField,
  POSTBACK_STATUSES,
  type PostbackStatus,
  type RawParams,
} from './key-dictionary';

// How a partner's postbacks differ from the canonical shape beyond parameter names and status
// codes (those are the key dictionary's). Applied at the gateway, after the dictionary and
// before validation, so the event on Kafka is always canonical.

export const MISSING_TRANSACTION_ID = ['refuse', 'per_click'] as const;
export type MissingTransactionId = (typeof MISSING_TRANSACTION_ID)[number];

export interface ReversalMarkers {
  /** `payout=-2.50`: a reversal of the transaction (the amount is kept without its sign). */
  negativeAmount?: boolean;
  /** `transaction_id=r-123`: a reversal of transaction `123`. */
  idPrefix?: string;
  /** `is_chargeback=1`: this parameter with one of `flagValues` marks a reversal. */
  flagParam?: string;
  /** Lower case; default `1`, `true`, `yes`. */
  flagValues?: string[];
}

export interface PartnerFormat {
  /** Applied when a postback sends no status. Absent: a status is required. */
  defaultStatus?: PostbackStatus;
  /**
   * `per_click`: a postback without a transaction id stands for the click's one conversion per
   * goal; its transaction id is derived from the click id (`click:<click_id>`). Default `refuse`.
   */
  missingTransactionId?: MissingTransactionId;
  /** Amounts are written with a decimal comma: `12,34` is 12.34. */
  decimalComma?: boolean;
  reversal?: ReversalMarkers;
  /** Parameters never read as canonical fields (kept for audit): the platform's own ids. */
  ignoreParams?: string[];
}

export const DEFAULT_REVERSAL_FLAG_VALUES: readonly string[] = ['1', 'true', 'yes'];

/** The transaction id of a partner that sends none: one per click (and goal, by the dedupe key). */
export const CLICK_TRANSACTION_PREFIX = 'click:';
const MAX_TRANSACTION_ID = 128;

export function transactionIdForClick(clickId: string): string {
  const id = `${CLICK_TRANSACTION_PREFIX}${clickId}`;
  if (id.length <= MAX_TRANSACTION_ID) return id;
  // Longer than any id we mint (it will be refused as unknown_click): still one id per click.
  return `${CLICK_TRANSACTION_PREFIX}sha256:${createHash('sha256').update(clickId).digest('hex')}`;
}

export type FormatResult =
  | {
      ok: true;
      fields: Partial<Record<CanonicalField, string>>;
      /** Set when the format decides the status: a reversal marker, or the default status. */
      status?: PostbackStatus;
      /** Why, for the audit trail: `negative_amount`, `id_prefix`, `flag`, `default_status`, `per_click`. */
      applied: string[];
    }
  | { ok: false; field: CanonicalField; code: string; message: string };

const rawValue = (raw: RawParams, name: string): string | undefined => {
  const key = Object.keys(raw).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : raw[key];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first.trim() : undefined;
};

/**
 * Applies a partner's format to the fields its key dictionary produced. Pure; never throws.
 * A reversal marker wins over the status parameter: a negative amount is a reversal whatever
 * else the postback says.
 */
export function applyPartnerFormat(
  fields: Partial<Record<CanonicalField, string>>,
  raw: RawParams,
  format: PartnerFormat | undefined,
): FormatResult {
  const f = { ...fields };
  const applied: string[] = [];
  const rev = format?.reversal;
  let reversed = false;

  if (f.payout !== undefined) {
    let v = f.payout;
    if (rev?.negativeAmount && v.startsWith('-')) {
      v = v.slice(1).trim();
      reversed = true;
      applied.push('negative_amount');
    }
    if (format?.decimalComma && v.includes(',')) {
      if (!/^\d+,\d+$/.test(v))
        return fail('payout', 'payout must have one decimal comma and no thousands separator, like 12,34');
      v = v.replace(',', '.');
    }
    f.payout = v;
  }

  if (rev?.idPrefix && f.transaction_id?.startsWith(rev.idPrefix)) {
    const original = f.transaction_id.slice(rev.idPrefix.length);
    if (original === '')
      return fail('transaction_id', `transaction_id is only the reversal prefix ${rev.idPrefix}`);
    f.transaction_id = original;
    reversed = true;
    applied.push('id_prefix');
  }

  if (rev?.flagParam) {
    const flag = rawValue(raw, rev.flagParam)?.toLowerCase();
    const values = rev.flagValues ?? DEFAULT_REVERSAL_FLAG_VALUES;
    if (flag !== undefined && values.some((v) => v.toLowerCase() === flag)) {
      reversed = true;
      applied.push('flag');
    }
  }

  if (f.transaction_id === undefined && format?.missingTransactionId === 'per_click' && f.click_id) {
    f.transaction_id = transactionIdForClick(f.click_id);
    applied.push('per_click');
  }

  let status: PostbackStatus | undefined;
  if (reversed) status = 'reversed';
  else if (f.status === undefined && format?.defaultStatus) {
    status = format.defaultStatus;
    applied.push('default_status');
  }
  return { ok: true, fields: f, ...(status ? { status } : {}), applied };
}

function fail(field: CanonicalField, message: string): FormatResult {
  return { ok: false, field, code: 'invalid_field', message };
}

const PARAM_NAME = /^[A-Za-z0-9_.[\]-]{1,64}$/;

/**
 * Checks a format from outside (the admin API, a stored row): the first problem as
 * `[field, message]`, or undefined when it is usable.
 */
export function checkPartnerFormat(f: PartnerFormat): [string, string] | undefined {
  if (f.defaultStatus !== undefined && !(POSTBACK_STATUSES as readonly string[]).includes(f.defaultStatus))
    return ['default_status', `default_status must be one of ${POSTBACK_STATUSES.join(', ')}`];
  if (
    f.missingTransactionId !== undefined &&
    !(MISSING_TRANSACTION_ID as readonly string[]).includes(f.missingTransactionId)
  )
    return [
      'missing_transaction_id',
      `missing_transaction_id must be ${MISSING_TRANSACTION_ID.join(' or ')}`,
    ];
  const r = f.reversal;
  if (r?.idPrefix !== undefined && !/^[\x21-\x7e]{1,16}$/.test(r.idPrefix))
    return ['reversal.id_prefix', 'reversal.id_prefix must be 1-16 printable characters without spaces'];
  if (r?.flagParam !== undefined && !PARAM_NAME.test(r.flagParam))
    return ['reversal.flag_param', 'reversal.flag_param must be a 1-64 character parameter name'];
  if (
    r?.flagValues !== undefined &&
    (r.flagValues.length === 0 || r.flagValues.some((v) => !/^\S{1,32}$/.test(v)))
  )
    return ['reversal.flag_values', 'reversal.flag_values must be 1-32 character values without spaces'];
  if (f.ignoreParams?.some((n) => !PARAM_NAME.test(n)))
    return ['ignore_params', 'ignore_params must be 1-64 character parameter names'];
  return undefined;
}
