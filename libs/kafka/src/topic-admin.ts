/**
 * Creates every topic in libs/contracts (TOPIC_SPECS) that is missing, and brings the configs
 * of existing ones in line (partitions are only ever added). Idempotent.
 * Run by infra (`node dist/infra/cli/provision-topics.js`) and by tests with their own prefix.
 */
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { TOPIC_SPECS } from '@app/contracts';

export async function provisionTopics(brokers: string[], prefix = ''): Promise<string[]> {
  const kafka = new Kafka({ clientId: 'provision-topics', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const changes: string[] = [];
  try {
    const existing = new Set(await admin.listTopics());
    const missing = TOPIC_SPECS.filter((t) => !existing.has(prefix + t.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: prefix + t.name,
          numPartitions: t.partitions,
          replicationFactor: 1,
          configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        })),
      });
      changes.push(...missing.map((t) => `created ${prefix + t.name} (${t.partitions} partitions)`));
    }
    const present = TOPIC_SPECS.filter((t) => existing.has(prefix + t.name));
    if (present.length > 0) {
      const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => prefix + t.name) });
      const grow = present.filter(
        (t) => (meta.topics.find((m) => m.name === prefix + t.name)?.partitions.length ?? 0) < t.partitions,
      );
      if (grow.length > 0) {
        await admin.createPartitions({
          topicPartitions: grow.map((t) => ({ topic: prefix + t.name, count: t.partitions })),
        });
        changes.push(...grow.map((t) => `grew ${prefix + t.name} to ${t.partitions} partitions`));
      }
      await admin.alterConfigs({
        validateOnly: false,
        resources: present.map((t) => ({
          type: ConfigResourceTypes.TOPIC,
          name: prefix + t.name,
          configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        })),
      });
    }
  } finally {
    await admin.disconnect();
  }
  return changes;
}
