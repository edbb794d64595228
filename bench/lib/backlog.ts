/**
 * A backlog of approved postbacks on a postbacks topic, as the gateway would have produced them
 * (same envelope, same key): what drain.ts and scale.ts give the processor and what the minimal
 * pipeline reference (reference.ts) consumes, so both read the same messages.
 */
import { Kafka, logLevel } from 'kafkajs';
import { postbackEvent } from '@app/testing';
import { fmt } from './stats';
import { throwIfInterrupted } from './system';

export const BACKLOG_PARTNER = 'pd';

/**
 * Produces `n` approved postbacks (transaction ids `<txPrefix><i>`, click i % clicks.length) in
 * awaited batches of 1,000 (acks=all, idempotent), generated on the fly; returns the seconds it took.
 */
export async function producePostbackBacklog(
  topic: string,
  n: number,
  clickIds: readonly string[],
  txPrefix: string,
  brokers: string[],
  log: (s: string) => void,
): Promise<number> {
  const producer = new Kafka({ clientId: 'bench-backlog', brokers, logLevel: logLevel.NOTHING }).producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const t0 = Date.now();
  try {
    for (let i = 0; i < n; i += 1000) {
      const messages = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) {
        const e = postbackEvent(
          BACKLOG_PARTNER,
          clickIds[j % clickIds.length]!,
          `${txPrefix}${j}`,
          'approved',
        );
        messages.push({ key: e.key, value: JSON.stringify(e) });
      }
      await producer.send({ topic, acks: -1, messages });
      if (i % 100_000 === 0 && i > 0) log(`  produced ${fmt(i)}`);
      throwIfInterrupted();
    }
  } finally {
    await producer.disconnect();
  }
  return (Date.now() - t0) / 1000;
}
