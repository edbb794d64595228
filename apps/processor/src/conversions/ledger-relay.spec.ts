import type { DataSource, EntityManager } from 'typeorm';
import type { BatchingProducer } from '@app/kafka';
import type { ProcessorMetrics } from '../observability/processor-metrics';
import type { Leadership, RoleLease } from '../leadership/leadership';
import type { ProcessorEnv } from '../processor.env';
import { LedgerRelay } from './ledger-relay';

/**
 * Backpressure (LedgerRelay.caughtUp): a decision batch waits while a batch this process
 * committed is older than the bound and no relay cycle that reached the end of the outbox has
 * started since it committed; at most the longest wait; never while the relay fails, nor when
 * another instance relays. The relay's drain runs as written, against a stand-in outbox (its
 * Postgres and Kafka paths are covered by the recon, metrics and fault suites).
 */
describe('LedgerRelay backpressure', () => {
  let held: boolean;
  /** The outbox's entry ids, in sequence order. */
  let outbox: string[];
  let kafkaDown: boolean;
  let sends: number;
  let gate: Promise<void>;
  let openGate: () => void;
  let relay: LedgerRelay;

  const row = (id: string) => ({
    seq: id.slice(1),
    entry_id: id,
    message_key: 'c',
    entry_type: 'approved',
    v1: '{}',
    v2: '{}',
  });
  // The outbox: `outbox` rows, read in cycles of at most 2,000; a cycle waits at `gate`.
  const em = {
    query: async (sql: string) => {
      if (sql.includes('pg_try_advisory_xact_lock')) return [{ locked: true }];
      if (sql.startsWith('SELECT seq, entry_id')) {
        await gate;
        return outbox.slice(0, 2000).map(row);
      }
      if (sql.startsWith('DELETE FROM ledger_outbox')) {
        outbox = outbox.slice(2000);
        return [];
      }
      return [];
    },
  } as unknown as EntityManager;

  beforeEach(() => {
    held = true;
    outbox = [];
    kafkaDown = false;
    sends = 0;
    gate = Promise.resolve();
    const lease = {
      get held() {
        return held;
      },
      onAcquired: () => undefined,
    } as unknown as RoleLease;
    relay = new LedgerRelay(
      { transaction: <T>(fn: (m: EntityManager) => Promise<T>) => fn(em) } as unknown as DataSource,
      {
        send: async () => {
          sends++;
          if (kafkaDown) throw new Error('Kafka is down');
        },
      } as unknown as BatchingProducer,
      { LEDGER_TOPIC_VERSIONS: '1,2', TOPIC_PREFIX: '' } as ProcessorEnv,
      { published: () => undefined, deadLettered: () => undefined } as unknown as ProcessorMetrics,
      { lease: () => lease } as unknown as Leadership,
    );
  });

  const hold = () => {
    gate = new Promise((r) => (openGate = r));
  };
  const settled = async (p: Promise<unknown>) => {
    let done = false;
    void p.then(() => (done = true));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    return done;
  };

  const entries = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => `e${from + i}`);
  const longAgo = () => Date.now() - 10_000;

  it('does not wait when nothing committed is behind, or when another instance relays', async () => {
    expect(await relay.caughtUp(500, 60_000)).toBe(0);
    held = false;
    relay.noteCommitted(['e1'], longAgo());
    expect(relay.behindMs()).toBe(0);
    expect(await relay.caughtUp(500, 60_000)).toBe(0);
  });

  it('waits until the relay published the old entries, kicking it', async () => {
    outbox = entries(1, 4500);
    relay.noteCommitted(['e4400', 'e4401'], longAgo());
    expect(relay.behindMs()).toBeGreaterThanOrEqual(10_000);
    hold();
    const waiting = relay.caughtUp(500, 60_000);
    expect(await settled(waiting)).toBe(false);
    openGate();
    // Three cycles (2,000, 2,000, 500 rows): the third publishes them.
    await waiting;
    expect(outbox).toEqual([]);
    expect(sends).toBe(4500 * 2);
    expect(relay.behindMs()).toBe(0);
  });

  it('recent entries do not make it wait; an entry the relay did not see counts until a cycle after it reaches the end', async () => {
    relay.noteCommitted(['e1'], Date.now());
    expect(await relay.caughtUp(500, 60_000)).toBe(0);
    // e7 noted but never in the outbox (its entry was already there): it counts until a cycle
    // that started reading after it was noted reaches the end of the outbox; e99 (noted later) still counts then.
    relay.noteCommitted(['e1', 'e7'], longAgo());
    outbox = entries(1, 1);
    hold();
    relay.noteCommitted(['e99'], Date.now() + 60_000);
    const waiting = relay.caughtUp(500, 60_000);
    openGate();
    await waiting;
    // e7 was noted before the cycle read and the cycle reached the end: gone; e99 still counts.
    const behind = relay.behindMs(Date.now() + 120_000);
    expect(behind).toBeGreaterThan(50_000);
    expect(behind).toBeLessThan(100_000);
  });

  it('waits no longer than the longest wait, and not at all while the relay fails', async () => {
    outbox = entries(1, 10);
    hold();
    relay.noteCommitted(['e5'], longAgo());
    expect(await relay.caughtUp(500, 50)).toBeGreaterThanOrEqual(50);
    kafkaDown = true;
    openGate();
    // The failing cycle ends: the wait ends with it, and the next one does not wait.
    expect(await relay.caughtUp(500, 60_000)).toBeLessThan(60_000);
    expect(relay.behindMs()).toBeGreaterThan(0);
    expect(await relay.caughtUp(500, 60_000)).toBe(0);
    expect(await relay.caughtUp(0, 60_000)).toBe(0);
  });
});
