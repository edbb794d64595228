import type { EntityManager } from 'typeorm';
import { clip } from '@app/domain';
import { appendEntries } from '@app/ledger';
import { decidedOutcomes, type ProjectedOutcome } from '@app/read-models';
import type { DecisionPlan, OutcomeRow } from './postback-plan';

/**
 * Applies a batch's plan in the caller's transaction: the ledger entries and their conversions
 * (through the ledger's one write path), the outcomes, the retry queue, dead letters and cap
 * usage. All the SQL of deciding a postback is here or in the ledger library.
 */
export async function writeDecisionPlan(em: EntityManager, plan: DecisionPlan): Promise<void> {
  const after = await appendEntries(em, plan.writes, plan.before);
  await writeOutcomes(em, plan.outcomes, (id) => (after.get(id) ?? plan.before.get(id))?.currency);
  if (plan.parkInserts.length) {
    await em.query(
      `INSERT INTO parked_postbacks (event_id, partner_id, transaction_id, event, attempts, due_at, reason, errors, parked_at, click_id)
       SELECT event_id, partner_id, transaction_id, event, attempts, due_at, reason, errors, parked_at,
         left(event->'payload'->>'click_id', 128)
       FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, partner_id text, transaction_id text, event jsonb,
         attempts int, due_at timestamptz, reason text, errors jsonb, parked_at timestamptz)
       ON CONFLICT (event_id) DO NOTHING`,
      [JSON.stringify(plan.parkInserts)],
    );
  }
  if (plan.parkUpdates.length) {
    await em.query(
      `UPDATE parked_postbacks p SET attempts = x.attempts, due_at = x.due_at, reason = x.reason, errors = x.errors
       FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, attempts int, due_at timestamptz, reason text, errors jsonb)
       WHERE p.event_id = x.event_id`,
      [JSON.stringify(plan.parkUpdates)],
    );
  }
  if (plan.parkDeletes.length)
    await em.query(`DELETE FROM parked_postbacks WHERE event_id = ANY($1)`, [plan.parkDeletes]);
  if (plan.dead.length)
    await em.query(
      `INSERT INTO postback_dead_outbox (event_id, key, payload)
       SELECT event_id, key, payload FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, key text, payload jsonb)`,
      [JSON.stringify(plan.dead)],
    );
  if (plan.usageDirty.size) {
    const list = [...plan.usageDirty].map((k) => {
      const [offerId, d] = k.split('|') as [string, string];
      const u = plan.usage.get(k)!;
      return {
        offer_id: offerId,
        day: d,
        conversions: u.conversions,
        payout_micros: u.payoutMicros.toString(),
      };
    });
    await em.query(
      `UPDATE offer_daily_usage u SET conversions = x.conversions, payout_micros = x.payout_micros::bigint
       FROM jsonb_to_recordset($1::jsonb) AS x(offer_id text, day date, conversions int, payout_micros text)
       WHERE u.offer_id = x.offer_id AND u.day = x.day`,
      [JSON.stringify(list)],
    );
  }
}

/**
 * Writes outcomes; a final outcome is never rewritten, and is queued for the read models
 * exactly once. Only a `retry_scheduled` outcome is replaced by a later decision.
 *
 * `currencyOf` gives the currency of a conversion the caller holds the lock of (undefined: none
 * stored, or not known): with it, the queued outcomes are handed to this process's projector as
 * it would read them back (`decidedOutcomes`). An outcome of a conversion it does not know is
 * left for the projector to read, since the conversion may be stored by then.
 */
export async function writeOutcomes(
  em: EntityManager,
  outcomes: readonly OutcomeRow[],
  currencyOf?: (conversionId: string) => string | undefined,
): Promise<void> {
  if (outcomes.length === 0) return;
  const queued = await em.query<{ seq: string; event_id: string }[]>(
    `WITH up AS (
     INSERT INTO postback_outcomes (event_id, partner_id, click_id, transaction_id, status, conversion_id, offer_id,
       publisher_id, sub1, placement, geo, outcome, reason_bucket, reason_code, detail, entry_id, attempts, late,
       postback_delay_ms, received_at, decided_at)
     SELECT event_id, partner_id, click_id, transaction_id, status, conversion_id, offer_id, publisher_id, sub1, placement,
       geo, outcome, reason_bucket, reason_code, detail, entry_id, attempts, late, postback_delay_ms, received_at, decided_at
     FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, partner_id text, click_id text, transaction_id text,
       status text, conversion_id text, offer_id text, publisher_id text, sub1 text, placement text, geo text,
       outcome text, reason_bucket text, reason_code text, detail text, entry_id text, attempts int, late boolean,
       postback_delay_ms bigint, received_at timestamptz, decided_at timestamptz)
     ON CONFLICT (event_id) DO UPDATE SET conversion_id = EXCLUDED.conversion_id, offer_id = EXCLUDED.offer_id,
       publisher_id = EXCLUDED.publisher_id, sub1 = EXCLUDED.sub1, placement = EXCLUDED.placement, geo = EXCLUDED.geo,
       outcome = EXCLUDED.outcome, reason_bucket = EXCLUDED.reason_bucket, reason_code = EXCLUDED.reason_code,
       detail = EXCLUDED.detail, entry_id = EXCLUDED.entry_id, attempts = EXCLUDED.attempts, late = EXCLUDED.late,
       postback_delay_ms = EXCLUDED.postback_delay_ms, decided_at = EXCLUDED.decided_at
       WHERE postback_outcomes.outcome = 'retry_scheduled'
     RETURNING event_id, outcome)
   INSERT INTO projection_queue (event_id) SELECT event_id FROM up WHERE outcome <> 'retry_scheduled'
   RETURNING seq::text, event_id`,
    [JSON.stringify(outcomes.map((o) => ({ ...o, detail: o.detail === null ? null : clip(o.detail, 256) })))],
  );
  if (!currencyOf || queued.length === 0 || !decidedOutcomes.wanted()) return decidedOutcomes.keep([]);
  const byEvent = new Map(outcomes.map((o) => [o.event_id, o]));
  const kept: { id: string; seq: string; value: ProjectedOutcome }[] = [];
  for (const q of queued) {
    const o = byEvent.get(q.event_id)!;
    const currency = o.conversion_id === null ? '' : currencyOf(o.conversion_id);
    if (currency === undefined) continue;
    kept.push({
      id: o.event_id,
      seq: q.seq,
      value: {
        event_id: o.event_id,
        partner_id: o.partner_id,
        offer_id: o.offer_id,
        publisher_id: o.publisher_id,
        sub1: o.sub1,
        placement: o.placement,
        geo: o.geo,
        currency,
        outcome: o.outcome,
        reason_bucket: o.reason_bucket,
        reason_code: o.reason_code,
        entry_id: o.entry_id,
        attempts: o.attempts,
        received_at: new Date(o.received_at),
      },
    });
  }
  decidedOutcomes.keep(kept);
}
