import { ClickEntity } from './click.entity';
import { OfferEntity } from './offer.entity';
import { PartnerEntity } from './partner.entity';
import { PostbackEntity } from './postback.entity';
import { ProjectionCheckpointEntity } from './projection-checkpoint.entity';
import { PublisherEntity } from './publisher.entity';

export {
  ClickEntity,
  OfferEntity,
  PartnerEntity,
  PostbackEntity,
  ProjectionCheckpointEntity,
  PublisherEntity,
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
];
