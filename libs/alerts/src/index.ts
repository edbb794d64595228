export * from './alert-inputs';
export * from './alert-store';
