import { KafkaConsumerIndicator } from './kafka-health';
import type { ConsumerHealth, KafkaBatchServer } from './kafka-batch.server';

function serverWith(health: ConsumerHealth, failing: [string, number][] = []): KafkaBatchServer {
  return {
    groupId: 'ledger-processor',
    healthState: () => health,
    failingPartitions: () => new Map(failing),
  } as unknown as KafkaBatchServer;
}

describe('KafkaConsumerIndicator', () => {
  it('reports a running member with its partitions', async () => {
    const r = await new KafkaConsumerIndicator(serverWith({ state: 'running', assigned: 6 })).check();
    expect(r).toEqual({ ok: true, detail: 'ledger-processor: 6 partition(s)' });
  });

  it('says how many partitions are retrying a failed batch, and the highest attempt, and stays up', async () => {
    const r = await new KafkaConsumerIndicator(
      serverWith({ state: 'running', assigned: 6 }, [
        ['postbacks.received:0', 2],
        ['postbacks.received:3', 5],
      ]),
    ).check();
    expect(r).toEqual({
      ok: true,
      detail: 'ledger-processor: 6 partition(s); 2 retrying a failed batch (up to attempt 5)',
    });
  });

  it('is down while joining and after a crash', async () => {
    expect((await new KafkaConsumerIndicator(serverWith({ state: 'starting' })).check()).ok).toBe(false);
    const crashed = await new KafkaConsumerIndicator(
      serverWith({ state: 'crashed', error: 'boom', since: Date.now() }),
    ).check();
    expect(crashed.ok).toBe(false);
    expect(crashed.detail).toContain('crashed');
  });
});
