/**
 * Consumer groups the system itself runs (named before TOPIC_PREFIX is applied). Kept here so
 * the workers and the gateway's lag report name the same groups without importing each other.
 */
export const ConsumerGroups = {
  /** apps/processor: reads clicks.recorded, postbacks.received and postbacks.refused. */
  processor: 'ledger-processor',
} as const;
