import { ClickEntity } from './click.entity';
import { PostbackEntity } from './postback.entity';
import { ProjectionCheckpointEntity } from './projection-checkpoint.entity';

export { ClickEntity, PostbackEntity, ProjectionCheckpointEntity };

export const ENTITIES = [ClickEntity, PostbackEntity, ProjectionCheckpointEntity];
