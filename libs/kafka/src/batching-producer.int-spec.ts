import { Kafka, logLevel } from 'kafkajs';
import { BatchingProducer, createKafka, KafkaUnavailableError } from '@app/kafka';
import { createTestTopics, TEST_BROKERS, topicMessageCount, uniquePrefix } from '@app/testing';

describe('BatchingProducer (real broker)', () => {
  const prefix = uniquePrefix('producer');
  let topics: { drop(): Promise<void> };
  beforeAll(async () => {
    topics = await createTestTopics(prefix);
  });
  afterAll(async () => {
    await topics?.drop();
  });

  it('acknowledges every caller and lands every message exactly once, batched', async () => {
    const kafka = createKafka({ brokers: TEST_BROKERS, clientId: 'test', topicPrefix: prefix });
    const producer = new BatchingProducer(kafka, { lingerMs: 5, maxBatch: 200, sendTimeoutMs: 10000 });
    await producer.connect();
    const topic = `${prefix}postbacks.refused`;
    const n = 2000;
    await Promise.all(
      Array.from({ length: n }, (_, i) => producer.send(topic, { key: `k${i % 7}`, value: `v${i}` })),
    );
    await producer.disconnect();

    const consumer = new Kafka({ brokers: TEST_BROKERS, logLevel: logLevel.NOTHING }).consumer({
      groupId: `${prefix}check`,
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Map<string, number>();
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          const v = message.value!.toString();
          seen.set(v, (seen.get(v) ?? 0) + 1);
          if (seen.size === n) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(seen.size).toBe(n);
    expect([...seen.values()].every((c) => c === 1)).toBe(true);
  });

  // A batch that fails (here: a topic that does not exist, which kafkajs refuses without
  // retrying) stands in for a batch caught in a leader change.
  it('one batch in flight: after a failed batch nothing queued behind it is sent, and its callers are told', async () => {
    const kafka = createKafka({ brokers: TEST_BROKERS, clientId: 'test', topicPrefix: prefix });
    const producer = new BatchingProducer(kafka, { lingerMs: 1, maxBatch: 1, sendTimeoutMs: 10000 });
    await producer.connect();
    const topic = `${prefix}postbacks.dead`;
    const failed = producer.send(`${prefix}no-such-topic`, { value: 'a' });
    const behind = [producer.send(topic, { value: 'b' }), producer.send(topic, { value: 'c' })];
    const results = await Promise.allSettled([failed, ...behind]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await topicMessageCount(topic, TEST_BROKERS)).toBe(0);
    // The caller sends again, in order, and it lands.
    await producer.send(topic, { value: 'b' });
    expect(await topicMessageCount(topic, TEST_BROKERS)).toBe(1);
    await producer.disconnect();
  });

  it('several batches in flight: a failed batch does not hold back the others', async () => {
    const kafka = createKafka({ brokers: TEST_BROKERS, clientId: 'test', topicPrefix: prefix });
    const producer = new BatchingProducer(kafka, {
      lingerMs: 1,
      maxBatch: 1,
      sendTimeoutMs: 1500,
      maxInFlight: 2,
    });
    await producer.connect();
    const topic = `${prefix}publisher.deliveries.dead`;
    const failed = producer.send(`${prefix}no-such-topic`, { value: 'a' });
    await producer.send(topic, { value: 'b' });
    await expect(failed).rejects.toBeInstanceOf(KafkaUnavailableError);
    expect(await topicMessageCount(topic, TEST_BROKERS)).toBe(1);
    await producer.disconnect();
  });

  it('rejects with KafkaUnavailableError within its timeout when no broker answers', async () => {
    const kafka = new Kafka({
      brokers: ['127.0.0.1:1'],
      logLevel: logLevel.NOTHING,
      retry: { retries: 1, maxRetryTime: 200 },
    });
    const producer = new BatchingProducer(kafka, { lingerMs: 1, maxBatch: 10, sendTimeoutMs: 500 });
    await expect(producer.send('x', { value: 'y' })).rejects.toBeInstanceOf(KafkaUnavailableError);
    expect(producer.state().connected).toBe(false);
    await producer.disconnect().catch(() => undefined);
  });
});
