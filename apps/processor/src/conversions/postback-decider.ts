import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { assertValidLedgerEntry, type LedgerEntryV1, type PostbackReceived } from '@app/contracts';
import {
  bucketOf,
  type CapUsage,
  type ClickFacts,
  type ClickLookup,
  clickIdTime,
  conversionKey,
  type ConversionState,
  decide,
  isWellFormedClickId,
  type OfferFacts,
  type PostbackFacts,
  type ReasonCode,
} from '@app/domain';
import { CatalogCache, type OfferEntity } from '@app/persistence';
import { ProcessorEnv } from '../processor.env';
import { ClickWatermark } from './click-watermark';
import { buildLedgerEntry, sourceTags } from './ledger-entry.builder';

/** One postback to decide, fresh from Kafka or taken from the retry queue. */
export interface Work {
  event: PostbackReceived;
  /** Retries so far. */
  attempts: number;
  errors: unknown[];
  /** Set when it comes from parked_postbacks. */
  parked: boolean;
}

interface SourceCount {
  kind: string;
  publisher_id: string;
  value: string;
  day: string;
  decided: number;
  rejected: number;
}

export interface DecideStats {
  decided: number;
  entries: number;
  parked: number;
}

interface ClickRow {
  click_id: string;
  offer_id: string;
  publisher_id: string;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  placement: string | null;
  geo: string | null;
  device: string | null;
  clicked_at: Date;
}

interface ConversionRow {
  conversion_id: string;
  status: ConversionState['status'];
  requested: ConversionState['requested'];
  amount_micros: string;
  currency: string;
  reason_code: string | null;
  entries: number;
  first_received_at: Date;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const pairOf = (e: PostbackReceived) => JSON.stringify([e.payload.partner_id, e.payload.transaction_id]);

export function offerFacts(o: OfferEntity): OfferFacts {
  return {
    id: o.id,
    status: o.status,
    payoutMicros: BigInt(o.payoutMicros),
    currency: o.currency,
    allowedGeos: o.allowedGeos,
    dailyCap: o.dailyCap,
    payoutCapMicros: o.payoutCapMicros === null ? null : BigInt(o.payoutCapMicros),
    attributionWindowHours: o.attributionWindowHours,
    goals: o.goals,
    minConversionSeconds: o.minConversionSeconds,
    holdPayoutAboveMicros: o.holdPayoutAboveMicros === null ? null : BigInt(o.holdPayoutAboveMicros),
  };
}

export function postbackFacts(e: PostbackReceived): PostbackFacts {
  const p = e.payload;
  return {
    eventId: e.id,
    partnerId: p.partner_id,
    clickId: p.click_id,
    transactionId: p.transaction_id,
    status: p.status,
    offerId: p.offer_id,
    payoutMicros: p.payout_micros === null ? null : BigInt(p.payout_micros),
    currency: p.currency,
    event: p.event,
    receivedAt: new Date(p.received_at),
  };
}

function clickFacts(r: ClickRow): ClickFacts {
  return {
    clickId: r.click_id,
    offerId: r.offer_id,
    publisherId: r.publisher_id,
    sub1: r.sub1,
    sub2: r.sub2,
    sub3: r.sub3,
    sub4: r.sub4,
    sub5: r.sub5,
    placement: r.placement,
    geo: r.geo,
    device: r.device,
    clickedAt: r.clicked_at,
  };
}

/**
 * Decides a batch of postbacks inside the caller's transaction: correlation, dedupe and
 * transitions (pure `decide`), with every piece of state it depends on read under lock and
 * every effect (ledger entries + outbox, conversion state, outcomes, cap usage, retry queue)
 * written in the same transaction. Re-running it on the same input changes nothing.
 */
@Injectable()
export class PostbackDecider {
  private readonly delays: number[];

  constructor(
    @Inject(CatalogCache) private readonly catalog: CatalogCache,
    @Inject(ClickWatermark) private readonly watermark: ClickWatermark,
    @Inject(ProcessorEnv) private readonly env: ProcessorEnv,
  ) {
    this.delays = env.RETRY_DELAYS_MS.split(',').map(Number);
  }

  get maxAttempts(): number {
    return this.delays.length;
  }

  /** Serialises all work on the same partner transactions (consumer, retries, other instances). */
  async lockPairs(em: EntityManager, events: PostbackReceived[]): Promise<void> {
    const keys = [...new Set(events.map(pairOf))];
    await em.query(
      `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 7) AS h FROM unnest($1::text[]) k ORDER BY 1) s`,
      [keys],
    );
  }

  async decide(em: EntityManager, work: Work[], now = new Date()): Promise<DecideStats> {
    const stats: DecideStats = { decided: 0, entries: 0, parked: 0 };
    if (work.length === 0) return stats;
    const facts = work.map((w) => postbackFacts(w.event));

    // Clicks, and the watermark only if some click is missing.
    const ids = [...new Set(facts.map((f) => f.clickId).filter(isWellFormedClickId))];
    const clickRows = ids.length
      ? await em.query<ClickRow[]>(`SELECT * FROM clicks WHERE click_id = ANY($1)`, [ids])
      : [];
    const clicks = new Map(clickRows.map((r) => [r.click_id, clickFacts(r)]));
    let watermark: Date | undefined;
    const lookups: ClickLookup[] = [];
    for (const f of facts) {
      const c = clicks.get(f.clickId);
      if (c) lookups.push({ kind: 'found', click: c });
      else if (!isWellFormedClickId(f.clickId)) lookups.push({ kind: 'malformed' });
      else {
        watermark ??= await this.watermark.current();
        lookups.push(
          (clickIdTime(f.clickId) ?? 0) <= watermark.getTime()
            ? { kind: 'unknown' }
            : { kind: 'not_visible_yet' },
        );
      }
    }

    // Offers (cached catalog), conversion keys, and the conversions they name, locked.
    // An offer created moments ago may not be in this instance's cache yet: refresh once
    // rather than reject its first conversion as unknown_offer.
    const wanted = facts.map(
      (f, i) =>
        f.offerId ??
        (lookups[i]!.kind === 'found' ? (lookups[i] as { click: ClickFacts }).click.offerId : undefined),
    );
    if (wanted.some((id) => id !== undefined && !this.catalog.offer(id))) await this.catalog.refresh();
    const offers = facts.map((f, i) => {
      const l = lookups[i]!;
      const id = f.offerId ?? (l.kind === 'found' ? l.click.offerId : undefined);
      const o = id ? this.catalog.offer(id) : undefined;
      return o ? offerFacts(o) : undefined;
    });
    const keys = facts.map((f, i) => conversionKey(f, lookups[i]!, offers[i]));
    const convIds = [...new Set(keys.map((k) => k.conversionId))].sort();
    const convRows = await em.query<ConversionRow[]>(
      `SELECT conversion_id, status, requested, amount_micros, currency, reason_code, entries, first_received_at
         FROM conversions WHERE conversion_id = ANY($1) ORDER BY conversion_id FOR UPDATE`,
      [convIds],
    );
    const states = new Map<string, ConversionState & { entries: number }>(
      convRows.map((r) => [
        r.conversion_id,
        {
          conversionId: r.conversion_id,
          status: r.status,
          requested: r.requested,
          amountMicros: BigInt(r.amount_micros),
          currency: r.currency,
          reason: r.reason_code as ReasonCode | null,
          firstReceivedAt: r.first_received_at,
          entries: r.entries,
        },
      ]),
    );

    // Cap usage rows for every offer+day an approval may touch, locked in a fixed order.
    const usageKeys = new Map<string, { offerId: string; day: string }>();
    facts.forEach((f, i) => {
      const o = offers[i];
      if (o && (o.dailyCap !== null || o.payoutCapMicros !== null))
        usageKeys.set(`${o.id}|${day(f.receivedAt)}`, { offerId: o.id, day: day(f.receivedAt) });
    });
    const usage = new Map<string, CapUsage>();
    if (usageKeys.size) {
      const list = [...usageKeys.values()].sort((a, b) => (a.offerId + a.day < b.offerId + b.day ? -1 : 1));
      await em.query(
        `INSERT INTO offer_daily_usage (offer_id, day, conversions, payout_micros)
         SELECT o, d::date, 0, 0 FROM unnest($1::varchar[], $2::text[]) AS t(o, d) ON CONFLICT DO NOTHING`,
        [list.map((u) => u.offerId), list.map((u) => u.day)],
      );
      const rows = await em.query<
        { offer_id: string; day: string; conversions: number; payout_micros: string }[]
      >(
        `SELECT offer_id, to_char(day, 'YYYY-MM-DD') AS day, conversions, payout_micros FROM offer_daily_usage
          WHERE (offer_id, day) IN (SELECT o, d::date FROM unnest($1::varchar[], $2::text[]) AS t(o, d))
          ORDER BY offer_id, day FOR UPDATE`,
        [list.map((u) => u.offerId), list.map((u) => u.day)],
      );
      for (const r of rows)
        usage.set(`${r.offer_id}|${r.day}`, {
          conversions: r.conversions,
          payoutMicros: BigInt(r.payout_micros),
        });
    }
    const usageDirty = new Set<string>();

    // Routing controls: which of these clicks' sources are blocked.
    const sourcesOf = (l: ClickLookup): [string, string, string][] =>
      l.kind === 'found'
        ? ([
            ['sub1', l.click.publisherId, l.click.sub1],
            ['placement', l.click.publisherId, l.click.placement],
          ].filter((x) => x[2] !== null) as [string, string, string][])
        : [];
    const wantedSources = lookups.flatMap(sourcesOf);
    const blockedSources = new Set<string>();
    if (wantedSources.length && this.env.SOURCE_MIN_DECISIONS > 0) {
      const rows = await em.query<{ k: string }[]>(
        `SELECT kind || '|' || publisher_id || '|' || value AS k FROM source_blocks
          WHERE (kind, publisher_id, value) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[]))`,
        [wantedSources.map((x) => x[0]), wantedSources.map((x) => x[1]), wantedSources.map((x) => x[2])],
      );
      for (const r of rows) blockedSources.add(r.k);
    }
    const sourceStats = new Map<string, SourceCount>();

    // Partner transactions with a postback already waiting: later ones queue behind it.
    const blocked = new Set<string>();
    const fresh = work.filter((w) => !w.parked);
    if (fresh.length) {
      const rows = await em.query<{ partner_id: string; transaction_id: string }[]>(
        `SELECT DISTINCT partner_id, transaction_id FROM parked_postbacks
          WHERE (partner_id, transaction_id) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[]))`,
        [fresh.map((w) => w.event.payload.partner_id), fresh.map((w) => w.event.payload.transaction_id)],
      );
      for (const r of rows) blocked.add(JSON.stringify([r.partner_id, r.transaction_id]));
    }

    const entries: LedgerEntryV1[] = [];
    const outcomes: object[] = [];
    const parkInserts: object[] = [];
    const parkUpdates: object[] = [];
    const parkDeletes: string[] = [];
    const touched = new Map<
      string,
      {
        state: ConversionState & { entries: number };
        f: PostbackFacts;
        key: (typeof keys)[number];
        click?: ClickFacts;
        lastEntryId: string;
      }
    >();

    work.forEach((w, i) => {
      const f = facts[i]!;
      const lookup = lookups[i]!;
      const key = keys[i]!;
      const click = lookup.kind === 'found' ? lookup.click : undefined;
      const pair = pairOf(w.event);
      const delayMs = click ? f.receivedAt.getTime() - click.clickedAt.getTime() : null;
      const outcome = (
        o: string,
        reason: string | null,
        detail: string | null,
        entryId: string | null,
        late = false,
      ) =>
        outcomes.push({
          event_id: f.eventId,
          partner_id: f.partnerId,
          click_id: f.clickId,
          transaction_id: f.transactionId,
          status: f.status,
          conversion_id: o === 'retry_scheduled' ? null : key.conversionId,
          offer_id: key.offerId === '-' ? null : key.offerId,
          publisher_id: click?.publisherId ?? null,
          sub1: click?.sub1 ?? null,
          placement: click?.placement ?? null,
          geo: click?.geo ?? null,
          outcome: o,
          reason_bucket: reason ? bucketOf(reason as ReasonCode) : null,
          reason_code: reason,
          detail: detail?.slice(0, 256) ?? null,
          entry_id: entryId,
          attempts: w.attempts,
          late,
          postback_delay_ms: delayMs,
          received_at: f.receivedAt.toISOString(),
          decided_at: now.toISOString(),
        });

      if (blocked.has(pair)) {
        // Behind an earlier postback of the same transaction: wait for it, in order.
        if (!w.parked) {
          parkInserts.push(this.parkRow(w, 'queued_behind', 'infinity', now));
          outcome(
            'retry_scheduled',
            'click_not_found_yet',
            'queued behind an earlier postback of this transaction',
            null,
          );
          stats.parked++;
        }
        return;
      }
      const state = states.get(key.conversionId);
      const usageKey = `${key.offerId}|${day(f.receivedAt)}`;
      const sources = sourcesOf(lookup);
      const d = decide({
        postback: f,
        click: lookup,
        sourceBlocked: sources.some((x) => blockedSources.has(x.join('|'))),
        offer: offers[i],
        conversion: state,
        usage: usage.get(usageKey) ?? { conversions: 0, payoutMicros: 0n },
        attempt: w.attempts,
        maxAttempts: this.maxAttempts,
      });
      switch (d.kind) {
        case 'retry': {
          const delay = this.delays[Math.min(w.attempts, this.delays.length - 1)]!;
          const due = new Date(now.getTime() + Math.round(delay * (0.8 + Math.random() * 0.4))).toISOString();
          const row = this.parkRow(w, d.reason, due, now);
          if (w.parked) parkUpdates.push(row);
          else parkInserts.push(row);
          outcome(
            'retry_scheduled',
            d.reason,
            `attempt ${w.attempts + 1} of ${this.maxAttempts} at ${due}`,
            null,
          );
          blocked.add(pair);
          stats.parked++;
          return;
        }
        case 'suppressed':
          outcome(d.outcome, d.reason, d.detail, null);
          break;
        case 'entry': {
          // Late valid: a first-time postback long after its click, accepted or held (not a reject).
          const late =
            !state && d.outcome !== 'rejected' && delayMs !== null && delayMs > this.env.LATE_AFTER_MS;
          const entry = buildLedgerEntry({
            postback: f,
            click,
            offerId: key.offerId,
            goal: key.goal,
            decision: d,
            recordedAt: now,
            late,
          });
          assertValidLedgerEntry(entry);
          entries.push(entry);
          const next = { ...d.next, entries: (state?.entries ?? 0) + 1 };
          states.set(key.conversionId, next);
          touched.set(key.conversionId, { state: next, f, key, click, lastEntryId: entry.entry_id });
          if (d.capDelta) {
            const u = usage.get(usageKey) ?? { conversions: 0, payoutMicros: 0n };
            usage.set(usageKey, {
              conversions: u.conversions + d.capDelta.conversions,
              payoutMicros: u.payoutMicros + d.capDelta.payoutMicros,
            });
            usageDirty.add(usageKey);
          }
          outcome(d.outcome, d.reason, null, entry.entry_id, late);
          stats.entries++;
          break;
        }
      }
      if (!state) {
        // A new conversion from these sources was decided: count it, and whether it was a hard reject.
        const rejected =
          d.kind === 'entry' &&
          d.outcome === 'rejected' &&
          d.reason !== 'blocked_source' &&
          d.reason !== 'cap_exceeded';
        for (const [kind, publisherId, value] of sources) {
          const k = `${kind}|${publisherId}|${value}|${day(f.receivedAt)}`;
          const st = sourceStats.get(k) ?? {
            kind,
            publisher_id: publisherId,
            value,
            day: day(f.receivedAt),
            decided: 0,
            rejected: 0,
          };
          st.decided++;
          if (rejected) st.rejected++;
          sourceStats.set(k, st);
        }
      }
      if (w.parked) parkDeletes.push(f.eventId);
      stats.decided++;
    });

    await this.write(em, {
      entries,
      outcomes,
      parkInserts,
      parkUpdates,
      parkDeletes,
      touched,
      usage,
      usageDirty,
    });
    if (sourceStats.size && this.env.SOURCE_MIN_DECISIONS > 0)
      await this.updateSources(em, [...sourceStats.values()], now);
    return stats;
  }

  /** Adds this batch's counts per source and day; blocks a source that crosses the threshold. */
  private async updateSources(em: EntityManager, list: SourceCount[], now: Date): Promise<void> {
    list.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    await em.query(
      `WITH up AS (
         INSERT INTO source_daily_stats (kind, publisher_id, value, day, decided, rejected)
         SELECT kind, publisher_id, value, day, decided, rejected
           FROM jsonb_to_recordset($1::jsonb) AS x(kind text, publisher_id text, value text, day date, decided int, rejected int)
         ON CONFLICT (kind, publisher_id, value, day) DO UPDATE
           SET decided = source_daily_stats.decided + EXCLUDED.decided,
               rejected = source_daily_stats.rejected + EXCLUDED.rejected
         RETURNING kind, publisher_id, value, decided, rejected)
       INSERT INTO source_blocks (kind, publisher_id, value, blocked_at, decided, rejected, reason)
       SELECT kind, publisher_id, value, $2, decided, rejected,
              rejected || ' of ' || decided || ' new conversions rejected on ' || to_char($2::timestamptz, 'YYYY-MM-DD')
         FROM up WHERE decided >= $3 AND rejected::numeric / decided >= $4
       ON CONFLICT DO NOTHING`,
      [
        JSON.stringify(list),
        now.toISOString(),
        this.env.SOURCE_MIN_DECISIONS,
        this.env.SOURCE_BLOCK_REJECT_RATE,
      ],
    );
  }

  private parkRow(w: Work, reason: string, due: string, now: Date): object {
    const attempts = reason === 'queued_behind' ? w.attempts : w.attempts + 1;
    return {
      event_id: w.event.id,
      partner_id: w.event.payload.partner_id,
      transaction_id: w.event.payload.transaction_id,
      event: w.event,
      attempts,
      due_at: due,
      reason,
      errors: reason === 'queued_behind' ? w.errors : [...w.errors, { at: now.toISOString(), reason }],
      parked_at: now.toISOString(),
    };
  }

  private async write(
    em: EntityManager,
    w: {
      entries: LedgerEntryV1[];
      outcomes: object[];
      parkInserts: object[];
      parkUpdates: object[];
      parkDeletes: string[];
      touched: Map<
        string,
        {
          state: ConversionState & { entries: number };
          f: PostbackFacts;
          key: { offerId: string; goal: string };
          click?: ClickFacts;
          lastEntryId: string;
        }
      >;
      usage: Map<string, CapUsage>;
      usageDirty: Set<string>;
    },
  ): Promise<void> {
    if (w.entries.length) {
      // Idempotent on entry_id; only rows really inserted go to the outbox.
      await em.query(
        `WITH ins AS (
           INSERT INTO ledger_entries (entry_id, entry_type, conversion_id, conversion_status, click_id, transaction_id, offer_id,
             publisher_id, partner_id, goal, amount_micros, currency, reason_bucket, reason_code, sub1, sub2, sub3, sub4, sub5,
             placement, geo, device, clicked_at, occurred_at, recorded_at, late, postback_delay_ms, source_event_id,
             schema_version, payload)
           SELECT x.entry_id, x.entry_type, x.conversion_id, x.conversion_status, x.click_id, x.transaction_id, x.offer_id,
             x.publisher_id, x.partner_id, x.goal, x.amount_micros::bigint, x.currency, x.reason_bucket, x.reason_code, x.sub1,
             x.sub2, x.sub3, x.sub4, x.sub5, x.placement, x.geo, x.device, x.clicked_at, x.occurred_at, x.recorded_at, x.late,
             x.postback_delay_ms, x.source_event_id, x.schema_version, j.value
           FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(value, n)
           CROSS JOIN LATERAL jsonb_to_record(j.value) AS x(entry_id text, entry_type text, conversion_id text,
             conversion_status text, click_id text, transaction_id text, offer_id text, publisher_id text, partner_id text,
             goal text, amount_micros text, currency text, reason_bucket text, reason_code text, sub1 text, sub2 text,
             sub3 text, sub4 text, sub5 text, placement text, geo text, device text, clicked_at timestamptz,
             occurred_at timestamptz, recorded_at timestamptz, late boolean, postback_delay_ms bigint,
             source_event_id text, schema_version int)
           ORDER BY j.n
           ON CONFLICT (entry_id) DO NOTHING
           RETURNING seq, entry_id)
         INSERT INTO ledger_outbox (seq, entry_id) SELECT seq, entry_id FROM ins`,
        [JSON.stringify(w.entries)],
      );
    }
    if (w.touched.size) {
      const rows = [...w.touched.values()].map(({ state, f, key, click, lastEntryId }) => ({
        conversion_id: state.conversionId,
        offer_id: key.offerId,
        transaction_id: f.transactionId,
        goal: key.goal,
        partner_id: f.partnerId,
        click_id: f.clickId,
        status: state.status,
        requested: state.requested,
        amount_micros: state.amountMicros.toString(),
        currency: state.currency,
        reason_bucket: state.reason ? bucketOf(state.reason) : null,
        reason_code: state.reason,
        ...sourceTags(click),
        received_at: f.receivedAt.toISOString(),
        last_entry_id: lastEntryId,
        entries: state.entries,
      }));
      await em.query(
        `INSERT INTO conversions (conversion_id, offer_id, transaction_id, goal, partner_id, click_id, publisher_id, status,
           requested, amount_micros, currency, reason_bucket, reason_code, sub1, sub2, sub3, sub4, sub5, placement, geo, device,
           clicked_at, first_received_at, last_received_at, last_entry_id, entries, updated_at)
         SELECT conversion_id, offer_id, transaction_id, goal, partner_id, click_id, publisher_id, status, requested,
           amount_micros::bigint, currency, reason_bucket, reason_code, sub1, sub2, sub3, sub4, sub5, placement, geo, device,
           clicked_at, received_at, received_at, last_entry_id, entries, now()
         FROM jsonb_to_recordset($1::jsonb) AS x(conversion_id text, offer_id text, transaction_id text, goal text,
           partner_id text, click_id text, publisher_id text, status text, requested text, amount_micros text, currency text,
           reason_bucket text, reason_code text, sub1 text, sub2 text, sub3 text, sub4 text, sub5 text, placement text,
           geo text, device text, clicked_at timestamptz, received_at timestamptz, last_entry_id text, entries int)
         ON CONFLICT (conversion_id) DO UPDATE SET status = EXCLUDED.status, requested = EXCLUDED.requested,
           amount_micros = EXCLUDED.amount_micros, reason_bucket = EXCLUDED.reason_bucket, reason_code = EXCLUDED.reason_code,
           last_received_at = EXCLUDED.last_received_at, last_entry_id = EXCLUDED.last_entry_id,
           entries = EXCLUDED.entries, updated_at = now()`,
        [JSON.stringify(rows)],
      );
    }
    if (w.outcomes.length) {
      await em.query(
        `INSERT INTO postback_outcomes (event_id, partner_id, click_id, transaction_id, status, conversion_id, offer_id,
           publisher_id, sub1, placement, geo, outcome, reason_bucket, reason_code, detail, entry_id, attempts, late,
           postback_delay_ms, received_at, decided_at)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, partner_id text, click_id text, transaction_id text,
           status text, conversion_id text, offer_id text, publisher_id text, sub1 text, placement text, geo text,
           outcome text, reason_bucket text, reason_code text, detail text, entry_id text, attempts int, late boolean,
           postback_delay_ms bigint, received_at timestamptz, decided_at timestamptz)
         ON CONFLICT (event_id) DO UPDATE SET conversion_id = EXCLUDED.conversion_id, offer_id = EXCLUDED.offer_id,
           publisher_id = EXCLUDED.publisher_id, sub1 = EXCLUDED.sub1, placement = EXCLUDED.placement, geo = EXCLUDED.geo,
           outcome = EXCLUDED.outcome, reason_bucket = EXCLUDED.reason_bucket, reason_code = EXCLUDED.reason_code,
           detail = EXCLUDED.detail, entry_id = EXCLUDED.entry_id, attempts = EXCLUDED.attempts, late = EXCLUDED.late,
           postback_delay_ms = EXCLUDED.postback_delay_ms, decided_at = EXCLUDED.decided_at`,
        [JSON.stringify(w.outcomes)],
      );
    }
    if (w.parkInserts.length) {
      await em.query(
        `INSERT INTO parked_postbacks (event_id, partner_id, transaction_id, event, attempts, due_at, reason, errors, parked_at)
         SELECT event_id, partner_id, transaction_id, event, attempts, due_at, reason, errors, parked_at
         FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, partner_id text, transaction_id text, event jsonb,
           attempts int, due_at timestamptz, reason text, errors jsonb, parked_at timestamptz)
         ON CONFLICT (event_id) DO NOTHING`,
        [JSON.stringify(w.parkInserts)],
      );
    }
    if (w.parkUpdates.length) {
      await em.query(
        `UPDATE parked_postbacks p SET attempts = x.attempts, due_at = x.due_at, reason = x.reason, errors = x.errors
         FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, attempts int, due_at timestamptz, reason text, errors jsonb)
         WHERE p.event_id = x.event_id`,
        [JSON.stringify(w.parkUpdates)],
      );
    }
    if (w.parkDeletes.length)
      await em.query(`DELETE FROM parked_postbacks WHERE event_id = ANY($1)`, [w.parkDeletes]);
    if (w.usageDirty.size) {
      const list = [...w.usageDirty].map((k) => {
        const [offerId, d] = k.split('|') as [string, string];
        const u = w.usage.get(k)!;
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
}
