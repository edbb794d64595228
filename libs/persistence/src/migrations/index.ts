import { Foundation1795537576936 } from './1795537576936-Foundation';
import { Catalog1795538418837 } from './1795538418837-Catalog';
import { Processing1795539648948 } from './1795539648948-Processing';

import { LedgerAppRole1795541000000 } from './1795541000000-LedgerAppRole';
import { SourceControls1795545292766 } from './1795545292766-SourceControls';

/** Every migration, in order. `npm run migration:check` fails when entities drift from these. */
export const MIGRATIONS = [
  Foundation1795537576936,
  Catalog1795538418837,
  Processing1795539648948,
  LedgerAppRole1795541000000,
  SourceControls1795545292766,
];
