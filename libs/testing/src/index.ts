export * from './test-database';
export * from './test-kafka';
export * from './app-process';
export * from './own-kafka';
