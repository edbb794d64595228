import { Kafka, logLevel } from 'kafkajs';
import { provisionTopics, waitForKafka } from '@app/kafka';

export const TEST_BROKERS = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');

export function uniquePrefix(tag: string): string {
  return `t-${tag}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}.`;
}

/** Every project topic under a prefix of its own, so parallel runs and a running system never meet. */
export async function createTestTopics(
  prefix: string,
  brokers = TEST_BROKERS,
): Promise<{ drop(): Promise<void> }> {
  await waitForKafka(brokers, 60000);
  await provisionTopics(brokers, prefix);
  return {
    drop: async () => {
      const admin = new Kafka({ clientId: 'test-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
        if (mine.length) await admin.deleteTopics({ topics: mine });
      } finally {
        await admin.disconnect();
      }
    },
  };
}

export async function waitForKafkaReady(brokers: string[], timeoutMs = 90000): Promise<void> {
  await waitForKafka(brokers, timeoutMs);
}
