export * from './topics';
export * from './envelope';
export * from './events';
export * from './schemas';
export * from './ledger';
