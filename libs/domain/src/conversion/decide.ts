import { appliedRate, convertMicros, fitsBigint } from '../exchange-rate';
import type { PostbackStatus } from '../key-dictionary';
import { MAX_AMOUNT_MICROS } from '../money';
import type {
  CapUsage,
  ClickFacts,
  ConversionState,
  EntryType,
  OfferFacts,
  PostbackFacts,
  ReasonCode,
} from './conversion.types';
import { evolve } from './evolve';
import { conversionIdOf } from './ids';

/** What the click store says about a postback's click_id. */
export type ClickLookup =
  | { kind: 'found'; click: ClickFacts }
  /** Not a ULID: the system could never have minted it. */
  | { kind: 'malformed' }
  /** Minted at or before the click store's watermark, and not stored: it never existed. */
  | { kind: 'unknown' }
  /** Newer than the watermark: the click may still be on its way. */
  | { kind: 'not_visible_yet' }
  /** Minted in the future (beyond clock skew): forged, never minted by us. */
  | { kind: 'future' };

/** The exchange rate a postback needs: its UTC day's, from its currency into the offer's. */
export interface RatePair {
  /** YYYY-MM-DD: the UTC day the gateway received the postback. */
  day: string;
  from: string;
  to: string;
}

/** A rate found for a `RatePair` (libs/exchange-rates findRate): the stored rate, and whether it is the reverse pair's. */
export interface DayRate extends RatePair {
  rate: string;
  inverted: boolean;
}

/** How an entry's amount came from a postback's amount in another currency. */
export interface EntryFx {
  originalAmountMicros: bigint;
  originalCurrency: string;
  /** Units of the entry's currency per unit of the original one (`appliedRate`). */
  rate: string;
  /** The UTC day of the rate. */
  day: string;
}

/**
 * The rate a postback's decision needs, or null: an approval carrying its own payout in another
 * currency than the offer's. Only an approval takes a postback's amount onto the ledger (a
 * pending or rejected entry is 0, a reversal takes back the approved amount), so other statuses,
 * and an approval without a payout (the offer's payout applies), convert nothing.
 */
export function rateWanted(p: PostbackFacts, offer: OfferFacts | undefined): RatePair | null {
  if (p.status !== 'approved' || p.payoutMicros === null || p.currency === null || !offer) return null;
  if (p.currency === offer.currency) return null;
  return { day: p.receivedAt.toISOString().slice(0, 10), from: p.currency, to: offer.currency };
}

export interface DecideInput {
  postback: PostbackFacts;
  click: ClickLookup;
  /** The conversion's offer (the postback's offer_id, else the click's). */
  offer: OfferFacts | undefined;
  conversion: ConversionState | undefined;
  /** The offer's usage on the postback's UTC day. */
  usage: CapUsage;
  /** The click's source (publisher + sub1 or placement) is blocked by routing controls. */
  sourceBlocked?: boolean;
  /**
   * A stricter policy on the click's source: hold its conversions for review, or a reduced
   * daily cap (`capReached`: the source's approvals today already reach it).
   */
  sourcePolicy?: { action: 'hold' } | { action: 'cap'; capReached: boolean };
  /** A traffic-quality rule the click matches (deny-listed IP range or user agent): what matched. */
  trafficQuality?: string | null;
  /** New conversions from the click's source (publisher + sub1) within the offer's burst window, before this one. */
  burstCount?: number;
  /**
   * The rate of `rateWanted(postback, offer)`, read in the decision's transaction; null or absent
   * when none is stored (the approval waits for it, within the retry budget).
   */
  rate?: DayRate | null;
  /** 0 on first delivery; +1 per retry. */
  attempt: number;
  maxAttempts: number;
  /** An operator replayed it from `postbacks.dead` (its retry budget had run out). */
  operatorReplay?: boolean;
}

export type Decision =
  | {
      kind: 'entry';
      outcome: 'accepted' | 'rejected' | 'held';
      entryType: EntryType;
      reason: ReasonCode | null;
      amountMicros: bigint;
      currency: string;
      /** The partner status the entry applies (the ledger keeps it, so a rebuild knows it). */
      requested: PostbackStatus;
      /** The conversion after the entry: `evolve` of the state before it. */
      next: ConversionState;
      capDelta: CapUsage | null;
      /** Why, in words, where the reason code alone does not say it. */
      detail?: string;
      /** Set when the amount was converted from the postback's currency. */
      fx?: EntryFx;
    }
  | {
      kind: 'suppressed';
      outcome: 'duplicate' | 'rejected';
      reason: 'duplicate' | 'invalid_transition' | 'partner_not_allowed' | 'currency_mismatch';
      detail: string;
    }
  | { kind: 'retry'; reason: 'click_not_found_yet' | 'exchange_rate_missing'; detail?: string };

/** The dedupe key: offer + transaction + goal (the offer's first goal when none is named). */
export function conversionKey(
  p: PostbackFacts,
  click: ClickLookup,
  offer: OfferFacts | undefined,
): { conversionId: string; offerId: string; goal: string } {
  const offerId = p.offerId ?? (click.kind === 'found' ? click.click.offerId : '-');
  // An offer with the single goal 'default' has one conversion per transaction, whatever
  // event name partners send with its statuses.
  const singleGoal = offer !== undefined && offer.goals.length === 1 && offer.goals[0] === 'default';
  const goal = singleGoal ? 'default' : (p.event ?? offer?.goals[0] ?? 'default');
  return { conversionId: conversionIdOf(offerId, p.transactionId, goal), offerId, goal };
}

/** The partner's own state machine: pending -> approved | rejected; approved -> reversed. */
const PARTNER_TRANSITIONS: Readonly<Record<PostbackStatus, readonly PostbackStatus[]>> = {
  pending: ['approved', 'rejected'],
  approved: ['reversed'],
  rejected: [],
  reversed: [],
};

const HOUR_MS = 3_600_000;

/**
 * Decides one postback against the state it depends on. Pure and deterministic: the same
 * input always yields the same decision, so replays and retries cannot change an outcome.
 */
export function decide(input: DecideInput): Decision {
  const { postback: p, conversion } = input;
  const key = conversionKey(p, input.click, input.offer);
  // A conversion belongs to the partner whose postback created it; nobody else changes it.
  if (conversion && conversion.partnerId !== p.partnerId)
    return suppressedReject(
      'partner_not_allowed',
      `conversion ${conversion.conversionId} belongs to partner ${conversion.partnerId}`,
    );
  if (conversion && !reopenedByReplay(input, conversion)) return transition(input, conversion);
  // A partner not allowed on the offer never creates (or occupies) one of its conversions.
  const named = input.offer?.partnerIds;
  if (named && !named.includes(p.partnerId))
    return suppressedReject(
      'partner_not_allowed',
      `partner ${p.partnerId} is not allowed on offer ${input.offer!.id}`,
    );

  const reject = (
    reason: ReasonCode,
    currency = input.offer?.currency ?? p.currency ?? 'XXX',
    detail?: string,
  ): Decision =>
    entry(input, key.conversionId, { outcome: 'rejected', entryType: 'rejected', reason, currency, detail });

  if (p.status === 'reversed') {
    return {
      kind: 'suppressed',
      outcome: 'rejected',
      reason: 'invalid_transition',
      detail: 'reversal of a conversion that was never approved',
    };
  }
  switch (input.click.kind) {
    case 'malformed':
    case 'unknown':
      return reject('unknown_click');
    case 'future':
      return reject('unknown_click', undefined, 'click id minted in the future: not one of ours');
    case 'not_visible_yet':
      return input.attempt < input.maxAttempts
        ? { kind: 'retry', reason: 'click_not_found_yet' }
        : reject('unknown_click');
    case 'found':
      break;
  }
  const click = input.click.click;
  if (p.offerId !== null && p.offerId !== click.offerId) return reject('offer_mismatch');
  const offer = input.offer;
  if (!offer) return reject('unknown_offer');
  if (
    p.event !== null &&
    !offer.goals.includes(p.event) &&
    !(offer.goals.length === 1 && offer.goals[0] === 'default')
  ) {
    return reject('invalid_goal');
  }
  if (p.receivedAt.getTime() - click.clickedAt.getTime() > offer.attributionWindowHours * HOUR_MS)
    return reject('click_expired');
  if (offer.allowedGeos !== null && (click.geo === null || !offer.allowedGeos.includes(click.geo)))
    return reject('blocked_geo');
  if (input.trafficQuality) return reject('traffic_quality');
  if (input.sourceBlocked) return reject('blocked_source');

  switch (p.status) {
    case 'pending':
      return entry(input, key.conversionId, {
        outcome: 'accepted',
        entryType: 'pending',
        reason: null,
        currency: offer.currency,
      });
    case 'rejected':
      return reject('advertiser_rejected', offer.currency);
    case 'approved':
      return approve(input, key.conversionId, click, offer, false);
  }
}

function suppressedReject(
  reason: 'invalid_transition' | 'partner_not_allowed' | 'currency_mismatch',
  detail: string,
): Decision {
  return { kind: 'suppressed', outcome: 'rejected', reason, detail };
}

/**
 * An entry decision: the entry's facts, and the conversion after it by `evolve`, the same
 * function the ledger writer and a rebuild use.
 */
function entry(
  input: DecideInput,
  conversionId: string,
  e: {
    outcome: 'accepted' | 'rejected' | 'held';
    entryType: EntryType;
    reason: ReasonCode | null;
    currency: string;
    amountMicros?: bigint;
    requested?: PostbackStatus;
    capDelta?: CapUsage | null;
    detail?: string;
    fx?: EntryFx;
  },
): Decision {
  const p = input.postback;
  const amountMicros = e.amountMicros ?? 0n;
  const requested = e.requested ?? p.status;
  const next = evolve(input.conversion, {
    conversionId,
    entryType: e.entryType,
    amountMicros,
    currency: e.currency,
    reason: e.reason,
    requested,
    partnerId: p.partnerId,
    occurredAt: p.receivedAt,
  });
  return {
    kind: 'entry',
    outcome: e.outcome,
    entryType: e.entryType,
    reason: e.reason,
    amountMicros,
    currency: e.currency,
    requested,
    next,
    capDelta: e.capDelta ?? null,
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
    ...(e.fx !== undefined ? { fx: e.fx } : {}),
  };
}

/**
 * The amount an approval takes, in the offer's currency: the postback's payout (converted at the
 * rate of its day when it is in another currency), else the offer's. Without that day's rate it
 * waits (a soft reject) while the retry budget lasts, then is a hard currency_mismatch; a
 * converted amount beyond what the gateway accepts is refused payout_above_max. Either way, a
 * decision instead of an amount.
 */
function approvalAmount(
  input: DecideInput,
  offer: OfferFacts,
  conversionId: string,
  existing: boolean,
): { amount: bigint; fx?: EntryFx } | Decision {
  const p = input.postback;
  const wanted = rateWanted(p, offer);
  if (!wanted) return { amount: p.payoutMicros ?? offer.payoutMicros };
  const pair = `${wanted.from}/${wanted.to}`;
  const r = input.rate;
  if (!r || r.day !== wanted.day || r.from !== wanted.from || r.to !== wanted.to) {
    if (input.attempt < input.maxAttempts)
      return {
        kind: 'retry',
        reason: 'exchange_rate_missing',
        detail: `no rate for ${wanted.day} ${pair} yet`,
      };
    const detail = `retry_exhausted: no rate for ${wanted.day} ${pair} after ${input.attempt} retries`;
    // A conversion that exists keeps its state (as for any refused later status); a new one is
    // rejected on the ledger, in the offer's currency.
    return existing
      ? suppressedReject('currency_mismatch', detail)
      : entry(input, conversionId, {
          outcome: 'rejected',
          entryType: 'rejected',
          reason: 'currency_mismatch',
          currency: offer.currency,
          detail,
        });
  }
  const original = p.payoutMicros!;
  const amount = convertMicros(original, r.rate, r.inverted ? 'quote_to_base' : 'base_to_quote');
  const fx: EntryFx = {
    originalAmountMicros: original,
    originalCurrency: wanted.from,
    rate: appliedRate(r.rate, r.inverted),
    day: wanted.day,
  };
  // The gateway bounds every amount it accepts (its sums fit the ledger): a rate must not get round it.
  if (!fitsBigint(amount) || amount > MAX_AMOUNT_MICROS)
    return entry(input, conversionId, {
      outcome: 'rejected',
      entryType: 'rejected',
      reason: 'payout_above_max',
      currency: offer.currency,
      fx,
      detail: `payout ${original} ${wanted.from} micros converts to ${amount} ${wanted.to} micros at ${fx.rate} (${wanted.day}), above the most the ledger takes (${MAX_AMOUNT_MICROS})`,
    });
  return { amount, fx };
}

/** Revenue is written here only: bounds and caps first, then manual holds, then the approval. */
function approve(
  input: DecideInput,
  conversionId: string,
  click: ClickFacts,
  offer: OfferFacts,
  existing: boolean,
): Decision {
  const p = input.postback;
  // An offer whose currency was changed after this conversion began cannot approve it: its
  // entries would mix two currencies (the database refuses that too).
  if (existing && input.conversion && input.conversion.currency !== offer.currency)
    return suppressedReject(
      'currency_mismatch',
      `conversion ${conversionId} is in ${input.conversion.currency}; its offer is now in ${offer.currency}`,
    );
  // Amounts are in the offer's currency: another one is converted first.
  const priced = approvalAmount(input, offer, conversionId, existing);
  if ('kind' in priced) return priced;
  const { amount, fx } = priced;
  const currency = offer.currency;
  const max = offer.maxPayoutMicros ?? null;
  if (max !== null && amount > max)
    return entry(input, conversionId, {
      outcome: 'rejected',
      entryType: 'rejected',
      reason: 'payout_above_max',
      currency,
      fx,
      detail: `payout ${amount} micros is above the offer's maximum of ${max}`,
    });
  const overCount = offer.dailyCap !== null && input.usage.conversions + 1 > offer.dailyCap;
  const overPayout =
    offer.payoutCapMicros !== null && input.usage.payoutMicros + amount > offer.payoutCapMicros;
  const overSource = input.sourcePolicy?.action === 'cap' && input.sourcePolicy.capReached;
  if (overCount || overPayout || overSource)
    return entry(input, conversionId, {
      outcome: 'rejected',
      entryType: 'rejected',
      reason: 'cap_exceeded',
      currency,
      fx,
    });
  const capDelta = { conversions: 1, payoutMicros: amount };
  // Click to conversion: the conversion happened when it was first reported (pending or not).
  const convertedAt = input.conversion?.firstReceivedAt ?? p.receivedAt;
  const tooFast =
    offer.minConversionSeconds !== null &&
    convertedAt.getTime() - click.clickedAt.getTime() < offer.minConversionSeconds * 1000;
  const tooMuch = offer.holdPayoutAboveMicros !== null && amount > offer.holdPayoutAboveMicros;
  // Bursts of conversions from one source, or a source under review, are fraud signals too.
  const burst = offer.burst !== null && (input.burstCount ?? 0) >= offer.burst.maxConversions;
  const sourceReview = input.sourcePolicy?.action === 'hold';
  const compliance = offer.reviewGeos !== null && click.geo !== null && offer.reviewGeos.includes(click.geo);
  const reason: ReasonCode | null =
    tooFast || burst || sourceReview
      ? 'fraud_suspected'
      : compliance
        ? 'compliance_review'
        : tooMuch
          ? 'payout_above_threshold'
          : null;
  // The cap is reserved while held, so a release can never push the offer over it; the
  // amount at stake is kept for the operator's release.
  return reason
    ? entry(input, conversionId, {
        outcome: 'held',
        entryType: 'held',
        reason,
        currency,
        amountMicros: amount,
        capDelta,
        fx,
      })
    : entry(input, conversionId, {
        outcome: 'accepted',
        entryType: 'approved',
        reason: null,
        currency,
        amountMicros: amount,
        capDelta,
        fx,
      });
}

/**
 * An operator's replay of a postback whose retry budget ran out decides it again as a first
 * report, against the click store as it is now, but only while its conversion holds nothing but
 * that unknown_click rejection: no later decision, adjustment or earlier replay is ever undone.
 */
function reopenedByReplay(input: DecideInput, c: ConversionState): boolean {
  return (
    input.operatorReplay === true &&
    c.status === 'rejected' &&
    c.reason === 'unknown_click' &&
    c.entries === 1
  );
}

function transition(input: DecideInput, c: ConversionState): Decision {
  const to = input.postback.status;
  if (to === c.requested)
    return { kind: 'suppressed', outcome: 'duplicate', reason: 'duplicate', detail: `repeat of ${to}` };
  if (!PARTNER_TRANSITIONS[c.requested].includes(to))
    return suppressedReject('invalid_transition', `${c.requested} -> ${to} is not a valid status change`);
  switch (c.status) {
    case 'pending': {
      if (to === 'rejected')
        return entry(input, c.conversionId, {
          outcome: 'rejected',
          entryType: 'rejected',
          reason: 'advertiser_rejected',
          currency: c.currency,
        });
      const click = input.click.kind === 'found' ? input.click.click : undefined;
      if (!click || !input.offer)
        return suppressedReject('invalid_transition', 'click or offer no longer available');
      return approve(input, c.conversionId, click, input.offer, true);
    }
    case 'approved':
      return entry(input, c.conversionId, {
        outcome: 'accepted',
        entryType: 'reversed',
        reason: null,
        currency: c.currency,
        amountMicros: c.amountMicros,
      });
    case 'held':
      // The advertiser took it back before an operator decided: nothing was ever paid.
      return entry(input, c.conversionId, {
        outcome: 'rejected',
        entryType: 'rejected',
        reason: 'advertiser_rejected',
        currency: c.currency,
        capDelta: { conversions: -1, payoutMicros: -c.amountMicros },
      });
    case 'rejected':
    case 'reversed':
      return suppressedReject(
        'invalid_transition',
        `the conversion is ${c.status}${c.reason ? ` (${c.reason})` : ''}; ${to} changes nothing`,
      );
  }
}
