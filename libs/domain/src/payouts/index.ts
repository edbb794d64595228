export * from './payout-rules';
export * from './postings';
