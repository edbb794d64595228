import { Logger } from '@nestjs/common';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { BatchingProducer, createKafka, KafkaBatchServer, type MessageBatch } from '@app/kafka';
import { createTestTopics, TEST_BROKERS, uniquePrefix } from '@app/testing';

interface Call {
  partition: number;
  firstOffset: string;
  size: number;
  at: number;
  failed: boolean;
}

/**
 * Runs the server with one handler until `expected` distinct messages were handled without
 * throwing (`before` may throw to fail a batch), then closes it. Returns how often each was handled.
 */
async function consumeUntil(
  server: KafkaBatchServer,
  topic: string,
  expected: number,
  before: (batch: MessageBatch) => void,
): Promise<Map<string, number>> {
  const handled = new Map<string, number>();
  const done = new Promise<void>((resolve) => {
    server.addHandler(
      topic,
      async (batch: MessageBatch) => {
        before(batch);
        for (const m of batch.messages)
          handled.set(m.value!.toString(), (handled.get(m.value!.toString()) ?? 0) + 1);
        if (handled.size === expected) resolve();
      },
      true,
    );
  });
  await new Promise<void>(
    (resolve, reject) => void server.listen((err?: unknown) => (err ? reject(err as Error) : resolve())),
  );
  try {
    await done;
  } finally {
    await server.close();
  }
  return handled;
}

describe('KafkaBatchServer back-off (real broker)', () => {
  const prefix = uniquePrefix('batch-server');
  let topics: { drop(): Promise<void> };
  beforeAll(async () => {
    topics = await createTestTopics(prefix);
  });
  afterAll(async () => {
    await topics?.drop();
  });

  it('tries a failed batch again from the same offset after each tier, while other partitions flow', async () => {
    const topic = 'clicks.recorded';
    const kafka = createKafka({ brokers: TEST_BROKERS, clientId: 'test', topicPrefix: prefix });
    const producer = new BatchingProducer(kafka, { lingerMs: 1, maxBatch: 100, sendTimeoutMs: 10000 });
    await producer.connect();
    // Partition 0 first, so its failing batch is there before partition 1 has anything.
    for (const partition of [0, 1])
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          producer.send(`${prefix}${topic}`, { partition, value: `p${partition}-${i}` }),
        ),
      );

    const delays = [300, 900];
    const server = new KafkaBatchServer({
      kafka,
      groupId: 'backoff',
      topicPrefix: prefix,
      deadLetters: producer,
      partitionsConsumedConcurrently: 2,
      retryDelaysMs: delays,
    });
    const calls: Call[] = [];
    const failingSeen: number[] = [];
    let partition0Failures = 0;
    const handled = await consumeUntil(server, topic, 40, (batch) => {
      const call = {
        partition: batch.partition,
        firstOffset: batch.messages[0]!.offset,
        size: batch.messages.length,
        at: Date.now(),
        failed: false,
      };
      calls.push(call);
      failingSeen.push(server.failingPartitions().size);
      if (batch.partition === 0 && partition0Failures < 3) {
        partition0Failures++;
        call.failed = true;
        throw new Error('database unavailable (test)');
      }
    });

    // Every message handled successfully exactly once.
    expect(handled.size).toBe(40);
    expect([...handled.values()].every((n) => n === 1)).toBe(true);

    // Partition 0: three failures, then success, every try from offset 0, spaced by the tiers
    // (jittered ±20%; the last tier repeats).
    const p0 = calls.filter((c) => c.partition === 0);
    expect(p0.slice(0, 4).map((c) => [c.firstOffset, c.failed])).toEqual([
      ['0', true],
      ['0', true],
      ['0', true],
      ['0', false],
    ]);
    const gaps = p0.slice(1, 4).map((c, i) => c.at - p0[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(delays[0]! * 0.8);
    expect(gaps[1]).toBeGreaterThanOrEqual(delays[1]! * 0.8);
    expect(gaps[2]).toBeGreaterThanOrEqual(delays[1]! * 0.8);

    // Partition 1 did not wait for partition 0's back-off.
    const p1Done = Math.max(...calls.filter((c) => c.partition === 1).map((c) => c.at));
    expect(p1Done).toBeLessThan(p0[3]!.at);
    // The failing partition was reported while it waited, and forgotten once it succeeded.
    expect(failingSeen.some((n) => n === 1)).toBe(true);
    expect(server.failingPartitions().size).toBe(0);

    // Offsets committed past everything on both partitions.
    const admin = new Kafka({ brokers: TEST_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({
        groupId: server.groupId,
        topics: [`${prefix}${topic}`],
      });
      const byPartition = new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
      expect(byPartition.get(0)).toBe('20');
      expect(byPartition.get(1)).toBe('20');
    } finally {
      await admin.disconnect();
      await producer.disconnect();
    }
  }, 60_000);

  it('restarts the consumer when a paused partition is not fetched again after its retry was due', async () => {
    const topic = 'postbacks.refused'; // its own topic: the first test's messages are not in it
    const kafka = createKafka({ brokers: TEST_BROKERS, clientId: 'test', topicPrefix: prefix });
    const producer = new BatchingProducer(kafka, { lingerMs: 1, maxBatch: 100, sendTimeoutMs: 10000 });
    await producer.connect();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        producer.send(`${prefix}${topic}`, { partition: 2, value: `s-${i}` }),
      ),
    );
    // The resume that kafkajs should act on never comes: the partition stays paused for good.
    class NeverResumes extends KafkaBatchServer {
      protected override scheduleResume(): void {}
    }
    const server = new NeverResumes({
      kafka,
      groupId: 'stall',
      topicPrefix: prefix,
      deadLetters: producer,
      retryDelaysMs: [200],
      stallGraceMs: 500,
    });
    let failed = 0;
    const handled = await consumeUntil(server, topic, 20, () => {
      if (failed++ === 0) throw new Error('database unavailable (test)');
    }).finally(() => producer.disconnect());
    expect(failed).toBeGreaterThanOrEqual(2);
    expect([...handled.values()].every((n) => n === 1)).toBe(true);
    expect(server.failingPartitions().size).toBe(0);
  }, 60_000);

  it('restarts the consumer when a partition with messages waiting gets no batch', async () => {
    const topic = 'postbacks.dead'; // its own topic: no other test's messages are in it
    const kafka = createKafka({ brokers: TEST_BROKERS, clientId: 'test', topicPrefix: prefix });
    const producer = new BatchingProducer(kafka, { lingerMs: 1, maxBatch: 100, sendTimeoutMs: 10000 });
    await producer.connect();
    // One at a time, so each is a record batch of its own and a small fetch takes only a few.
    for (let i = 0; i < 40; i++)
      await producer.send(`${prefix}${topic}`, { partition: 0, value: `w-${i}`.padEnd(200, '.') });
    const server = new KafkaBatchServer({
      kafka,
      groupId: 'starved',
      topicPrefix: prefix,
      deadLetters: producer,
      stallGraceMs: 500,
      // Small fetches: the first batch leaves messages behind on the partition.
      maxBytesPerPartition: 1024,
    });
    let batches = 0;
    let starved = false;
    let restarts = 0;
    const log = jest.spyOn(Logger.prototype, 'error').mockImplementation((m: unknown) => {
      if (String(m).includes('no batch for')) restarts++;
    });
    const handled = await consumeUntil(server, topic, 40, (batch) => {
      batches++;
      // As if kafkajs stopped fetching this partition for good after its first batch.
      if (!starved) {
        starved = true;
        server.unwrap<Consumer>().pause([{ topic: `${prefix}${topic}`, partitions: [batch.partition] }]);
      }
    }).finally(() => {
      log.mockRestore();
      return producer.disconnect();
    });
    expect(batches).toBeGreaterThanOrEqual(2);
    expect(handled.size).toBe(40);
    expect(restarts).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
