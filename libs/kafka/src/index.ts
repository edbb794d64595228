export * from './kafka-client';
export * from './batching-producer';
export * from './kafka-batch.server';
export * from './kafka-health';
export * from './kafka.module';
export * from './topic-admin';
export * from './kafka-ready';
export * from './observers';
