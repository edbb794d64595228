import { formatMicros } from '@app/domain';
import type { OfferEntity, PartnerEntity, PublisherEntity } from '@app/persistence';
import { formatView } from './partner-formats';

/** What the admin API returns. Partner secrets and tokens are write-only: never in a view. */
export const offerView = (o: OfferEntity) => ({
  id: o.id,
  name: o.name,
  landing_url: o.landingUrl,
  payout: formatMicros(BigInt(o.payoutMicros)),
  currency: o.currency,
  allowed_geos: o.allowedGeos,
  daily_cap: o.dailyCap,
  payout_cap: o.payoutCapMicros === null ? null : formatMicros(BigInt(o.payoutCapMicros)),
  attribution_window_hours: o.attributionWindowHours,
  goals: o.goals,
  min_conversion_seconds: o.minConversionSeconds,
  hold_payout_above: o.holdPayoutAboveMicros === null ? null : formatMicros(BigInt(o.holdPayoutAboveMicros)),
  review_geos: o.reviewGeos,
  partner_ids: o.partnerIds,
  max_payout: o.maxPayoutMicros === null ? null : formatMicros(BigInt(o.maxPayoutMicros)),
  burst_max_conversions: o.burstMaxConversions,
  burst_window_seconds: o.burstWindowSeconds,
  status: o.status,
  created_at: o.createdAt.toISOString(),
  updated_at: o.updatedAt.toISOString(),
});

export const publisherView = (p: PublisherEntity) => ({
  id: p.id,
  name: p.name,
  status: p.status,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
});

export const partnerView = (p: PartnerEntity) => ({
  id: p.id,
  name: p.name,
  auth: {
    modes: p.authModes,
    secrets_configured: p.hmacSecrets.length,
    token_configured: p.token !== null,
    token_param: p.tokenParam,
    ips: p.ipAllowlist,
  },
  preset: p.preset,
  key_map: p.keyMap,
  status_map: p.statusMap,
  format: formatView(p.format),
  late_after_seconds: p.lateAfterSeconds,
  retry_attempts: p.retryAttempts,
  tolerance_seconds: p.toleranceSeconds,
  rate_limit_per_second: p.rateLimitPerSecond,
  status: p.status,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
});
