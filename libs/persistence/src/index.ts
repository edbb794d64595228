export * from './data-source';
export * from './entities';
export * from './postgres-health';
export * from './database.module';
export * from './catalog/catalog.cache';
export * from './catalog/catalog.module';
