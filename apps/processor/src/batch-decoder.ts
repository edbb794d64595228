import type { KafkaMessage } from 'kafkajs';
import type { InboundEvent } from '@app/contracts';
import { decodeEvent } from '@app/contracts';
import type { KafkaBatchServer, MessageBatch } from '@app/kafka';

export interface Decoded<E> {
  event: E;
  offset: string;
  message: KafkaMessage;
}

/**
 * Decodes a batch against the published schemas. A message that can never be valid goes to
 * dead letters (awaited, before the offset moves past it) instead of stalling the partition.
 */
export async function decodeBatch<E extends InboundEvent>(
  server: KafkaBatchServer,
  batch: MessageBatch,
  type: E['type'],
  onPoison?: PoisonHandler,
): Promise<Decoded<E>[]> {
  const out: Decoded<E>[] = [];
  for (const m of batch.messages) {
    const d = decodeEvent<E>(m.value, type);
    if (d.ok) out.push({ event: d.event, offset: m.offset, message: m });
    else {
      await server.deadLetter(batch, m, d.error);
      await onPoison?.(m, d.error);
    }
  }
  return out;
}

/**
 * Called for each message sent to dead letters, after it was sent and before the offset moves
 * past it: where an accepted event must still end in an outcome, this records it.
 */
export type PoisonHandler = (message: KafkaMessage, error: string) => Promise<void>;

export function nextOffset(batch: MessageBatch): string {
  const last = batch.messages[batch.messages.length - 1];
  return last ? (BigInt(last.offset) + 1n).toString() : '0';
}

/** Postgres refused the data itself (class 22, or a NOT NULL / CHECK violation): retrying cannot help. */
export function isPermanentDataError(e: unknown): boolean {
  const code = (e as { driverError?: { code?: unknown } } | null)?.driverError?.code;
  return typeof code === 'string' && (code.startsWith('22') || code === '23502' || code === '23514');
}

/**
 * Runs the batch as one unit; if the database refuses its data, runs it message by message and
 * sends only the message(s) it refuses to dead letters. Transient failures are rethrown, so
 * the batch is retried whole and nothing is skipped.
 */
export async function runIsolatingPoison<E>(
  server: KafkaBatchServer,
  batch: MessageBatch,
  items: Decoded<E>[],
  run: (items: Decoded<E>[]) => Promise<void>,
  onPoison?: PoisonHandler,
): Promise<void> {
  try {
    await run(items);
  } catch (e) {
    if (!isPermanentDataError(e)) throw e;
    for (const item of items) {
      try {
        await run([item]);
      } catch (e2) {
        if (!isPermanentDataError(e2)) throw e2;
        const error = `database refused it: ${e2 instanceof Error ? e2.message : String(e2)}`;
        await server.deadLetter(batch, item.message, error);
        await onPoison?.(item.message, error);
      }
    }
  }
}
