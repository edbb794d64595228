import type { PostbackReceived } from '@app/contracts';
import type { ClickFacts, OfferFacts, PostbackFacts } from '@app/domain';
import type { OfferEntity } from '@app/persistence';

/** A `clicks` row as the decider reads it. */
export interface ClickRow {
  click_id: string;
  offer_id: string;
  publisher_id: string;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  placement: string | null;
  geo: string | null;
  device: string | null;
  clicked_at: Date;
  ip: string | null;
  user_agent: string | null;
}

export function offerFacts(o: OfferEntity): OfferFacts {
  return {
    id: o.id,
    status: o.status,
    payoutMicros: BigInt(o.payoutMicros),
    currency: o.currency,
    allowedGeos: o.allowedGeos,
    dailyCap: o.dailyCap,
    payoutCapMicros: o.payoutCapMicros === null ? null : BigInt(o.payoutCapMicros),
    attributionWindowHours: o.attributionWindowHours,
    goals: o.goals,
    minConversionSeconds: o.minConversionSeconds,
    holdPayoutAboveMicros: o.holdPayoutAboveMicros === null ? null : BigInt(o.holdPayoutAboveMicros),
    reviewGeos: o.reviewGeos,
    burst:
      o.burstMaxConversions !== null && o.burstWindowSeconds !== null
        ? { maxConversions: o.burstMaxConversions, windowSeconds: o.burstWindowSeconds }
        : null,
    partnerIds: o.partnerIds ?? null,
    maxPayoutMicros:
      o.maxPayoutMicros === null || o.maxPayoutMicros === undefined ? null : BigInt(o.maxPayoutMicros),
  };
}

export function postbackFacts(e: PostbackReceived): PostbackFacts {
  const p = e.payload;
  return {
    eventId: e.id,
    partnerId: p.partner_id,
    clickId: p.click_id,
    transactionId: p.transaction_id,
    status: p.status,
    offerId: p.offer_id,
    payoutMicros: p.payout_micros === null ? null : BigInt(p.payout_micros),
    currency: p.currency,
    event: p.event,
    receivedAt: new Date(p.received_at),
  };
}

export function clickFacts(r: ClickRow): ClickFacts {
  return {
    clickId: r.click_id,
    offerId: r.offer_id,
    publisherId: r.publisher_id,
    sub1: r.sub1,
    sub2: r.sub2,
    sub3: r.sub3,
    sub4: r.sub4,
    sub5: r.sub5,
    placement: r.placement,
    geo: r.geo,
    device: r.device,
    clickedAt: r.clicked_at,
  };
}
