export * from './conversion-lock';
export * from './ledger-writer';
export * from './operator-entry';
export * from './conversion-rebuild';
export * from './money-rules';
export * from './trial-balance';
export * from './ledger-v2';
export * from './outbox';
