export * from './find-rate';
export * from './rate-input';
export * from './rates.store';
