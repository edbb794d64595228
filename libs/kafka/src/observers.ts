/**
 * Hooks the Kafka wrappers call so that metrics can be kept without this folder depending on
 * a metrics library. Every hook is synchronous and in-process (a counter increment at most):
 * they run on the hot path.
 */
export interface ProduceObserver {
  /** One produce request answered: how many messages per topic, how long it took, and whether it failed. */
  produced(messagesByTopic: ReadonlyMap<string, number>, seconds: number, failed: boolean): void;
}

export interface ConsumeObserver {
  /** One partition batch handed to its handler (`handler` is the logical topic it is registered for). */
  batchHandled(handler: string, size: number, seconds: number, failed: boolean): void;
  /** A message was sent to the dead-letter topic (after Kafka acknowledged it). */
  deadLettered(sourceTopic: string): void;
}
