import { createHash } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { clip } from '@app/domain';
import type { OutcomeRow } from './postback-plan';

const str = (v: unknown, max: number): string => (typeof v === 'string' ? clip(v, max) : '');
const validDate = (v: unknown): string | null => {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
};

/**
 * The outcome of an accepted postback the processor cannot store or read (it failed its schema,
 * or Postgres refused a value): `rejected`, hard reason `invalid_payload`, with the error as its
 * detail, so every 2xx still ends in exactly one outcome. What can be read of the message is
 * kept, cut to the columns' bounds; an id that is not one of ours is replaced by one derived
 * from the message's place in the log (stable across redeliveries).
 */
export function invalidPayloadOutcome(
  topic: string,
  partition: number,
  m: KafkaMessage,
  error: string,
  now: Date,
): OutcomeRow {
  let raw: { id?: unknown; payload?: Record<string, unknown> } = {};
  try {
    const v: unknown = JSON.parse(m.value?.toString('utf8') ?? 'null');
    if (v && typeof v === 'object') raw = v;
  } catch {
    /* not JSON: nothing to read */
  }
  const p = raw.payload && typeof raw.payload === 'object' ? raw.payload : {};
  const id =
    typeof raw.id === 'string' && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(raw.id)
      ? raw.id
      : `X${createHash('sha256').update(`${topic}|${partition}|${m.offset}`).digest('hex').slice(0, 25).toUpperCase()}`;
  const receivedAt =
    validDate(p.received_at) ??
    (m.timestamp ? new Date(Number(m.timestamp)).toISOString() : now.toISOString());
  return {
    event_id: id,
    partner_id: str(p.partner_id, 64),
    click_id: str(p.click_id, 128),
    transaction_id: str(p.transaction_id, 128),
    status: str(p.status, 16),
    conversion_id: null,
    offer_id: null,
    publisher_id: null,
    sub1: null,
    placement: null,
    geo: null,
    outcome: 'rejected',
    reason_bucket: 'hard',
    reason_code: 'invalid_payload',
    detail: error,
    entry_id: null,
    attempts: 0,
    late: false,
    postback_delay_ms: null,
    received_at: receivedAt,
    decided_at: now.toISOString(),
  };
}
