export * from './dispute-import';
export * from './dispute-resolve';
