import type { PostbackReceived } from '@app/contracts';
import { clickIdTime, isWellFormedClickId } from '../click-id';
import type { PostbackFacts } from './conversion.types';
import type { ClickLookup } from './decide';

/** Clock skew between hosts allowed for a click id's mint time (CLICK_ID_MAX_SKEW_MS). */
export const DEFAULT_CLICK_ID_MAX_SKEW_MS = 60_000;

/**
 * What a click id says when its click is not stored: not one we could mint (malformed), minted
 * in the future beyond clock skew (forged), minted at or before the click store's watermark
 * (unknown: it never existed), or newer (not visible yet: it may still be on its way). The one
 * statement of the rule, for the processor and the dry run alike.
 */
export function missingClick(clickId: string, now: Date, maxSkewMs: number, watermark: Date): ClickLookup {
  if (!isWellFormedClickId(clickId)) return { kind: 'malformed' };
  const minted = clickIdTime(clickId) ?? 0;
  if (minted > now.getTime() + maxSkewMs) return { kind: 'future' };
  return minted <= watermark.getTime() ? { kind: 'unknown' } : { kind: 'not_visible_yet' };
}

/** A postback's canonical payload as the rules see it. */
export function postbackFactsOf(
  eventId: string,
  p: Omit<PostbackReceived['payload'], 'received_at' | 'source_ip' | 'extra'>,
  receivedAt: Date,
): PostbackFacts {
  return {
    eventId,
    partnerId: p.partner_id,
    clickId: p.click_id,
    transactionId: p.transaction_id,
    status: p.status,
    offerId: p.offer_id,
    payoutMicros: p.payout_micros === null ? null : BigInt(p.payout_micros),
    currency: p.currency,
    event: p.event,
    receivedAt,
  };
}
