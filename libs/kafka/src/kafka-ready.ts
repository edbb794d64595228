/**
 * Waits until the broker really serves the project: the admin client lists topics AND a
 * consumer group can join (the group coordinator loads a few seconds after "started").
 * Used by infra before anything else starts, and by fault tests after a broker restart.
 * Given several addresses (a cluster), it also waits until that many brokers are registered.
 */
import { Kafka, logLevel } from 'kafkajs';

export async function waitForKafka(
  brokers: string[],
  timeoutMs: number,
  say: (s: string) => void = () => undefined,
  expectBrokers = brokers.length,
): Promise<void> {
  const kafka = new Kafka({
    clientId: 'ready-check',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  });
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
      const live = (await admin.describeCluster()).brokers.length;
      if (live < expectBrokers) throw new Error(`${live} of ${expectBrokers} brokers registered`);
      // A group join proves the group coordinator is loaded; the group holds no offsets.
      const consumer = kafka.consumer({ groupId: `ready-check-${process.pid}`, retry: { retries: 0 } });
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [/^__never_matches_anything$/] });
        const joined = new Promise<void>((resolve) =>
          consumer.on(consumer.events.GROUP_JOIN, () => resolve()),
        );
        await consumer.run({ eachMessage: async () => undefined });
        await Promise.race([
          joined,
          new Promise((_, reject) => setTimeout(() => reject(new Error('group join timed out')), 5000)),
        ]);
      } finally {
        await consumer.disconnect().catch(() => undefined);
      }
      await admin.deleteGroups([`ready-check-${process.pid}`]).catch(() => undefined);
      return;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      say(`waiting for Kafka at ${brokers.join(',')}: ${lastError}`);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
  throw new Error(
    `Kafka at ${brokers.join(',')} not ready after ${Math.round(timeoutMs / 1000)} s: ${lastError}`,
  );
}
