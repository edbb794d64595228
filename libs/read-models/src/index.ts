export * from './latency';
export * from './launch-check';
export * from './projection';
export * from './read-model-store';
export * from './reports';
export * from './review';
