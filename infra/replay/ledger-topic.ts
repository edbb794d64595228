import { Kafka, logLevel } from 'kafkajs';

export interface TopicEntry {
  entry_id: string;
  source_event_id: string;
  /** The message exactly as published: a republished entry must be byte-identical. */
  raw: string;
}

/**
 * Reads the ledger topic from the beginning up to its end as of now, keeping the entries these
 * postbacks caused (copies included: delivery is at least once, billing dedupes on entry_id).
 */
export async function readLedgerTopic(
  brokers: string[],
  topic: string,
  eventIds: ReadonlySet<string>,
  timeoutMs = 60_000,
): Promise<TopicEntry[]> {
  const kafka = new Kafka({ clientId: 'traffic-verify', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const todo = new Map(
    ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]),
  );
  const out: TopicEntry[] = [];
  if (todo.size === 0) return out;
  const consumer = kafka.consumer({
    groupId: `traffic-verify-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${topic}: not read to its end within ${timeoutMs} ms`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const raw = message.value?.toString() ?? '';
          const e = JSON.parse(raw) as { entry_id: string; source_event_id: string };
          if (eventIds.has(e.source_event_id))
            out.push({ entry_id: e.entry_id, source_event_id: e.source_event_id, raw });
          const end = todo.get(partition);
          if (end !== undefined && BigInt(message.offset) + 1n >= end) todo.delete(partition);
          if (todo.size === 0) {
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
