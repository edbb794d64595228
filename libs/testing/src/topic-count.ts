import { Kafka, logLevel } from 'kafkajs';
import { TEST_BROKERS } from './test-kafka';

/** How many messages a topic holds (sum of partition high watermarks). */
export async function topicMessageCount(topic: string, brokers = TEST_BROKERS): Promise<number> {
  const admin = new Kafka({ clientId: 'test-count', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Every message value on a topic, read from the beginning until `count` are seen or time runs out. */
export async function readTopic(
  topic: string,
  count: number,
  timeoutMs = 20000,
  brokers = TEST_BROKERS,
): Promise<unknown[]> {
  const kafka = new Kafka({ clientId: 'test-read', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `read-${Date.now()}-${Math.random().toString(36).slice(2)}` });
  const out: unknown[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          out.push(JSON.parse(message.value?.toString() ?? 'null'));
          if (out.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
