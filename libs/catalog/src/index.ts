export * from './catalog.cache';
export * from './catalog.module';
