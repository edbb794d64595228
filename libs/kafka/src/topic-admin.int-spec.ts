import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { TOPIC_SPECS } from '@app/contracts';
import { provisionTopics, readDurability, TopicDurabilityError } from '@app/kafka';
import { createTestTopics, TEST_BROKERS, uniquePrefix } from '@app/testing';

// The shared test broker is a single node; the three-node case is test/kafka-cluster-topics.cluster-spec.ts.
describe('provisionTopics on one broker', () => {
  const prefix = uniquePrefix('provision');
  let topics: { drop(): Promise<void> };
  beforeAll(async () => {
    topics = await createTestTopics(prefix);
  });
  afterAll(async () => {
    await topics?.drop();
  });

  it('creates one replica, min.insync.replicas 1 and no unclean leader election', async () => {
    const admin = new Kafka({ clientId: 'test', brokers: TEST_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      expect(await readDurability(admin, prefix)).toEqual(
        TOPIC_SPECS.map((t) => ({ topic: prefix + t.name, replicationFactor: 1, minInsyncReplicas: 1 })),
      );
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: `${prefix}conversions.ledger`,
            configNames: ['unclean.leader.election.enable'],
          },
        ],
      });
      expect(resources[0]!.configEntries[0]!.configValue).toBe('false');
    } finally {
      await admin.disconnect();
    }
  });

  it('is idempotent outside production', async () => {
    expect(await provisionTopics(TEST_BROKERS, prefix, { production: false })).toEqual([]);
  });

  it('refuses a one-broker cluster in production', async () => {
    await expect(provisionTopics(TEST_BROKERS, prefix, { production: true })).rejects.toThrow(
      TopicDurabilityError,
    );
    await expect(provisionTopics(TEST_BROKERS, prefix, { production: true })).rejects.toThrow(
      /NODE_ENV=production needs at least 3 brokers; the cluster at .* has 1/,
    );
  });
});
