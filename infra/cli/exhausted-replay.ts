import { createHash } from 'node:crypto';
import type { PostbackDeadV1, PostbackReceived } from '@app/contracts';
import type { EntityManager } from 'typeorm';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The id of an operator's replay of a postback: the original's time part and 16 characters
 * derived from its id. Deterministic, so replaying the same dead letter twice sends the same
 * event twice, and the processor decides it once (it skips event ids it has decided).
 */
export function replayEventId(originalId: string): string {
  const digest = createHash('sha256').update(`replay:${originalId}`).digest();
  let random = '';
  for (let i = 0; i < 16; i++) random += CROCKFORD[digest[i]! & 31];
  return `${originalId.slice(0, 10)}${random}`;
}

/** The replay of one postback: same key (same partition, hence order) and payload, marked as a replay. */
export function replayOf(original: PostbackReceived, now: Date): PostbackReceived {
  return {
    ...original,
    id: replayEventId(original.id),
    recorded_at: now.toISOString(),
    payload: { ...original.payload, replay_of: original.id },
  };
}

/** A postback as the processor's inbox (`postbacks`) keeps it: its payload's columns and its event id. */
export type InboxRow = Omit<PostbackReceived['payload'], 'received_at' | 'replay_of'> & {
  event_id: string;
  received_at: Date;
};

/** The event an inbox row was stored from (its correlation id is not kept: the event id stands in). */
export function eventFromInbox(r: InboxRow): PostbackReceived {
  const at = r.received_at.toISOString();
  return {
    id: r.event_id,
    type: 'postback.received',
    schema_version: 1,
    occurred_at: at,
    recorded_at: at,
    key: `${r.partner_id}:${r.transaction_id}`,
    correlation_id: r.event_id,
    payload: {
      partner_id: r.partner_id,
      click_id: r.click_id,
      transaction_id: r.transaction_id,
      status: r.status,
      offer_id: r.offer_id,
      payout_micros: r.payout_micros,
      currency: r.currency,
      event: r.event,
      reason: r.reason,
      source_ip: r.source_ip,
      received_at: at,
      extra: r.extra,
    },
  };
}

export interface ReplayPlanItem {
  dead: PostbackDeadV1;
  /** Whether its click is stored now (if not, the replay waits for it like a fresh postback). */
  clickStored: boolean;
  /** Later postbacks of the same partner transaction refused as invalid_transition meanwhile, in arrival order. */
  followUps: PostbackReceived[];
}

/**
 * What replaying these exhausted postbacks sends: each one, then the later statuses of its
 * transaction that were refused because it had been rejected (a pending that ran out of retries
 * takes its approval down with it), in the order they arrived.
 */
export async function planReplay(em: EntityManager, dead: PostbackDeadV1[]): Promise<ReplayPlanItem[]> {
  if (dead.length === 0) return [];
  const stored = new Set(
    (
      await em.query<{ click_id: string }[]>(`SELECT click_id FROM clicks WHERE click_id = ANY($1)`, [
        dead.map((d) => d.click_id),
      ])
    ).map((r) => r.click_id),
  );
  const later = await em.query<(InboxRow & { after: string })[]>(
    `SELECT p.event_id, p.partner_id, p.click_id, p.transaction_id, p.status, p.offer_id, p.payout_micros::text AS payout_micros,
            p.currency, p.event, p.reason, p.source_ip, p.received_at, p.extra, x.after
       FROM unnest($1::varchar[]) AS x(after)
       JOIN postbacks d ON d.event_id = x.after
       JOIN postbacks p ON p.partner_id = d.partner_id AND p.transaction_id = d.transaction_id
                       AND p.kafka_partition = d.kafka_partition AND p.kafka_offset > d.kafka_offset
       JOIN postback_outcomes o ON o.event_id = p.event_id AND o.reason_code = 'invalid_transition'
      ORDER BY p.kafka_offset`,
    [dead.map((d) => d.event_id)],
  );
  return dead.map((d) => ({
    dead: d,
    clickStored: stored.has(d.click_id),
    followUps: later.filter((r) => r.after === d.event_id).map(eventFromInbox),
  }));
}
