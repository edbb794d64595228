export * from './rule-input';
export * from './rules.store';
