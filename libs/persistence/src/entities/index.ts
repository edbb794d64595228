import { ClickEntity } from './click.entity';
import { ConversionEntity } from './conversion.entity';
import { LedgerEntryEntity } from './ledger-entry.entity';
import { LedgerOutboxEntity } from './ledger-outbox.entity';
import { OfferDailyUsageEntity } from './offer-daily-usage.entity';
import { OfferEntity } from './offer.entity';
import { ParkedPostbackEntity } from './parked-postback.entity';
import { PartnerEntity } from './partner.entity';
import { PostbackOutcomeEntity } from './postback-outcome.entity';
import { PostbackEntity } from './postback.entity';
import { ProjectionCheckpointEntity } from './projection-checkpoint.entity';
import { PublisherEntity } from './publisher.entity';
import { SourceBlockEntity, SourceDailyStatsEntity } from './source-control.entity';

export {
  ClickEntity,
  ConversionEntity,
  LedgerEntryEntity,
  LedgerOutboxEntity,
  OfferDailyUsageEntity,
  OfferEntity,
  ParkedPostbackEntity,
  PartnerEntity,
  PostbackEntity,
  PostbackOutcomeEntity,
  ProjectionCheckpointEntity,
  PublisherEntity,
  SourceBlockEntity,
  SourceDailyStatsEntity,
};
export type { CatalogStatus } from './offer.entity';
export type { AuthMode } from './partner.entity';

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
  PostbackOutcomeEntity,
  ParkedPostbackEntity,
  OfferDailyUsageEntity,
  SourceDailyStatsEntity,
  SourceBlockEntity,
];
