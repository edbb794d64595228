import type { InboundEvent } from '@app/contracts';
import { decodeEvent } from '@app/contracts';
import type { KafkaBatchServer, MessageBatch } from '@app/kafka';

export interface Decoded<E> {
  event: E;
  offset: string;
}

/**
 * Decodes a batch against the published schemas. A message that can never be valid goes to
 * dead letters (awaited, before the offset moves past it) instead of stalling the partition.
 */
export async function decodeBatch<E extends InboundEvent>(
  server: KafkaBatchServer,
  batch: MessageBatch,
  type: E['type'],
): Promise<Decoded<E>[]> {
  const out: Decoded<E>[] = [];
  for (const m of batch.messages) {
    const d = decodeEvent<E>(m.value, type);
    if (d.ok) out.push({ event: d.event, offset: m.offset });
    else await server.deadLetter(batch, m, d.error);
  }
  return out;
}

export function nextOffset(batch: MessageBatch): string {
  const last = batch.messages[batch.messages.length - 1];
  return last ? (BigInt(last.offset) + 1n).toString() : '0';
}
