import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { clickEvent, poll, produceEvents, seedOffer, TEST_BROKERS, topicMessageCount } from '@app/testing';
import { type RunningSystem, startSystem } from './support';

/** A message no worker can ever process goes to dead letters (not a stalled partition), and an operator can list and replay it. */
describe('dead letters', () => {
  let sys: RunningSystem;
  beforeAll(async () => {
    sys = await startSystem('dlq');
    await seedOffer(sys.db.ds, { id: 'o-dlq' });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const cli = (...args: string[]) =>
    execFileSync(
      process.execPath,
      [join(__dirname, '..', 'dist', 'infra', 'cli', 'dead-letters.js'), ...args],
      {
        env: { ...process.env, KAFKA_BROKERS: TEST_BROKERS.join(','), TOPIC_PREFIX: sys.prefix },
        encoding: 'utf8',
      },
    );

  it('dead-letters a poison message, keeps the partition moving, and replays it on request', async () => {
    const producer = new Kafka({ brokers: TEST_BROKERS, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({
      topic: `${sys.prefix}clicks.recorded`,
      acks: -1,
      messages: [{ key: 'k', value: '{"not":"a click"' }],
    });
    await producer.disconnect();
    const good = clickEvent('o-dlq', 'pub-1');
    await produceEvents(`${sys.prefix}clicks.recorded`, [good]);
    // The good click behind it is stored: the poison did not stall the partition.
    await poll(
      'good click stored',
      async () => (await sys.db.ds.query('SELECT 1 FROM clicks WHERE click_id = $1', [good.id]))[0],
    );
    await poll('dead letter written', async () =>
      (await topicMessageCount(`${sys.prefix}dead.letters`)) === 1 ? true : undefined,
    );

    const listed = cli('list');
    expect(listed).toMatch(/clicks\.recorded\[\d+\]@\d+ +value is not JSON/);
    expect(listed).toMatch(/1 dead letter\(s\)/);
    expect(() => cli('replay')).toThrow();
    expect(cli('replay', '--yes')).toMatch(/replayed 1 dead letter/);
    // Replayed once: it fails again and lands in dead letters again; a second replay sends only that one.
    await poll('replayed poison dead-lettered again', async () =>
      (await topicMessageCount(`${sys.prefix}dead.letters`)) === 2 ? true : undefined,
    );
    expect(cli('replay', '--yes')).toMatch(/replayed 1 dead letter/);
  });
});
