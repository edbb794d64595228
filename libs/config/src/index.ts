export * from './env';
export * from './common.env';
export * from './config.module';
export * from './logger';
export * from './redact';
export * from './database-urls';
export * from './secret-box';
export * from './edge.env';
