import type { EntityManager } from 'typeorm';
import type { LedgerEntryV1, LedgerPostingV2 } from '@app/contracts';
import {
  bucketOf,
  type ConversionState,
  type EntryFacts,
  type EntryMoney,
  evolve,
  type PostbackStatus,
  postingsFor,
  type ReasonCode,
} from '@app/domain';
import { ledgerEntryV2Json } from './ledger-v2';
import { renderedMessages } from './outbox';
import { appendedEntries, type ProjectedEntry, projectedEntry } from './projected-entry';

/**
 * One entry to append, with the partner status it applied (null for an operator's entry) and
 * its money besides revenue (`priceEntry`): the publisher's payout and the user's reward.
 */
export interface LedgerWrite {
  entry: LedgerEntryV1;
  requested: PostbackStatus | null;
  money: EntryMoney;
  /** Where the entry comes from besides its payload: the wall's user, a converted amount (absent: all null). */
  origin?: EntryOrigin;
}

/**
 * An entry's origin, kept in its own columns (never in the v1 payload): the wall's user id from
 * the click, and for an amount converted from another currency, the postback's amount and
 * currency, the rate applied (units of the entry's currency per unit of the original) and its day.
 */
export interface EntryOrigin {
  userId: string | null;
  originalAmountMicros: bigint | null;
  originalCurrency: string | null;
  fxRate: string | null;
  /** YYYY-MM-DD. */
  fxDate: string | null;
}

export function entryFacts(
  e: LedgerEntryV1,
  requested: PostbackStatus | null,
  money?: EntryMoney,
): EntryFacts {
  return {
    conversionId: e.conversion_id,
    entryType: e.entry_type,
    amountMicros: BigInt(e.amount_micros),
    currency: e.currency,
    reason: e.reason_code as ReasonCode | null,
    requested,
    partnerId: e.partner_id,
    occurredAt: new Date(e.occurred_at),
    money,
  };
}

export class LedgerWriteRefused extends Error {}

/** An entry's postings (double entry, `postingsFor`) as conversions.ledger.v2 lists them, in posting_id order. */
export function entryPostingsV2(e: LedgerEntryV1, payoutMicros: bigint): LedgerPostingV2[] {
  return postingsFor({
    entryId: e.entry_id,
    entryType: e.entry_type,
    partnerId: e.partner_id,
    publisherId: e.publisher_id,
    currency: e.currency,
    amountMicros: BigInt(e.amount_micros),
    payoutMicros,
  }).map((p) => ({
    posting_id: p.postingId,
    account: p.account,
    currency: p.currency,
    amount_micros: p.amountMicros.toString(),
  }));
}

/**
 * An entry as the ledger topics carry it, rendered once, when it is written: the v1 message (its
 * entry was checked against the v1 schema when it was built), the v2 message (v1 plus typed
 * extras; ledger-v2.spec.ts checks it against the v2 schema) and its postings
 * (double entry, `postingsFor`), which v2 lists and `ledger_postings` stores.
 */
function renderEntry(w: LedgerWrite): {
  entryId: string;
  v1: string;
  v2: string;
  postings: LedgerPostingV2[];
} {
  const e = w.entry;
  const postings = entryPostingsV2(e, w.money.payoutMicros);
  const o = w.origin;
  const v1 = JSON.stringify(e);
  const v2 = ledgerEntryV2Json(v1, {
    payload: e,
    payout_micros: w.money.payoutMicros.toString(),
    reward_amount: w.money.rewardAmount?.toString() ?? null,
    reward_currency: w.money.rewardCurrency,
    payout_rule_id: w.money.payoutRuleId,
    reward_rule_id: w.money.rewardRuleId,
    user_id: o?.userId ?? null,
    original_amount_micros: o?.originalAmountMicros?.toString() ?? null,
    original_currency: o?.originalCurrency ?? null,
    fx_rate: o?.fxRate ?? null,
    fx_date: o?.fxDate ?? null,
    // In posting_id order, as postingsFor numbers them.
    postings,
  });
  return { entryId: e.entry_id, v1, v2, postings };
}

/**
 * The one write path of the ledger: appends the entries, in order, and brings each conversion
 * they name to `evolve` of its state, in the caller's transaction. The caller holds the
 * conversions' locks (`lockConversions`) and passes the states it read under them.
 *
 * Idempotent on entry_id; only rows really inserted go to the outbox (for Kafka), to the
 * projection queue (for the read models) and get their postings (double entry, `postingsFor`),
 * so each is published, projected and posted exactly once.
 * The database refuses, whoever writes: a second approval, a reversal without an approval, a
 * currency or partner other than the conversion's (see the LedgerIntegrity migration).
 */
export async function appendEntries(
  em: EntityManager,
  writes: readonly LedgerWrite[],
  before: ReadonlyMap<string, ConversionState>,
): Promise<Map<string, ConversionState>> {
  const after = new Map<string, { state: ConversionState; last: LedgerEntryV1; receivedAt: string | null }>();
  for (const w of writes) {
    const id = w.entry.conversion_id;
    const prev = after.get(id);
    const state = evolve(prev?.state ?? before.get(id), entryFacts(w.entry, w.requested, w.money));
    if (state.status !== w.entry.conversion_status)
      throw new LedgerWriteRefused(
        `entry ${w.entry.entry_id} says conversion ${id} becomes ${w.entry.conversion_status}; its entries say ${state.status}`,
      );
    const receivedAt = w.requested !== null ? w.entry.occurred_at : (prev?.receivedAt ?? null);
    after.set(id, { state, last: w.entry, receivedAt });
  }
  if (writes.length === 0) return new Map();
  const rendered = writes.map(renderEntry);
  // Postings as parallel arrays: unnest of text[] costs Postgres far less than a JSON document.
  const postings = {
    id: [] as string[],
    entry: [] as string[],
    account: [] as string[],
    currency: [] as string[],
    amount: [] as string[],
  };
  for (const r of rendered)
    for (const p of r.postings) {
      postings.id.push(p.posting_id);
      postings.entry.push(r.entryId);
      postings.account.push(p.account);
      postings.currency.push(p.currency);
      postings.amount.push(String(p.amount_micros));
    }
  // The batch's entries (a few MB of jsonb) are sorted in memory, not in a temp file.
  await em.query(`SELECT set_config('work_mem', '64MB', true)`);
  // Each entry once as jsonb (its payload, and its columns by jsonb_to_record), the rest of the
  // row as parallel arrays: parsing text JSON per field and again to jsonb cost Postgres three
  // times as much (auto_explain of the drain bench's batches).
  const inserted = await em.query<{ seq: string; entry_id: string; queue_seq: string }[]>(
    `WITH ins AS (
       INSERT INTO ledger_entries (entry_id, entry_type, conversion_id, conversion_status, click_id, transaction_id, offer_id,
         publisher_id, partner_id, goal, amount_micros, currency, reason_bucket, reason_code, sub1, sub2, sub3, sub4, sub5,
         placement, geo, device, clicked_at, occurred_at, recorded_at, late, postback_delay_ms, source_event_id,
         schema_version, requested_status, payload, payout_micros, reward_amount, reward_currency, payout_rule_id,
         reward_rule_id, user_id, original_amount_micros, original_currency, fx_rate, fx_date)
       SELECT x.entry_id, x.entry_type, x.conversion_id, x.conversion_status, x.click_id, x.transaction_id, x.offer_id,
         x.publisher_id, x.partner_id, x.goal, x.amount_micros::bigint, x.currency, x.reason_bucket, x.reason_code, x.sub1,
         x.sub2, x.sub3, x.sub4, x.sub5, x.placement, x.geo, x.device, x.clicked_at, x.occurred_at, x.recorded_at, x.late,
         x.postback_delay_ms, x.source_event_id, x.schema_version, m.requested, j.value, m.payout, m.reward,
         m.reward_currency, m.payout_rule, m.reward_rule, m.user_id, m.original_amount, m.original_currency, m.fx_rate,
         m.fx_date
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(value, n)
       JOIN unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::bigint[],
         $10::text[], $11::numeric[], $12::date[]) WITH ORDINALITY AS m(requested, payout, reward, reward_currency,
         payout_rule, reward_rule, user_id, original_amount, original_currency, fx_rate, fx_date, n) ON m.n = j.n
       CROSS JOIN LATERAL jsonb_to_record(j.value) AS x(entry_id text, entry_type text, conversion_id text,
         conversion_status text, click_id text, transaction_id text, offer_id text, publisher_id text, partner_id text,
         goal text, amount_micros text, currency text, reason_bucket text, reason_code text, sub1 text, sub2 text,
         sub3 text, sub4 text, sub5 text, placement text, geo text, device text, clicked_at timestamptz,
         occurred_at timestamptz, recorded_at timestamptz, late boolean, postback_delay_ms bigint,
         source_event_id text, schema_version int)
       ORDER BY j.n
       ON CONFLICT (entry_id) DO NOTHING
       RETURNING seq, entry_id, entry_type, conversion_id),
     outbox AS (INSERT INTO ledger_outbox (seq, entry_id, message_key, entry_type)
       SELECT ins.seq, ins.entry_id, ins.conversion_id, ins.entry_type FROM ins),
     posted AS (INSERT INTO ledger_postings (posting_id, entry_id, account, currency, amount_micros)
       SELECT p.posting_id, p.entry_id, p.account, p.currency, p.amount
         FROM unnest($13::text[], $14::text[], $15::text[], $16::text[], $17::bigint[]) AS p(posting_id, entry_id, account, currency, amount)
         JOIN ins ON ins.entry_id = p.entry_id),
     queued AS (INSERT INTO projection_queue (entry_id) SELECT entry_id FROM ins ORDER BY seq RETURNING seq, entry_id)
     SELECT ins.seq::text, ins.entry_id, queued.seq::text AS queue_seq FROM ins JOIN queued USING (entry_id)`,
    [
      `[${rendered.map((r) => r.v1).join(',')}]`,
      writes.map((w) => w.requested),
      writes.map((w) => w.money.payoutMicros.toString()),
      writes.map((w) => w.money.rewardAmount?.toString() ?? null),
      writes.map((w) => w.money.rewardCurrency),
      writes.map((w) => w.money.payoutRuleId),
      writes.map((w) => w.money.rewardRuleId),
      writes.map((w) => w.origin?.userId ?? null),
      writes.map((w) => w.origin?.originalAmountMicros?.toString() ?? null),
      writes.map((w) => w.origin?.originalCurrency ?? null),
      writes.map((w) => w.origin?.fxRate ?? null),
      writes.map((w) => w.origin?.fxDate ?? null),
      postings.id,
      postings.entry,
      postings.account,
      postings.currency,
      postings.amount,
    ],
  );
  // The relay's messages stay in memory (outbox.ts), for the entries this call really inserted,
  // under the sequence number they got: only a committed row can carry it.
  // Nothing is built for it where no relay of this process will read it (keep then only drops).
  if (inserted.length && renderedMessages.wanted()) {
    const byId = new Map(rendered.map((r) => [r.entryId, r]));
    renderedMessages.keep(
      inserted.map((i) => {
        const r = byId.get(i.entry_id)!;
        return { id: r.entryId, seq: i.seq, value: { v1: r.v1, v2: r.v2 } };
      }),
    );
  } else renderedMessages.keep([]);
  // And the projector's rows, likewise, under their projection_queue sequence number.
  if (inserted.length && appendedEntries.wanted()) {
    const queued = new Map(inserted.map((i) => [i.entry_id, i]));
    const seen = new Set<string>();
    const kept: { id: string; seq: string; value: ProjectedEntry }[] = [];
    for (const w of writes) {
      const e = w.entry;
      const i = queued.get(e.entry_id);
      if (!i) continue;
      // Its conversion's first entry: the conversion had none before, and none of this call came first.
      const first = !before.has(e.conversion_id) && !seen.has(e.conversion_id);
      seen.add(e.conversion_id);
      const a = after.get(e.conversion_id)!;
      const firstReceivedAt = a.state.firstReceivedAt ?? new Date(a.last.occurred_at);
      kept.push({
        id: e.entry_id,
        seq: i.queue_seq,
        value: projectedEntry(e, w.money, i.seq, first, firstReceivedAt),
      });
    }
    appendedEntries.keep(kept);
  } else appendedEntries.keep([]);
  const rows = [...after.values()].map(({ state, last, receivedAt }) => ({
    conversion_id: state.conversionId,
    offer_id: last.offer_id,
    transaction_id: last.transaction_id,
    goal: last.goal,
    partner_id: state.partnerId,
    click_id: last.click_id,
    publisher_id: last.publisher_id,
    status: state.status,
    requested: state.requested,
    amount_micros: state.amountMicros.toString(),
    currency: state.currency,
    reason_bucket: state.reason ? bucketOf(state.reason) : null,
    reason_code: state.reason,
    sub1: last.sub1,
    sub2: last.sub2,
    sub3: last.sub3,
    sub4: last.sub4,
    sub5: last.sub5,
    placement: last.placement,
    geo: last.geo,
    device: last.device,
    clicked_at: last.clicked_at,
    first_received_at: (state.firstReceivedAt ?? new Date(last.occurred_at)).toISOString(),
    received_at: receivedAt,
    last_entry_id: last.entry_id,
    entries: state.entries ?? 1,
    payout_micros: state.payoutMicros?.toString() ?? null,
    reward_amount: state.rewardAmount?.toString() ?? null,
    reward_currency: state.rewardCurrency ?? null,
    payout_rule_id: state.payoutRuleId ?? null,
    reward_rule_id: state.rewardRuleId ?? null,
  }));
  await em.query(
    `INSERT INTO conversions (conversion_id, offer_id, transaction_id, goal, partner_id, click_id, publisher_id, status,
       requested, amount_micros, currency, reason_bucket, reason_code, sub1, sub2, sub3, sub4, sub5, placement, geo, device,
       clicked_at, first_received_at, last_received_at, last_entry_id, entries, updated_at, payout_micros, reward_amount,
       reward_currency, payout_rule_id, reward_rule_id)
     SELECT conversion_id, offer_id, transaction_id, goal, partner_id, click_id, publisher_id, status, requested,
       amount_micros::bigint, currency, reason_bucket, reason_code, sub1, sub2, sub3, sub4, sub5, placement, geo, device,
       clicked_at, first_received_at, COALESCE(received_at, first_received_at), last_entry_id, entries, now(),
       payout_micros::bigint, reward_amount::bigint, reward_currency, payout_rule_id::bigint, reward_rule_id::bigint
     FROM jsonb_to_recordset($1::jsonb) AS x(conversion_id text, offer_id text, transaction_id text, goal text,
       partner_id text, click_id text, publisher_id text, status text, requested text, amount_micros text, currency text,
       reason_bucket text, reason_code text, sub1 text, sub2 text, sub3 text, sub4 text, sub5 text, placement text,
       geo text, device text, clicked_at timestamptz, received_at timestamptz, first_received_at timestamptz,
       last_entry_id text, entries int, payout_micros text, reward_amount text, reward_currency text, payout_rule_id text,
       reward_rule_id text)
     ON CONFLICT (conversion_id) DO UPDATE SET status = EXCLUDED.status, requested = EXCLUDED.requested,
       amount_micros = EXCLUDED.amount_micros, currency = EXCLUDED.currency, reason_bucket = EXCLUDED.reason_bucket,
       reason_code = EXCLUDED.reason_code,
       last_received_at = GREATEST(conversions.last_received_at, EXCLUDED.last_received_at),
       last_entry_id = EXCLUDED.last_entry_id, entries = EXCLUDED.entries, updated_at = now(),
       payout_micros = EXCLUDED.payout_micros, reward_amount = EXCLUDED.reward_amount,
       reward_currency = EXCLUDED.reward_currency, payout_rule_id = EXCLUDED.payout_rule_id,
       reward_rule_id = EXCLUDED.reward_rule_id`,
    [JSON.stringify(rows)],
  );
  return new Map([...after].map(([id, a]) => [id, a.state]));
}
