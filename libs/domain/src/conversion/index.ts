export * from './conversion.types';
export * from './ids';
export * from './decide';
export * from './evolve';
export * from './click-lookup';
