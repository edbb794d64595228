import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { TOPIC_SPECS } from '@app/contracts';
import { provisionTopics, readDurability, TopicDurabilityError, waitForKafka } from '@app/kafka';
import { ownKafkaCluster, type OwnKafkaCluster, poll, uniquePrefix } from '@app/testing';

/** Topic provisioning against a three-node cluster of the test's own (docs/kafka-cluster.md). */
describe('provisionTopics on three brokers', () => {
  let cluster: OwnKafkaCluster;
  let admin: ReturnType<Kafka['admin']>;
  beforeAll(async () => {
    cluster = await ownKafkaCluster('topics');
    await cluster.start();
    await waitForKafka(cluster.brokers, 90_000);
    admin = new Kafka({ clientId: 'test', brokers: cluster.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  }, 120_000);
  afterAll(async () => {
    await admin?.disconnect();
    cluster?.destroy();
  });

  // A topic this test creates stands for one that existed before: every broker has heard of it.
  const everyBrokerKnows = (topic: string) =>
    poll(`every broker lists ${topic}`, async () => {
      for (const broker of cluster.brokers) {
        const one = new Kafka({ clientId: 'test', brokers: [broker], logLevel: logLevel.NOTHING }).admin();
        await one.connect();
        try {
          if (!(await one.listTopics()).includes(topic)) return undefined;
        } finally {
          await one.disconnect();
        }
      }
      return true;
    });

  it('creates every topic with three replicas, two in sync and no unclean leader election', async () => {
    const prefix = uniquePrefix('rf3');
    const changes = await provisionTopics(cluster.brokers, prefix, { production: false });
    expect(changes).toContain(
      `created ${prefix}conversions.ledger (6 partitions, 3 replicas, min.insync.replicas 2)`,
    );
    expect(await readDurability(admin, prefix)).toEqual(
      TOPIC_SPECS.map((t) => ({ topic: prefix + t.name, replicationFactor: 3, minInsyncReplicas: 2 })),
    );
    const { resources } = await poll('configs readable', () =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: TOPIC_SPECS.map((t) => ({
          type: ConfigResourceTypes.TOPIC,
          name: prefix + t.name,
          configNames: ['unclean.leader.election.enable'],
        })),
      }),
    );
    expect(resources.map((r) => r.configEntries[0]?.configValue)).toEqual(TOPIC_SPECS.map(() => 'false'));
    // Replicas spread over all three nodes, leaders too.
    const { topics } = await poll('metadata readable', () =>
      admin.fetchTopicMetadata({ topics: [`${prefix}postbacks.received`] }),
    );
    const parts = topics[0]!.partitions;
    expect(new Set(parts.flatMap((p) => p.replicas))).toEqual(new Set([1, 2, 3]));
    expect(new Set(parts.map((p) => p.leader)).size).toBe(3);
    // Idempotent, and production accepts it.
    expect(await provisionTopics(cluster.brokers, prefix, { production: true })).toEqual([]);
  });

  it('in production refuses an existing topic below three replicas, changing nothing; outside, keeps it', async () => {
    const prefix = uniquePrefix('rf1');
    await admin.createTopics({
      waitForLeaders: false, // kafkajs asks one broker, which may not know the topic yet
      topics: [{ topic: `${prefix}postbacks.received`, numPartitions: 6, replicationFactor: 1 }],
    });
    await everyBrokerKnows(`${prefix}postbacks.received`);
    const refused = provisionTopics(cluster.brokers, prefix, { production: true });
    await expect(refused).rejects.toThrow(TopicDurabilityError);
    await expect(refused).rejects.toThrow(
      `NODE_ENV=production refuses under-replicated topics: ${prefix}postbacks.received has replication factor 1 (at least 3)`,
    );
    expect((await admin.listTopics()).filter((t) => t.startsWith(prefix))).toEqual([
      `${prefix}postbacks.received`,
    ]);

    // The command `npm run up` runs: a clear error and a non-zero exit.
    const cli = spawnSync(
      process.execPath,
      [join(__dirname, '..', 'dist', 'infra', 'cli', 'provision-topics.js')],
      {
        env: {
          ...process.env,
          NODE_ENV: 'production',
          KAFKA_BROKERS: cluster.brokers.join(','),
          TOPIC_PREFIX: prefix,
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    console.log(`provision-topics with NODE_ENV=production: exit ${cli.status}; ${cli.stderr.trim()}`);
    expect(cli.status).not.toBe(0);
    expect(cli.status).not.toBeNull();
    expect(cli.stderr).toContain(`${prefix}postbacks.received has replication factor 1 (at least 3)`);

    // Outside production the topic stays as it is, with a min.insync.replicas its one replica can meet.
    const changes = await provisionTopics(cluster.brokers, prefix, { production: false });
    expect(changes).toContain(
      `kept ${prefix}postbacks.received at replication factor 1 (the cluster allows 3; only a partition reassignment raises it)`,
    );
    // Brokers apply the altered configs from the metadata log a moment apart.
    const durability = await poll('configs applied', async () => {
      const d = await readDurability(admin, prefix);
      return d.every((t) => t.minInsyncReplicas === (t.replicationFactor >= 3 ? 2 : 1)) ? d : undefined;
    });
    expect(durability.find((d) => d.topic === `${prefix}postbacks.received`)).toEqual({
      topic: `${prefix}postbacks.received`,
      replicationFactor: 1,
      minInsyncReplicas: 1,
    });
    expect(durability.filter((d) => d.replicationFactor === 3)).toHaveLength(TOPIC_SPECS.length - 1);
  });

  it('in production checks min.insync.replicas of three-replica topics after bringing them in line', async () => {
    const prefix = uniquePrefix('isr1');
    await admin.createTopics({
      waitForLeaders: false, // kafkajs asks one broker, which may not know the topic yet
      topics: [
        {
          topic: `${prefix}conversions.ledger`,
          numPartitions: 6,
          replicationFactor: 3,
          configEntries: [{ name: 'min.insync.replicas', value: '1' }],
        },
      ],
    });
    await everyBrokerKnows(`${prefix}conversions.ledger`);
    await provisionTopics(cluster.brokers, prefix, { production: true });
    // It passed because the brokers it read from had min.insync.replicas 2; every one will.
    await poll(
      'min.insync.replicas 2 everywhere',
      async () => (await readDurability(admin, prefix)).every((d) => d.minInsyncReplicas === 2) || undefined,
    );
  });
});
