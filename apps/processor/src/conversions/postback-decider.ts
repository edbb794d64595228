import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  assertValidLedgerEntry,
  type LedgerEntryV1,
  type PostbackDeadV1,
  type PostbackReceived,
} from '@app/contracts';
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
import { appendLedgerEntries, CatalogCache, type OfferEntity } from '@app/persistence';
import { ProcessorEnv } from '../processor.env';
import { ClickWatermark } from './click-watermark';
import { type ClickOrigin, RoutingBatch, TrafficRuleCache } from './routing-controls';
import { buildLedgerEntry, sourceTags } from './ledger-entry.builder';

/** One postback to decide, fresh from Kafka or taken from the retry queue. */
export interface Work {
  event: PostbackReceived;
  /** Retries so far. */
  attempts: number;
  errors: unknown[];
  /** Tries of its batch that failed on a dependency before this one (soft rejects, not retry-queue attempts). */
  failedTries?: number;
  /** Set when it comes from parked_postbacks. */
  parked: boolean;
}

/** One outcome written, for metrics and the decision log (committed only with the caller's transaction). */
export interface DecisionRecord {
  eventId: string;
  correlationId: string;
  partnerId: string;
  outcome: string;
  reason: string | null;
  entryId: string | null;
  /** Set when a retry was scheduled: which attempt it will be (1 = the first retry). */
  retryAttempt?: number;
}

export interface DecideStats {
  decided: number;
  entries: number;
  parked: number;
  decisions: DecisionRecord[];
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
  ip: string | null;
  user_agent: string | null;
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
    reviewGeos: o.reviewGeos,
    burst:
      o.burstMaxConversions !== null && o.burstWindowSeconds !== null
        ? { maxConversions: o.burstMaxConversions, windowSeconds: o.burstWindowSeconds }
        : null,
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
    @Inject(TrafficRuleCache) private readonly trafficRules: TrafficRuleCache,
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
    const stats: DecideStats = { decided: 0, entries: 0, parked: 0, decisions: [] };
    if (work.length === 0) return stats;
    const facts = work.map((w) => postbackFacts(w.event));

    // Clicks, and the watermark only if some click is missing. W vouches only for clicks
    // committed before W was read, so the missing ones are looked up again after reading it:
    // otherwise a click batch committed between the lookup and the read (W now past the click)
    // turned a stored click into a false unknown_click (found by the gateway-crash fault test).
    const ids = [...new Set(facts.map((f) => f.clickId).filter(isWellFormedClickId))];
    const clickRows = ids.length
      ? await em.query<ClickRow[]>(`SELECT * FROM clicks WHERE click_id = ANY($1)`, [ids])
      : [];
    const found = new Set(clickRows.map((r) => r.click_id));
    const missing = ids.filter((id) => !found.has(id));
    let watermark: Date | undefined;
    if (missing.length) {
      watermark = await this.watermark.current();
      clickRows.push(
        ...(await em.query<ClickRow[]>(`SELECT * FROM clicks WHERE click_id = ANY($1)`, [missing])),
      );
    }
    const clicks = new Map(clickRows.map((r) => [r.click_id, clickFacts(r)]));
    const origins = new Map<string, ClickOrigin>(clickRows.map((r) => [r.click_id, r]));
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

    // Routing controls, traffic quality and bursts for these clicks' sources.
    const routing = await RoutingBatch.load(
      em,
      this.trafficRules,
      facts.map((f, i) => ({ lookup: lookups[i]!, receivedAt: f.receivedAt, offer: offers[i] })),
    );

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
    const dead: { event_id: string; key: string; payload: PostbackDeadV1 }[] = [];
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
        retryAttempt?: number,
      ) => {
        stats.decisions.push({
          eventId: f.eventId,
          correlationId: w.event.correlation_id,
          partnerId: f.partnerId,
          outcome: o,
          reason,
          entryId,
          retryAttempt,
        });
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
          attempts: w.attempts + (w.failedTries ?? 0),
          late,
          postback_delay_ms: delayMs,
          received_at: f.receivedAt.toISOString(),
          decided_at: now.toISOString(),
        });
      };

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
      const d = decide({
        postback: f,
        click: lookup,
        ...routing.inputsFor(lookup, origins.get(f.clickId), f.receivedAt, offers[i]),
        offer: offers[i],
        conversion: state,
        usage: usage.get(usageKey) ?? { conversions: 0, payoutMicros: 0n },
        attempt: w.attempts,
        maxAttempts: this.maxAttempts,
        operatorReplay: Boolean(w.event.payload.replay_of),
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
            false,
            w.attempts + 1,
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
          // The retry budget ran out while the click was still not visible: the terminal state
          // retry_exhausted, a hard unknown_click on the ledger; postbacks.dead keeps the
          // postback and its attempts for investigation.
          const exhausted = lookup.kind === 'not_visible_yet';
          const replayOf = w.event.payload.replay_of;
          outcome(
            d.outcome,
            d.reason,
            exhausted
              ? `retry_exhausted: click not visible after ${w.attempts} retries`
              : replayOf
                ? `operator replay of ${replayOf}`
                : null,
            entry.entry_id,
            late,
          );
          if (exhausted) dead.push(this.deadLetter(w, f, entry.entry_id, d.reason ?? 'unknown_click', now));
          stats.entries++;
          break;
        }
      }
      // Count it against its sources: new conversions, hard rejects that speak to the
      // source's quality (not its own controls or the offer's cap), approvals for source caps.
      routing.record(lookup, f.receivedAt, {
        isNew: !state,
        hardReject:
          d.kind === 'entry' &&
          d.outcome === 'rejected' &&
          d.reason !== 'blocked_source' &&
          d.reason !== 'cap_exceeded',
        approvals: d.kind === 'entry' ? (d.capDelta?.conversions ?? 0) : 0,
      });
      if (w.parked) parkDeletes.push(f.eventId);
      stats.decided++;
    });

    await this.write(em, {
      entries,
      outcomes,
      parkInserts,
      parkUpdates,
      parkDeletes,
      dead,
      touched,
      usage,
      usageDirty,
    });
    await routing.flush(em, now);
    return stats;
  }

  private deadLetter(
    w: Work,
    f: PostbackFacts,
    entryId: string,
    reasonCode: string,
    now: Date,
  ): { event_id: string; key: string; payload: PostbackDeadV1 } {
    return {
      event_id: f.eventId,
      key: `${f.partnerId}:${f.transactionId}`,
      payload: {
        schema_version: 1,
        event_id: f.eventId,
        partner_id: f.partnerId,
        transaction_id: f.transactionId,
        click_id: f.clickId,
        attempts: w.attempts,
        // Every attempt's soft reject, the first try included, then this last one.
        errors: [
          ...(w.errors as PostbackDeadV1['errors']),
          { at: now.toISOString(), reason: 'click_not_found_yet' },
        ],
        received_at: f.receivedAt.toISOString(),
        dead_at: now.toISOString(),
        decision: { outcome: 'rejected', reason_code: reasonCode, entry_id: entryId },
        postback: w.event,
      },
    };
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
      dead: { event_id: string; key: string; payload: PostbackDeadV1 }[];
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
    await appendLedgerEntries(em, w.entries);
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
        // When the conversion was first reported: from its state, not from the batch's last postback
        // (a pending and its approval decided in one batch would otherwise lose the pending's time).
        first_received_at: (state.firstReceivedAt ?? f.receivedAt).toISOString(),
        last_entry_id: lastEntryId,
        entries: state.entries,
      }));
      await em.query(
        `INSERT INTO conversions (conversion_id, offer_id, transaction_id, goal, partner_id, click_id, publisher_id, status,
           requested, amount_micros, currency, reason_bucket, reason_code, sub1, sub2, sub3, sub4, sub5, placement, geo, device,
           clicked_at, first_received_at, last_received_at, last_entry_id, entries, updated_at)
         SELECT conversion_id, offer_id, transaction_id, goal, partner_id, click_id, publisher_id, status, requested,
           amount_micros::bigint, currency, reason_bucket, reason_code, sub1, sub2, sub3, sub4, sub5, placement, geo, device,
           clicked_at, first_received_at, received_at, last_entry_id, entries, now()
         FROM jsonb_to_recordset($1::jsonb) AS x(conversion_id text, offer_id text, transaction_id text, goal text,
           partner_id text, click_id text, publisher_id text, status text, requested text, amount_micros text, currency text,
           reason_bucket text, reason_code text, sub1 text, sub2 text, sub3 text, sub4 text, sub5 text, placement text,
           geo text, device text, clicked_at timestamptz, received_at timestamptz, first_received_at timestamptz,
           last_entry_id text, entries int)
         ON CONFLICT (conversion_id) DO UPDATE SET status = EXCLUDED.status, requested = EXCLUDED.requested,
           amount_micros = EXCLUDED.amount_micros, reason_bucket = EXCLUDED.reason_bucket, reason_code = EXCLUDED.reason_code,
           last_received_at = EXCLUDED.last_received_at, last_entry_id = EXCLUDED.last_entry_id,
           entries = EXCLUDED.entries, updated_at = now()`,
        [JSON.stringify(rows)],
      );
    }
    if (w.outcomes.length) {
      await em.query(
        `WITH up AS (
         INSERT INTO postback_outcomes (event_id, partner_id, click_id, transaction_id, status, conversion_id, offer_id,
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
           postback_delay_ms = EXCLUDED.postback_delay_ms, decided_at = EXCLUDED.decided_at
           -- A final outcome is never rewritten; it is queued for the read models exactly once.
           WHERE postback_outcomes.outcome = 'retry_scheduled'
         RETURNING event_id, outcome)
       INSERT INTO projection_queue (event_id) SELECT event_id FROM up WHERE outcome <> 'retry_scheduled'`,
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
    if (w.dead.length)
      await em.query(
        `INSERT INTO postback_dead_outbox (event_id, key, payload)
         SELECT event_id, key, payload FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, key text, payload jsonb)`,
        [JSON.stringify(w.dead)],
      );
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
