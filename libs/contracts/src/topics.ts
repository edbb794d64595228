/**
 * Every Kafka topic the system uses, provisioned as code by infra (`infra/cli/provision-topics`).
 * Names are the contract; a deployment may prefix them (TOPIC_PREFIX) to share a broker.
 */
export interface TopicSpec {
  /** Logical name, also the topic name when no prefix is set. */
  readonly name: string;
  readonly partitions: number;
  /** Topic-level configs passed to Kafka as-is. */
  readonly config: Readonly<Record<string, string>>;
  readonly key: string;
  readonly doc: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const Topics = {
  clicksRecorded: 'clicks.recorded',
  postbacksReceived: 'postbacks.received',
  postbacksRefused: 'postbacks.refused',
  conversionsLedger: 'conversions.ledger',
  conversionsLedgerV2: 'conversions.ledger.v2',
  deadLetters: 'dead.letters',
  publisherDeliveriesDead: 'publisher.deliveries.dead',
  postbacksDead: 'postbacks.dead',
} as const;

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

export type TopicName = (typeof Topics)[keyof typeof Topics];

export const TOPIC_SPECS: readonly TopicSpec[] = [
  {
    name: Topics.clicksRecorded,
    partitions: 6,
    key: 'click_id',
    // Bounded in size too (per partition): a click flood must not fill the broker's disk.
    config: {
      'retention.ms': String(90 * DAY_MS),
      'retention.bytes': String(8 * GIB),
      'cleanup.policy': 'delete',
    },
    doc: 'Every accepted click, as recorded by the gateway. Kept 90 days (and at most 8 GiB per partition): longer than any attribution window, so the click store can be rebuilt.',
  },
  {
    name: Topics.postbacksReceived,
    partitions: 6,
    key: '<partner_id>:<transaction_id>',
    config: { 'retention.ms': String(90 * DAY_MS), 'cleanup.policy': 'delete' },
    doc: 'Every postback the gateway accepted (answered 2xx), normalised to canonical fields. Keyed so that all statuses of one transaction stay in order on one partition.',
  },
  {
    name: Topics.postbacksRefused,
    partitions: 3,
    key: '<partner_id>',
    config: {
      'retention.ms': String(30 * DAY_MS),
      'retention.bytes': String(256 * MIB),
      'cleanup.policy': 'delete',
    },
    doc: 'A sample of the postbacks the gateway refused (4xx) with their reason, enough to debug a partner (REFUSAL_SAMPLES_PER_SECOND per partner; every refusal is counted in postbacks_refused_total). At most 256 MiB per partition. Never carries secrets or signatures.',
  },
  {
    name: Topics.conversionsLedger,
    partitions: 6,
    key: 'conversion_id',
    config: { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' },
    doc: 'The conversion ledger billing consumes: immutable entries, kept forever (schema version 1).',
  },
  {
    name: Topics.conversionsLedgerV2,
    partitions: 6,
    key: 'conversion_id',
    config: { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' },
    doc: 'The same entries as conversions.ledger (same ids, key and order) in schema version 2: with their revenue, publisher payout, margin, user reward, origin and double-entry postings. Kept forever.',
  },
  {
    name: Topics.deadLetters,
    partitions: 1,
    key: '<source topic>',
    config: { 'retention.ms': '-1', 'cleanup.policy': 'delete' },
    doc: 'Messages a worker could not decode or process for good, with the original bytes, source topic/partition/offset and the error. Kept until an operator replays or discards them.',
  },
  {
    name: Topics.publisherDeliveriesDead,
    partitions: 1,
    key: 'publisher_id',
    config: { 'retention.ms': '-1', 'cleanup.policy': 'delete' },
    doc: 'Publisher postbacks the notifier gave up on after the retry window, with the entry and the last error. Operators replay them (admin API or infra/cli/publisher-deliveries).',
  },
  {
    name: Topics.postbacksDead,
    partitions: 1,
    key: '<partner_id>:<transaction_id>',
    config: { 'retention.ms': '-1', 'cleanup.policy': 'delete' },
    doc: 'Postbacks whose click never became visible within the retry budget (decided unknown_click on the ledger), with the original postback, every attempt and its error. For investigation: infra/cli/dead-letters exhausted.',
  },
];

export function topicName(logical: TopicName, prefix = ''): string {
  return `${prefix}${logical}`;
}
