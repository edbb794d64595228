export * from './test-database';
export * from './test-kafka';
export * from './app-process';
export * from './own-kafka';
export * from './partner-client';
export * from './topic-count';
export * from './traffic';
export * from './own-postgres';
