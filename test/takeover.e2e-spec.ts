import { type AppProcess, poll, readTopic, topicMessageCount } from '@app/testing';
import {
  faultPlan,
  faultSystem,
  type FaultSystem,
  progressed,
  sendThroughGateway,
  verifyFaultRun,
} from './fault-support';

/**
 * Background roles scale out (docs/deployment.md#background-roles): two processors share the
 * consumer group, one of them holds the ledger relay (and usually every other role). Killing
 * that one with -9 mid-traffic hands the roles to the other; every postback the gateway accepted
 * still ends in the ledger once and on `conversions.ledger`.
 */
const TRANSACTIONS = 4000;
const LEADER_POLL_MS = 1000;

/** The roles an instance reports holding on /metrics (`leader_role_held{role=...} 1`). */
async function rolesHeld(p: AppProcess): Promise<string[]> {
  const text = await (await fetch(`${p.url!}/metrics`)).text();
  return [...text.matchAll(/^leader_role_held\{([^}]*)\} 1$/gm)].map(
    (m) => /role="([^"]+)"/.exec(m[1]!)?.[1] ?? '?',
  );
}

async function withSystem(sys: FaultSystem, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    for (const app of [...sys.processors, ...sys.gateways])
      console.error(
        `--- ${app.name} (pid ${app.proc.pid ?? '?'}), last of its log:\n${app.logs().slice(-6000)}`,
      );
    throw e;
  } finally {
    await sys.stop();
  }
}

describe('background role takeover', () => {
  it('kill -9 of the instance holding the ledger relay: the other takes over, nothing lost or doubled', async () => {
    const sys = await faultSystem('takeover', {
      // The killed member's partitions wait for its session to time out: a retry budget longer
      // than that keeps postbacks whose click sat there out of unknown_click.
      processorEnv: {
        RETRY_DELAYS_MS: '500,1000,2000,4000,8000,16000,32000',
        LEADER_POLL_MS: String(LEADER_POLL_MS),
        LOG_LEVEL: 'log',
      },
    });
    await withSystem(sys, async () => {
      const plan = faultPlan(TRANSACTIONS, 31);
      await sys.spawnGateway();
      await sys.seed();
      const [p1, p2] = [await sys.spawnProcessor(), await sys.spawnProcessor()];
      const run = sendThroughGateway(sys, plan, { concurrency: 16 });
      await progressed(run, 0.3);

      const holder = await poll('one instance holds the ledger relay', async () => {
        const [r1, r2] = [await rolesHeld(p1!), await rolesHeld(p2!)];
        const holders = [r1.includes('ledger_relay') ? p1! : null, r2.includes('ledger_relay') ? p2! : null];
        const held = holders.filter((h) => h !== null);
        return held.length === 1 ? held[0] : undefined;
      });
      const survivor = holder === p1 ? p2! : p1!;
      const rolesBefore = await rolesHeld(holder);
      // No role is held by both.
      expect((await rolesHeld(survivor)).filter((r) => rolesBefore.includes(r))).toEqual([]);

      const killedAt = Date.now();
      await holder.stop('SIGKILL');
      await poll(
        'the survivor takes the ledger relay',
        async () => (await rolesHeld(survivor)).includes('ledger_relay'),
        60_000,
        50,
      );
      const takeoverS = (Date.now() - killedAt) / 1000;
      const rolesAfter = await poll('the survivor holds every role', async () => {
        const r = await rolesHeld(survivor);
        return r.length === 6 ? r : undefined;
      });
      console.log(
        `takeover: the ledger relay moved to the surviving processor ${takeoverS.toFixed(2)} s after kill -9 ` +
          `(LEADER_POLL_MS ${LEADER_POLL_MS}); the killed instance held ${rolesBefore.join(', ')}; the survivor now holds ${rolesAfter.join(', ')}`,
      );

      await run.done;
      expect(run.failures.slice(0, 5)).toEqual([]);
      const received = await topicMessageCount(`${sys.prefix}postbacks.received`, sys.brokers);
      // Every 2xx has one outcome, the ledger has each planned entry once and in order, every
      // entry is on the topic, the read models equal a rebuild.
      await verifyFaultRun(sys, {
        label: `takeover (${run.clicks} clicks, ${run.acceptedIds.length} postbacks answered 2xx)`,
        plan,
        received,
        acceptedIds: run.acceptedIds,
        clickIds: run.clickIds,
      });

      // On the topic: exactly the ledger's entries, each once by entry_id (a relay killed between
      // Kafka's acknowledgement and its outbox delete republishes a batch with the same ids).
      const ledgerTopic = `${sys.prefix}conversions.ledger`;
      const published = (await readTopic(
        ledgerTopic,
        await topicMessageCount(ledgerTopic, sys.brokers),
        120_000,
        sys.brokers,
      )) as { entry_id: string }[];
      const entries = (await sys.db.ds.query(`SELECT entry_id FROM ledger_entries ORDER BY entry_id`)) as {
        entry_id: string;
      }[];
      const distinct = [...new Set(published.map((p) => p.entry_id))].sort();
      console.log(
        `takeover: ${entries.length} ledger entries, ${published.length} messages on ${ledgerTopic} ` +
          `(${distinct.length} distinct entry ids, ${published.length - distinct.length} republished copies)`,
      );
      expect(distinct).toEqual(entries.map((e) => e.entry_id));
    });
  }, 400_000);
});
