export * from './catalog.cache';
export * from './catalog.module';
export * from './offer-facts';
