/**
 * Creates every topic in libs/contracts (TOPIC_SPECS) that is missing, and brings the configs
 * of existing ones in line (partitions are only ever added). Idempotent.
 * Run by infra (`node dist/infra/cli/provision-topics.js`) and by tests with their own prefix.
 *
 * Durability follows the cluster (docs/kafka-cluster.md): replication factor min(3, brokers),
 * min.insync.replicas 2 from three replicas on (1 below, where 2 would refuse every acks=all
 * write), unclean leader election off. With NODE_ENV=production it refuses, before changing
 * anything, a cluster of fewer than three brokers or an existing topic with fewer than three
 * replicas, and checks min.insync.replicas is at least 2 once configs are applied.
 */
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { TOPIC_SPECS, type TopicSpec } from '@app/contracts';

export interface ReplicationPolicy {
  replicationFactor: number;
  minInsyncReplicas: number;
}

/** What production requires of every project topic. */
export const PRODUCTION_DURABILITY: ReplicationPolicy = { replicationFactor: 3, minInsyncReplicas: 2 };

/** The replication a new topic gets on a cluster of `brokers` live brokers. */
export function replicationFor(brokers: number): ReplicationPolicy {
  if (!Number.isInteger(brokers) || brokers < 1) throw new Error(`no brokers to replicate on (${brokers})`);
  const replicationFactor = Math.min(3, brokers);
  return { replicationFactor, minInsyncReplicas: minInsyncFor(replicationFactor) };
}

/** min.insync.replicas for a topic of `replicas` replicas: 2 needs three, so one may be down. */
export function minInsyncFor(replicas: number): number {
  return replicas >= 3 ? 2 : 1;
}

/** A topic's configs as provisioned: its spec's, plus the durability settings for its replicas. */
export function topicConfig(spec: TopicSpec, replicas: number): Record<string, string> {
  return {
    ...spec.config,
    'min.insync.replicas': String(minInsyncFor(replicas)),
    'unclean.leader.election.enable': 'false',
  };
}

export interface TopicDurability {
  topic: string;
  /** The fewest replicas any of its partitions has. */
  replicationFactor: number;
  /** Unknown until its configs are read. */
  minInsyncReplicas?: number;
}

/** Why production refuses these topics (empty: it does not). */
export function durabilityProblems(topics: readonly TopicDurability[]): string[] {
  const need = PRODUCTION_DURABILITY;
  const problems: string[] = [];
  for (const t of topics) {
    if (t.replicationFactor < need.replicationFactor)
      problems.push(
        `${t.topic} has replication factor ${t.replicationFactor} (at least ${need.replicationFactor})`,
      );
    if (t.minInsyncReplicas !== undefined && t.minInsyncReplicas < need.minInsyncReplicas)
      problems.push(
        `${t.topic} has min.insync.replicas ${t.minInsyncReplicas} (at least ${need.minInsyncReplicas})`,
      );
  }
  return problems;
}

/** How long provisioning waits for a cluster's brokers to agree on what it just changed. */
const SETTLE_MS = 30_000;

/**
 * Retries a metadata or config read while Kafka calls its error retriable: on a cluster, a topic
 * just created is unknown to some brokers for a moment ("does not host this topic-partition").
 */
async function settled<T>(read: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    try {
      return await read();
    } catch (e) {
      if (!(e as { retriable?: boolean }).retriable || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export class TopicDurabilityError extends Error {
  override name = 'TopicDurabilityError';
}

export interface ProvisionOptions {
  /** Refuse under-replicated topics (default: NODE_ENV=production). */
  production?: boolean;
}

export async function provisionTopics(
  brokers: string[],
  prefix = '',
  opts: ProvisionOptions = {},
): Promise<string[]> {
  const production = opts.production ?? process.env.NODE_ENV === 'production';
  const kafka = new Kafka({ clientId: 'provision-topics', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const changes: string[] = [];
  const config = (entries: Record<string, string>) =>
    Object.entries(entries).map(([name, value]) => ({ name, value }));
  const name = (t: TopicSpec) => prefix + t.name;
  try {
    const cluster = await admin.describeCluster();
    const policy = replicationFor(cluster.brokers.length);
    if (production && policy.replicationFactor < PRODUCTION_DURABILITY.replicationFactor)
      throw new TopicDurabilityError(
        `NODE_ENV=production needs at least ${PRODUCTION_DURABILITY.replicationFactor} brokers; ` +
          `the cluster at ${brokers.join(',')} has ${cluster.brokers.length} (docs/kafka-cluster.md)`,
      );
    const listed = new Set(await admin.listTopics());
    const present = TOPIC_SPECS.filter((t) => listed.has(name(t)));
    let replicas = await replicasOf(admin, present.map(name));
    if (production) refuseUnderReplicated(present.map(name), replicas);
    // One topic per request: the controller's "already exists" is the truth, where a broker's
    // topic list may lag a topic created a moment ago.
    const created: TopicSpec[] = [];
    for (const t of TOPIC_SPECS.filter((t) => !listed.has(name(t)))) {
      const made = await admin.createTopics({
        waitForLeaders: false,
        topics: [
          {
            topic: name(t),
            numPartitions: t.partitions,
            replicationFactor: policy.replicationFactor,
            configEntries: config(topicConfig(t, policy.replicationFactor)),
          },
        ],
      });
      if (made) created.push(t);
      else present.push(t);
    }
    if (created.length) {
      await settled(async () => {
        const meta = await admin.fetchTopicMetadata({ topics: created.map(name) });
        if (meta.topics.some((t) => t.partitions.some((p) => p.leader < 0)))
          throw Object.assign(new Error('new topics have no leaders yet'), { retriable: true });
      });
      changes.push(
        ...created.map(
          (t) =>
            `created ${name(t)} (${t.partitions} partitions, ${policy.replicationFactor} replicas, min.insync.replicas ${policy.minInsyncReplicas})`,
        ),
      );
    }
    if (present.length > 0) {
      replicas = await replicasOf(admin, present.map(name));
      if (production) refuseUnderReplicated(present.map(name), replicas);
      for (const t of present)
        if (replicas.get(name(t))!.replicas < policy.replicationFactor)
          changes.push(
            `kept ${name(t)} at replication factor ${replicas.get(name(t))!.replicas} (the cluster allows ${policy.replicationFactor}; ` +
              'only a partition reassignment raises it)',
          );
      const grow = present.filter((t) => replicas.get(name(t))!.partitions < t.partitions);
      if (grow.length > 0) {
        await admin.createPartitions({
          topicPartitions: grow.map((t) => ({ topic: name(t), count: t.partitions })),
        });
        changes.push(...grow.map((t) => `grew ${name(t)} to ${t.partitions} partitions`));
      }
      // alterConfigs replaces a topic's whole override set, so every config goes in each time.
      await admin.alterConfigs({
        validateOnly: false,
        resources: present.map((t) => ({
          type: ConfigResourceTypes.TOPIC,
          name: name(t),
          configEntries: config(topicConfig(t, replicas.get(name(t))!.replicas)),
        })),
      });
    }
    if (production) {
      // Each broker applies the configs just written from the metadata log a moment later.
      let problems: string[] = [];
      const deadline = Date.now() + SETTLE_MS;
      do {
        problems = durabilityProblems(await readDurability(admin, prefix));
        if (problems.length) await new Promise((r) => setTimeout(r, 200));
      } while (problems.length && Date.now() < deadline);
      if (problems.length)
        throw new TopicDurabilityError(`NODE_ENV=production refuses these topics: ${problems.join('; ')}`);
    }
  } finally {
    await admin.disconnect();
  }
  return changes;
}

type Admin = ReturnType<Kafka['admin']>;

/** Per topic: the fewest replicas any partition has, and the partition count. */
async function replicasOf(
  admin: Admin,
  topics: string[],
): Promise<Map<string, { replicas: number; partitions: number }>> {
  if (topics.length === 0) return new Map();
  const meta = await settled(() => admin.fetchTopicMetadata({ topics }));
  return new Map(
    meta.topics.map((m) => [
      m.name,
      { replicas: Math.min(...m.partitions.map((p) => p.replicas.length)), partitions: m.partitions.length },
    ]),
  );
}

function refuseUnderReplicated(
  topics: string[],
  replicas: Map<string, { replicas: number; partitions: number }>,
): void {
  const problems = durabilityProblems(
    topics.map((topic) => ({ topic, replicationFactor: replicas.get(topic)?.replicas ?? 0 })),
  );
  if (problems.length)
    throw new TopicDurabilityError(
      `NODE_ENV=production refuses under-replicated topics: ${problems.join('; ')}. ` +
        'Reassign their partitions to three brokers (kafka-reassign-partitions), docs/kafka-cluster.md',
    );
}

/** Replication factor and effective min.insync.replicas of every project topic, as the cluster has them. */
export async function readDurability(admin: Admin, prefix = ''): Promise<TopicDurability[]> {
  const names = TOPIC_SPECS.map((t) => prefix + t.name);
  const { topics } = await settled(() => admin.fetchTopicMetadata({ topics: names }));
  const { resources } = await settled(() =>
    admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ['min.insync.replicas'],
      })),
    }),
  );
  return names.map((topic) => {
    const value = resources
      .find((r) => r.resourceName === topic)
      ?.configEntries.find((c) => c.configName === 'min.insync.replicas')?.configValue;
    return {
      topic,
      replicationFactor: Math.min(
        ...(topics.find((m) => m.name === topic)?.partitions.map((p) => p.replicas.length) ?? [0]),
      ),
      // Not reported reads as 0: production refuses what it cannot confirm.
      minInsyncReplicas: Number(value ?? 0),
    };
  });
}
