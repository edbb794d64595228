export * from './topics';
export * from './envelope';
export * from './events';
export * from './schemas';
export * from './ledger';
export * from './consumer-groups';
export * from './publisher-deliveries';
export * from './postbacks-dead';
