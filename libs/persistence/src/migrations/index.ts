import { Foundation1795537576936 } from './1795537576936-Foundation';

/** Every migration, in order. `npm run migration:check` fails when entities drift from these. */
export const MIGRATIONS = [Foundation1795537576936];
