export * from './label-bounder';
export * from './metrics.module';
export * from './refresher';
export * from './periodic-gauges';
