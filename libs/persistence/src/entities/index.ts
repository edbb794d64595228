import { AlertEntity, AlertNotificationEntity, AlertSampleEntity } from './alert.entity';
import { ClickEntity } from './click.entity';
import { ConversionEntity } from './conversion.entity';
import { DisputeEntity, DisputeItemEntity, DisputeRowEntity } from './dispute.entity';
import { ExchangeRateEntity } from './exchange-rate.entity';
import { LaunchCriteriaEntity } from './launch-criteria.entity';
import { LedgerEntryEntity } from './ledger-entry.entity';
import { LedgerPostingEntity, PayoutRuleEntity, RewardRuleEntity } from './money-rules.entity';
import { LedgerOutboxEntity, PostbackDeadOutboxEntity } from './ledger-outbox.entity';
import { OfferDailyUsageEntity } from './offer-daily-usage.entity';
import { OfferEntity } from './offer.entity';
import { AdminAuditEntity, OperatorTokenEntity } from './operator.entity';
import { ParkedPostbackEntity } from './parked-postback.entity';
import { PartnerEntity } from './partner.entity';
import { PostbackOutcomeEntity } from './postback-outcome.entity';
import { PostbackEntity } from './postback.entity';
import { ProjectionCheckpointEntity } from './projection-checkpoint.entity';
import { PublisherEntity } from './publisher.entity';
import { RefusedPostbackEntity } from './refused-postback.entity';
import {
  PublisherDeliveryAttemptEntity,
  PublisherDeliveryEntity,
  PublisherPostbackEntity,
} from './publisher-postback.entity';
import {
  LatencyDailyEntity,
  ProjectionQueueEntity,
  ReconDailyEntity,
  ReconDailyReasonEntity,
  ReconDailyRewardEntity,
  ReviewQueueEntity,
} from './read-model.entity';
import {
  SourceControlEntity,
  SourceDailyStatsEntity,
  SourcePolicyEntity,
  TrafficRuleEntity,
} from './source-control.entity';

export {
  AdminAuditEntity,
  OperatorTokenEntity,
  AlertEntity,
  AlertNotificationEntity,
  AlertSampleEntity,
  ClickEntity,
  DisputeEntity,
  DisputeItemEntity,
  DisputeRowEntity,
  ExchangeRateEntity,
  LaunchCriteriaEntity,
  ConversionEntity,
  LedgerEntryEntity,
  LedgerOutboxEntity,
  PostbackDeadOutboxEntity,
  OfferDailyUsageEntity,
  OfferEntity,
  ParkedPostbackEntity,
  PartnerEntity,
  PostbackEntity,
  PostbackOutcomeEntity,
  ProjectionCheckpointEntity,
  PublisherEntity,
  RefusedPostbackEntity,
  PublisherPostbackEntity,
  PublisherDeliveryEntity,
  PublisherDeliveryAttemptEntity,
  SourceControlEntity,
  SourceDailyStatsEntity,
  SourcePolicyEntity,
  TrafficRuleEntity,
  LatencyDailyEntity,
  ProjectionQueueEntity,
  ReconDailyEntity,
  ReconDailyReasonEntity,
  ReconDailyRewardEntity,
  ReviewQueueEntity,
};
export type { CatalogStatus } from './offer.entity';
export type { AuthMode } from './partner.entity';
export { OPERATOR_ROLES, type OperatorRole } from './operator.entity';
export type { PublisherDeliveryState, PublisherDeliveryStatus } from './publisher-postback.entity';

export const ENTITIES = [
  ClickEntity,
  PostbackEntity,
  ProjectionCheckpointEntity,
  OfferEntity,
  PublisherEntity,
  PartnerEntity,
  ConversionEntity,
  LedgerEntryEntity,
  LedgerOutboxEntity,
  PostbackDeadOutboxEntity,
  PostbackOutcomeEntity,
  ParkedPostbackEntity,
  OfferDailyUsageEntity,
  SourceDailyStatsEntity,
  SourceControlEntity,
  SourcePolicyEntity,
  TrafficRuleEntity,
  ProjectionQueueEntity,
  ReconDailyEntity,
  ReconDailyReasonEntity,
  LatencyDailyEntity,
  ReviewQueueEntity,
  LaunchCriteriaEntity,
  DisputeEntity,
  DisputeRowEntity,
  DisputeItemEntity,
  AlertEntity,
  AlertNotificationEntity,
  AlertSampleEntity,
  PublisherPostbackEntity,
  PublisherDeliveryEntity,
  PublisherDeliveryAttemptEntity,
  OperatorTokenEntity,
  AdminAuditEntity,
  RefusedPostbackEntity,
  ExchangeRateEntity,
  PayoutRuleEntity,
  RewardRuleEntity,
  LedgerPostingEntity,
  ReconDailyRewardEntity,
];
