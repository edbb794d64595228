import type { OfferFacts } from '@app/domain';
import type { OfferEntity } from '@app/persistence';

/** An offer as `decide` reads it: the processor's decisions and the gateway's dry run. */
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
