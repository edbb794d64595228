import { TOPIC_SPECS } from '@app/contracts';
import { durabilityProblems, minInsyncFor, replicationFor, topicConfig } from './topic-admin';

describe('replication derived from the cluster', () => {
  it.each([
    [1, 1, 1],
    [2, 2, 1],
    [3, 3, 2],
    [5, 3, 2],
  ])('%i broker(s): replication factor %i, min.insync.replicas %i', (brokers, rf, isr) => {
    expect(replicationFor(brokers)).toEqual({ replicationFactor: rf, minInsyncReplicas: isr });
  });

  it('refuses a cluster without brokers', () => {
    expect(() => replicationFor(0)).toThrow('no brokers');
    expect(() => replicationFor(1.5)).toThrow('no brokers');
  });

  it('never asks more replicas in sync than a topic has, less one', () => {
    for (let replicas = 1; replicas <= 5; replicas++) {
      expect(minInsyncFor(replicas)).toBeLessThanOrEqual(Math.max(1, replicas - 1));
      expect(minInsyncFor(replicas)).toBe(replicas >= 3 ? 2 : 1);
    }
  });

  it("keeps each topic's own configs and adds durability from its replicas", () => {
    const ledger = TOPIC_SPECS.find((t) => t.name === 'conversions.ledger')!;
    expect(topicConfig(ledger, 3)).toEqual({
      ...ledger.config,
      'min.insync.replicas': '2',
      'unclean.leader.election.enable': 'false',
    });
    expect(topicConfig(ledger, 1)['min.insync.replicas']).toBe('1');
    expect(topicConfig(ledger, 1)['retention.ms']).toBe('-1');
  });
});

describe('what production refuses', () => {
  it('accepts three replicas with two in sync', () => {
    expect(durabilityProblems([{ topic: 'a', replicationFactor: 3, minInsyncReplicas: 2 }])).toEqual([]);
    expect(durabilityProblems([{ topic: 'a', replicationFactor: 5, minInsyncReplicas: 3 }])).toEqual([]);
  });

  it('names every topic below three replicas or two in sync', () => {
    expect(
      durabilityProblems([
        { topic: 'a', replicationFactor: 1, minInsyncReplicas: 1 },
        { topic: 'b', replicationFactor: 3, minInsyncReplicas: 1 },
        { topic: 'c', replicationFactor: 2 },
      ]),
    ).toEqual([
      'a has replication factor 1 (at least 3)',
      'a has min.insync.replicas 1 (at least 2)',
      'b has min.insync.replicas 1 (at least 2)',
      'c has replication factor 2 (at least 3)',
    ]);
  });
});
