export * from './data-source';
export * from './entities';
export * from './postgres-health';
export * from './database.module';
export * from './app-role';
export * from './secrets/sealed-secrets';
