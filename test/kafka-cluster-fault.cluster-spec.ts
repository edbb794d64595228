import { Kafka, logLevel } from 'kafkajs';
import {
  busiestLeader,
  ownKafkaCluster,
  readTopic,
  topicMessageCount,
  waitForFullIsr,
  waitForKafkaReady,
  waitForLeadersOff,
} from '@app/testing';
import {
  faultPlan,
  faultSystem,
  type FaultSystem,
  progressed,
  sendThroughGateway,
  verifyFaultRun,
  withSystem,
  FAULT_EVENTS_AT_LEAST,
  FAULT_TRANSACTIONS,
  LONG_RETRIES,
} from './fault-support';

/**
 * Broker faults on a three-node KRaft cluster (docs/kafka-cluster.md), `npm run fault:cluster`:
 * the gateway, a processor and a fresh database against a cluster of the test's own, 50,344
 * events through the real gateway (23,000 clicks, 27,344 postbacks: the plan of seed 43) while
 * the node leading the most partitions of postbacks.received and conversions.ledger is killed -9
 * and brought back, then every node is restarted in turn, each time once every replica is back in
 * sync. Then the fault suite's checks: every 2xx has one outcome, nothing paid twice, each
 * conversion's entries in order, read models equal to a rebuild, and the ledger topic holds
 * exactly the ledger table's entries.
 */

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe('broker faults on a three-node cluster', () => {
  it('kill -9 of the busiest leader, then a rolling restart, mid-traffic: nothing lost, nothing paid twice, order kept', async () => {
    const t0 = Date.now();
    const cluster = await ownKafkaCluster('fault');
    try {
      await cluster.start();
      await waitForKafkaReady(cluster.brokers);
      const sys = await faultSystem('broker-fault', { brokers: cluster.brokers, processorEnv: LONG_RETRIES });
      await withSystem(sys, async () => {
        const plan = faultPlan(FAULT_TRANSACTIONS, 43);
        await sys.spawnGateway();
        await sys.spawnProcessor();
        await sys.seed();
        const hot = [`${sys.prefix}postbacks.received`, `${sys.prefix}conversions.ledger`];
        const everything = [...(await projectTopics(sys)), '__consumer_offsets'];
        await waitForFullIsr(sys.brokers, everything);
        const run = sendThroughGateway(sys, plan);
        const timeline: string[] = [];
        const mark = (what: string) =>
          timeline.push(
            `${seconds(Date.now() - t0)} ${what} (${Math.round((run.answered / run.total) * 100)}% of requests answered)`,
          );

        await progressed(run, 0.1);
        const victim = await busiestLeader(sys.brokers, hot);
        const killedAt = new Date();
        await cluster.killNode(victim.node);
        mark(
          `kill -9 node ${victim.node}, leader of ${victim.leads} of ${victim.of} partitions of postbacks.received and conversions.ledger`,
        );
        await waitForLeadersOff(sys.brokers, hot, victim.node);
        const failoverMs = Date.now() - killedAt.getTime();
        mark(`its partitions have new leaders after ${seconds(failoverMs)}`);
        await progressed(run, run.answered / run.total + 0.05);
        await cluster.startNode(victim.node);
        mark(`node ${victim.node} restarted`);
        await waitForFullIsr(sys.brokers, everything);
        const recoveredAt = new Date();
        mark(
          `every replica in sync again, ${seconds(recoveredAt.getTime() - killedAt.getTime())} after the kill`,
        );

        for (let n = 1; n <= cluster.nodes; n++) {
          await cluster.stopNode(n);
          mark(`node ${n} stopped (SIGTERM)`);
          await cluster.startNode(n);
          await waitForFullIsr(sys.brokers, everything);
          mark(`node ${n} back, every replica in sync`);
        }
        const rollingDoneAt = new Date();
        await run.done;
        mark('traffic done');
        console.log(`timeline:\n  ${timeline.join('\n  ')}`);
        console.log(
          `gateway: ${run.answered} answers, ${run.stats.retried503} requests retried after 503, ` +
            `${run.stats.networkErrors} after no answer, ${run.failures.length} failed`,
        );
        expect(run.failures.slice(0, 5)).toEqual([]);
        expect(run.clicks + run.acceptedIds.length).toBeGreaterThanOrEqual(FAULT_EVENTS_AT_LEAST);

        // The gateway's producer retries a batch whose acknowledgement a failover lost: the same
        // event may sit on the topic twice. The system received each distinct event once.
        const onTopic = await topicMessageCount(`${sys.prefix}postbacks.received`, sys.brokers);
        const eventIds = (
          (await readTopic(`${sys.prefix}postbacks.received`, onTopic, 120_000, sys.brokers)) as {
            id: string;
          }[]
        ).map((m) => m.id);
        const received = new Set(eventIds).size;
        console.log(
          `postbacks.received: ${onTopic} messages, ${received} distinct events (${onTopic - received} copies from producer retries)`,
        );
        await verifyFaultRun(sys, {
          label: `broker kill -9 + rolling restart (${run.clicks} clicks, ${run.acceptedIds.length} postbacks answered 2xx)`,
          plan,
          received,
          acceptedIds: run.acceptedIds,
          clickIds: run.clickIds,
        });

        const figures = await lossAndDuplicates(sys, run.acceptedIds, plan.expected);
        const ledgerOnTopic = await ledgerTopicIds(sys);
        const p99 = (from: Date, to: Date) => receiveToDecisionP99(sys, from, to);
        const [before, duringKill, duringRolling] = [
          await p99(new Date(t0), killedAt),
          await p99(killedAt, recoveredAt),
          await p99(recoveredAt, rollingDoneAt),
        ];
        console.log(
          [
            'figures (three-node cluster, broker kill -9 + rolling restart):',
            `  events sent: ${run.clicks + run.acceptedIds.length} (${run.clicks} clicks, ${run.acceptedIds.length} postbacks answered 2xx)`,
            `  lost: ${figures.lost} (postbacks answered 2xx without an outcome: ${figures.acceptedWithoutOutcome}; planned entries missing: ${figures.entriesMissing})`,
            `  duplicate revenue: ${figures.duplicateEntries} entries twice; net ${figures.net} micros (expected ${figures.expectedNet})`,
            `  ledger topic: ${ledgerOnTopic.messages} messages, ${ledgerOnTopic.ids.size} distinct entries; ledger table ${figures.entries}; ` +
              `in the table not on the topic ${figures.entryIds.filter((id) => !ledgerOnTopic.ids.has(id)).length}, on the topic not in the table ${[...ledgerOnTopic.ids].filter((id) => !figures.entryIdSet.has(id)).length}`,
            `  p99 receive-to-decision: before the kill ${before}, kill to all replicas in sync ${duringKill}, during the rolling restart ${duringRolling}`,
            `  leaders moved off the killed node in ${seconds(failoverMs)}; total time ${seconds(Date.now() - t0)}`,
          ].join('\n'),
        );
        expect(figures.lost).toBe(0);
        expect(figures.duplicateEntries).toBe(0);
        expect(figures.net).toBe(figures.expectedNet);
        expect(ledgerOnTopic.ids).toEqual(figures.entryIdSet);
      });
    } finally {
      cluster.destroy();
    }
  });
});

async function projectTopics(sys: FaultSystem): Promise<string[]> {
  const admin = new Kafka({ clientId: 'test', brokers: sys.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith(sys.prefix));
  } finally {
    await admin.disconnect();
  }
}

async function lossAndDuplicates(sys: FaultSystem, acceptedIds: string[], expected: Map<string, string[]>) {
  const q = <T>(sql: string, params: unknown[] = []) => sys.db.ds.query<T[]>(sql, params);
  const [withOutcome] = await q<{ n: number }>(
    `SELECT count(*)::int AS n FROM postback_outcomes WHERE event_id = ANY($1::varchar[])`,
    [acceptedIds],
  );
  const entries = await q<{ entry_id: string; transaction_id: string; entry_type: string }>(
    `SELECT entry_id, transaction_id, entry_type FROM ledger_entries`,
  );
  const [twice] = await q<{ n: number }>(
    `SELECT coalesce(sum(n - 1), 0)::int AS n FROM (SELECT count(*) AS n FROM ledger_entries GROUP BY transaction_id, entry_type) s`,
  );
  const [money] = await q<{ net: string }>(
    `SELECT coalesce(sum(CASE entry_type WHEN 'approved' THEN amount_micros WHEN 'reversed' THEN -amount_micros ELSE 0 END), 0)::text AS net FROM ledger_entries`,
  );
  const have = new Set(entries.map((e) => `${e.transaction_id}:${e.entry_type}`));
  const entriesMissing = [...expected].reduce(
    (n, [tx, types]) => n + types.filter((t) => !have.has(`${tx}:${t}`)).length,
    0,
  );
  const approved = [...expected.values()].filter((s) => !s.includes('reversed')).length;
  const acceptedWithoutOutcome = acceptedIds.length - withOutcome!.n;
  const entryIds = entries.map((e) => e.entry_id);
  return {
    lost: acceptedWithoutOutcome + entriesMissing,
    acceptedWithoutOutcome,
    entriesMissing,
    duplicateEntries: twice!.n,
    net: money!.net,
    expectedNet: String(BigInt(approved) * 1_500_000n),
    entries: entries.length,
    entryIds,
    entryIdSet: new Set(entryIds),
  };
}

async function ledgerTopicIds(sys: FaultSystem): Promise<{ messages: number; ids: Set<string> }> {
  const topic = `${sys.prefix}conversions.ledger`;
  const messages = await topicMessageCount(topic, sys.brokers);
  const read = (await readTopic(topic, messages, 120_000, sys.brokers)) as { entry_id: string }[];
  return { messages, ids: new Set(read.map((m) => m.entry_id)) };
}

/** p99 of decided_at - received_at over the postbacks the gateway received in [from, to). */
async function receiveToDecisionP99(sys: FaultSystem, from: Date, to: Date): Promise<string> {
  const [r] = await sys.db.ds.query<{ n: number; p99: number | null }[]>(
    `SELECT count(*)::int AS n,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - received_at) * 1000) AS p99
       FROM postback_outcomes WHERE received_at >= $1 AND received_at < $2`,
    [from, to],
  );
  return r?.p99 == null ? `n/a (0 postbacks)` : `${Math.round(r.p99)} ms over ${r.n} postbacks`;
}
