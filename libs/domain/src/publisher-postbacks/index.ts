export * from './template';
export * from './legacy-hash';
export * from './delivery-policy';
export * from './signed-request';
export * from './outbound-address';
export * from './outbound-resolver';
