import { assertValidLedgerEntry, type PostbackDeadV1, type PostbackReceived } from '@app/contracts';
import {
  bucketOf,
  type CapUsage,
  type ConversionState,
  decide,
  evolve,
  type PostbackFacts,
  priceEntry,
  type ReasonCode,
} from '@app/domain';
import { type EntryOrigin, entryFacts, type LedgerWrite } from '@app/ledger';
import { buildLedgerEntry } from './ledger-entry.builder';
import { type DecisionContext, day, pairOf } from './postback-loader';

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
  /** The gateway's request id (x-request-id of its answer); null on replays and older events. */
  requestId: string | null;
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

/** A `postback_outcomes` row: every accepted postback ends in exactly one final one. */
export interface OutcomeRow {
  event_id: string;
  partner_id: string;
  click_id: string;
  transaction_id: string;
  status: string;
  conversion_id: string | null;
  offer_id: string | null;
  publisher_id: string | null;
  sub1: string | null;
  placement: string | null;
  geo: string | null;
  outcome: string;
  reason_bucket: string | null;
  reason_code: string | null;
  detail: string | null;
  entry_id: string | null;
  attempts: number;
  late: boolean;
  postback_delay_ms: number | null;
  received_at: string;
  decided_at: string;
}

export interface ParkRow {
  event_id: string;
  partner_id: string;
  transaction_id: string;
  event: PostbackReceived;
  attempts: number;
  due_at: string;
  reason: string;
  errors: unknown[];
  parked_at: string;
}

export interface DeadRow {
  event_id: string;
  key: string;
  payload: PostbackDeadV1;
}

/** What a batch's decisions do: every effect, for the writer to apply in one transaction. */
export interface DecisionPlan {
  writes: LedgerWrite[];
  /** The conversions as they were before the batch (the ledger writer evolves them). */
  before: ReadonlyMap<string, ConversionState>;
  outcomes: OutcomeRow[];
  parkInserts: ParkRow[];
  parkUpdates: ParkRow[];
  parkDeletes: string[];
  dead: DeadRow[];
  /** Cap usage per `offer|day` after the batch, and which of them changed. */
  usage: Map<string, CapUsage>;
  usageDirty: Set<string>;
  stats: DecideStats;
}

export interface PlanOptions {
  now: Date;
  /** Retry-queue delays, one per attempt. */
  delays: readonly number[];
  lateAfterMs: number;
  /** A factor in [0.8, 1.2) that spreads retries. */
  jitter: () => number;
}

/**
 * Decides a batch, in order, against the context it was loaded with: pure apart from counting
 * each decision in the batch's routing state. Each decision sees the ones before it in the
 * batch (conversion state, cap usage, retry-queue order).
 */
export function planDecisions(ctx: DecisionContext, work: readonly Work[], o: PlanOptions): DecisionPlan {
  const { now } = o;
  const decidedAt = now.toISOString();
  const states = new Map(ctx.conversions);
  const usage = new Map(ctx.usage);
  const blocked = new Set(ctx.blocked);
  const plan: DecisionPlan = {
    writes: [],
    before: ctx.conversions,
    outcomes: [],
    parkInserts: [],
    parkUpdates: [],
    parkDeletes: [],
    dead: [],
    usage,
    usageDirty: new Set(),
    stats: { decided: 0, entries: 0, parked: 0, decisions: [] },
  };

  work.forEach((w, i) => {
    const f = ctx.facts[i]!;
    const lookup = ctx.lookups[i]!;
    const key = ctx.keys[i]!;
    const click = lookup.kind === 'found' ? lookup.click : undefined;
    const pair = pairOf(f.partnerId, f.transactionId);
    // The partner's own retry budget and late threshold win over the processor's.
    const policy = ctx.partnerPolicies?.get(f.partnerId);
    const maxAttempts = policy?.maxAttempts ?? o.delays.length;
    const lateAfterMs = policy?.lateAfterMs ?? o.lateAfterMs;
    const delayMs = click ? f.receivedAt.getTime() - click.clickedAt.getTime() : null;
    const outcome = (
      kind: string,
      reason: string | null,
      detail: string | null,
      entryId: string | null,
      late = false,
      retryAttempt?: number,
    ) => {
      plan.stats.decisions.push({
        eventId: f.eventId,
        correlationId: w.event.correlation_id,
        requestId: w.event.payload.request_id ?? null,
        partnerId: f.partnerId,
        outcome: kind,
        reason,
        entryId,
        retryAttempt,
      });
      // One literal (no spread of a base object): this runs once per postback.
      plan.outcomes.push({
        event_id: f.eventId,
        partner_id: f.partnerId,
        click_id: f.clickId,
        transaction_id: f.transactionId,
        status: f.status,
        attempts: w.attempts + (w.failedTries ?? 0),
        received_at: f.receivedAt.toISOString(),
        decided_at: decidedAt,
        conversion_id: kind === 'retry_scheduled' ? null : key.conversionId,
        offer_id: key.offerId === '-' ? null : key.offerId,
        publisher_id: click?.publisherId ?? null,
        sub1: click?.sub1 ?? null,
        placement: click?.placement ?? null,
        geo: click?.geo ?? null,
        outcome: kind,
        reason_bucket: reason ? bucketOf(reason as ReasonCode) : null,
        reason_code: reason,
        detail,
        entry_id: entryId,
        late,
        postback_delay_ms: delayMs,
      });
    };

    if (blocked.has(pair)) {
      // Behind an earlier postback of the same transaction: wait for it, in order.
      if (!w.parked) {
        plan.parkInserts.push(parkRow(w, 'queued_behind', 'infinity', now));
        outcome(
          'retry_scheduled',
          'click_not_found_yet',
          'queued behind an earlier postback of this transaction',
          null,
        );
        plan.stats.parked++;
      }
      return;
    }
    const state = states.get(key.conversionId);
    const usageKey = `${key.offerId}|${day(f.receivedAt)}`;
    const d = decide({
      postback: f,
      click: lookup,
      ...ctx.routing.inputsFor(lookup, ctx.origins.get(f.clickId), f.receivedAt, ctx.offers[i]),
      offer: ctx.offers[i],
      conversion: state,
      usage: usage.get(usageKey) ?? { conversions: 0, payoutMicros: 0n },
      rate: ctx.rates?.[i],
      attempt: w.attempts,
      maxAttempts,
      operatorReplay: Boolean(w.event.payload.replay_of),
    });
    switch (d.kind) {
      case 'retry': {
        const delay = o.delays[Math.min(w.attempts, o.delays.length - 1)]!;
        const due = new Date(now.getTime() + Math.round(delay * o.jitter())).toISOString();
        const row = parkRow(w, d.reason, due, now);
        if (w.parked) plan.parkUpdates.push(row);
        else plan.parkInserts.push(row);
        outcome(
          'retry_scheduled',
          d.reason,
          `${d.detail ? `${d.detail}: ` : ''}attempt ${w.attempts + 1} of ${maxAttempts} at ${due}`,
          null,
          false,
          w.attempts + 1,
        );
        blocked.add(pair);
        plan.stats.parked++;
        return;
      }
      case 'suppressed':
        outcome(d.outcome, d.reason, d.detail, null);
        break;
      case 'entry': {
        // Late valid: a first-time postback long after its click, accepted or held (not a reject).
        const late = !state && d.outcome !== 'rejected' && delayMs !== null && delayMs > lateAfterMs;
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
        const money = priceEntry({
          entryType: d.entryType,
          amountMicros: d.amountMicros,
          offerId: key.offerId,
          goal: key.goal,
          publisherId: entry.publisher_id,
          at: f.receivedAt,
          state,
          payoutRules: ctx.money?.payoutRules ?? [],
          rewardRules: ctx.money?.rewardRules ?? [],
        });
        // Kept in the entry's own columns, not in the published v1 payload.
        const origin: EntryOrigin = {
          userId: click?.userId ?? null,
          originalAmountMicros: d.fx?.originalAmountMicros ?? null,
          originalCurrency: d.fx?.originalCurrency ?? null,
          fxRate: d.fx?.rate ?? null,
          fxDate: d.fx?.day ?? null,
        };
        plan.writes.push({ entry, requested: d.requested, money, origin });
        states.set(key.conversionId, evolve(state, entryFacts(entry, d.requested, money)));
        if (d.capDelta) {
          const u = usage.get(usageKey) ?? { conversions: 0, payoutMicros: 0n };
          usage.set(usageKey, {
            conversions: u.conversions + d.capDelta.conversions,
            payoutMicros: u.payoutMicros + d.capDelta.payoutMicros,
          });
          plan.usageDirty.add(usageKey);
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
              : (d.detail ?? null),
          entry.entry_id,
          late,
        );
        if (exhausted) plan.dead.push(deadLetter(w, f, entry.entry_id, d.reason ?? 'unknown_click', now));
        plan.stats.entries++;
        break;
      }
    }
    // Count it against its sources: new conversions, hard rejects that speak to the
    // source's quality (not its own controls or the offer's cap), approvals for source caps.
    ctx.routing.record(lookup, f.receivedAt, {
      isNew: !state,
      hardReject:
        d.kind === 'entry' &&
        d.outcome === 'rejected' &&
        d.reason !== 'blocked_source' &&
        d.reason !== 'cap_exceeded',
      approvals: d.kind === 'entry' ? (d.capDelta?.conversions ?? 0) : 0,
    });
    if (w.parked) plan.parkDeletes.push(f.eventId);
    plan.stats.decided++;
  });
  return plan;
}

function deadLetter(w: Work, f: PostbackFacts, entryId: string, reasonCode: string, now: Date): DeadRow {
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

function parkRow(w: Work, reason: string, due: string, now: Date): ParkRow {
  const queued = reason === 'queued_behind';
  return {
    event_id: w.event.id,
    partner_id: w.event.payload.partner_id,
    transaction_id: w.event.payload.transaction_id,
    event: w.event,
    attempts: queued ? w.attempts : w.attempts + 1,
    due_at: due,
    reason,
    errors: queued ? w.errors : [...w.errors, { at: now.toISOString(), reason }],
    parked_at: now.toISOString(),
  };
}
