/**
 * The verifier's own model of the decision rules, written from docs/processing.md and
 * docs/partners/postbacks.md, deliberately without importing libs/domain or apps/: if the system
 * and this model disagree, one of them is wrong, and the verifier says where.
 */
import type { ClickLine, OfferLine, PostbackLine, Traffic } from './traffic-file';

export type Outcome = 'accepted' | 'duplicate' | 'rejected' | 'held';
type Status = 'pending' | 'approved' | 'rejected' | 'reversed';
type ConvStatus = Status | 'held';
export type EntryType = 'pending' | 'approved' | 'rejected' | 'held' | 'reversed';

export interface ReferenceOptions {
  /** The processor's LATE_AFTER_MS. */
  lateAfterMs: number;
  /** The processor's SOURCE_MIN_DECISIONS (0: blocking off) and SOURCE_BLOCK_REJECT_RATE. */
  sourceMinDecisions: number;
  sourceBlockRate: number;
}

/** What the system said about one postback, for the one choice the rules leave to arrival order. */
export type ObservedOutcome = (id: string) => { outcome: string; reason: string | null } | undefined;

export interface Expected {
  id: string;
  group?: string;
  /** The HTTP status the gateway must answer. */
  http: number;
  outcome?: Outcome;
  reason?: string | null;
  late?: boolean;
  entry?: ExpectedEntry;
  /** Reconciliation cell: day x offer x publisher x sub1 x placement x geo. */
  cell?: string;
}

/**
 * A ledger entry as the rules say it must be: its revenue, and the publisher's payout and the
 * user's reward it moves (MONEY.md; docs/tables.md#payout_rules-reward_rules...).
 */
export interface ExpectedEntry {
  type: EntryType;
  amountMicros: bigint;
  currency: string;
  payoutMicros: bigint;
  reward: { units: bigint; currency: string } | null;
}

export interface Reference {
  postbacks: Expected[];
  /** Cap choices the observed order made that no order could have made. */
  capViolations: string[];
}

interface Conversion {
  status: ConvStatus;
  requested: Status;
  amount: bigint;
  currency: string;
  firstAt: number;
  /** What its approval (or hold) gave the publisher and the user: a reversal takes it back. */
  payout?: bigint;
  reward?: ExpectedEntry['reward'];
}

interface Decision {
  outcome: Outcome;
  reason: string | null;
  entry?: Expected['entry'];
  next?: Conversion;
}

const HOUR = 3_600_000;
const STATUSES: readonly string[] = ['pending', 'approved', 'rejected', 'reversed'];
/** The partner's state machine: what may follow the last status applied. */
const FOLLOWS: Record<Status, readonly Status[]> = {
  pending: ['approved', 'rejected'],
  approved: ['reversed'],
  rejected: [],
  reversed: [],
};
const MANUAL = new Set(['fraud_suspected', 'payout_above_threshold', 'compliance_review']);
const SOFT = new Set([
  'click_not_found_yet',
  'exchange_rate_missing',
  'retry_exhausted',
  'dependency_unavailable',
  'timeout',
]);
/** The largest amount the ledger takes (999,999,999.999999). */
const MAX_MICROS = 999_999_999_999_999n;
const RATE_SCALE = 10n ** 12n;

/** n / d rounded to the nearest integer, ties to even (d > 0). */
export function halfEven(n: bigint, d: bigint): bigint {
  const neg = n < 0n;
  const a = neg ? -n : n;
  let q = a / d;
  const r2 = (a % d) * 2n;
  if (r2 > d || (r2 === d && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

/** A decimal string scaled by 10^digits, exactly ("7.5", 6 -> 7_500_000). */
const scaled = (s: string, digits: number): bigint => {
  const [i, f = ''] = s.split('.');
  return BigInt(i!) * 10n ** BigInt(digits) + BigInt(f.padEnd(digits, '0').slice(0, digits));
};

export const bucketOf = (code: string) => (MANUAL.has(code) ? 'manual' : SOFT.has(code) ? 'soft' : 'hard');
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Decimal string to micros, or undefined when the gateway must refuse it. */
export function micros(s: string): bigint | undefined {
  const m = /^(\d{1,15})(?:\.(\d{1,6}))?$/.exec(s);
  return m ? BigInt(m[1]!) * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0')) : undefined;
}

/** The gateway's answer: 401 for a bad signature, 400 for a bad field, else 200. */
export function expectedHttp(p: PostbackLine): number {
  if (p.signing === 'bad') return 401;
  const q = p.params;
  if (!q.transaction_id || !q.status || !STATUSES.includes(q.status)) return 400;
  if (q.payout !== undefined && micros(q.payout) === undefined) return 400;
  if (q.currency !== undefined && !/^[A-Z]{3}$/.test(q.currency)) return 400;
  return 200;
}

export function computeReference(
  traffic: Traffic,
  o: ReferenceOptions,
  observed: ObservedOutcome,
): Reference {
  return new Model(traffic, o, observed).run();
}

class Model {
  private readonly offers: Map<string, OfferLine>;
  private readonly clicks = new Map<string, ClickLine>();
  private readonly conversions = new Map<string, Conversion>();
  private readonly usage = new Map<string, { count: number; micros: bigint }>();
  private readonly capClaims: { key: string; amount: bigint; id: string }[] = [];
  private readonly capViolations: string[] = [];
  private readonly sources = new Map<string, { decided: number; rejected: number }>();
  private readonly blocked = new Set<string>();

  /** `day|base|quote` -> rate scaled by 10^12. */
  private readonly rates: Map<string, bigint>;

  constructor(
    private readonly traffic: Traffic,
    private readonly o: ReferenceOptions,
    private readonly observed: ObservedOutcome,
  ) {
    this.offers = new Map(traffic.offers.map((x) => [x.id, x]));
    this.rates = new Map(traffic.rates.map((r) => [`${r.day}|${r.base}|${r.quote}`, scaled(r.rate, 12)]));
  }

  run(): Reference {
    const postbacks: Expected[] = [];
    for (const e of this.traffic.events) {
      if (e.kind === 'click') this.clicks.set(e.id, e);
      else postbacks.push(this.postback(e));
    }
    this.checkCapClaims();
    return { postbacks, capViolations: this.capViolations };
  }

  private postback(p: PostbackLine): Expected {
    const http = expectedHttp(p);
    const base = { id: p.id, http, ...(p.group ? { group: p.group } : {}) };
    if (http !== 200) return base;
    const at = Date.parse(p.t);
    const click = 'ref' in p.click ? this.clicks.get(p.click.ref) : undefined;
    const offerId = p.params.offer_id ?? click?.offer_id ?? '-';
    const key = `${offerId}|${p.params.transaction_id}|default`;
    const conv = this.conversions.get(key);
    const d = conv ? this.transition(p, at, conv, click, offerId) : this.first(p, at, click, offerId);
    if (d.next) this.conversions.set(key, d.next);
    if (!conv && click) this.countSource(click, at, d);
    const late =
      !conv &&
      d.outcome !== 'rejected' &&
      click !== undefined &&
      at - Date.parse(click.t) > this.o.lateAfterMs;
    const cell = [
      dayOf(at),
      offerId,
      click?.publisher_id ?? '-',
      click?.sub1 ?? '-',
      click?.placement ?? '-',
      click?.geo ?? '-',
    ].join('|');
    return {
      ...base,
      outcome: d.outcome,
      reason: d.reason,
      late,
      ...(d.entry ? { entry: d.entry } : {}),
      cell,
    };
  }

  /** A conversion reported for the first time. */
  private first(p: PostbackLine, at: number, click: ClickLine | undefined, offerId: string): Decision {
    const status = p.params.status as Status;
    const offer = this.offers.get(offerId);
    const reject = (reason: string, cur = offer?.currency ?? p.params.currency ?? 'XXX'): Decision => ({
      outcome: 'rejected',
      reason,
      entry: none('rejected', cur),
      next: { status: 'rejected', requested: status, amount: 0n, currency: cur, firstAt: at },
    });
    if (status === 'reversed') return { outcome: 'rejected', reason: 'invalid_transition' };
    if (!click) return reject('unknown_click');
    if (p.params.offer_id !== undefined && p.params.offer_id !== click.offer_id)
      return reject('offer_mismatch');
    if (!offer) return reject('unknown_offer');
    const currency = offer.currency;
    const clickedAt = Date.parse(click.t);
    if (at - clickedAt > offer.attribution_window_hours * HOUR) return reject('click_expired');
    if (offer.allowed_geos && !offer.allowed_geos.includes(click.geo)) return reject('blocked_geo');
    if (this.sourceKeys(click, at).some((k) => this.blocked.has(k.split('|').slice(0, 3).join('|'))))
      return reject('blocked_source');
    switch (status) {
      case 'pending':
        return {
          outcome: 'accepted',
          reason: null,
          entry: none('pending', currency),
          next: { status: 'pending', requested: 'pending', amount: 0n, currency, firstAt: at },
        };
      case 'rejected':
        return reject('advertiser_rejected', currency);
      case 'approved':
        return this.approve(p, at, click, offer, at);
    }
  }

  /** A later postback of a known conversion: a repeat, a status change, or not allowed. */
  private transition(
    p: PostbackLine,
    at: number,
    conv: Conversion,
    click: ClickLine | undefined,
    offerId: string,
  ): Decision {
    const to = p.params.status as Status;
    if (to === conv.requested) return { outcome: 'duplicate', reason: 'duplicate' };
    const invalid: Decision = { outcome: 'rejected', reason: 'invalid_transition' };
    if (!FOLLOWS[conv.requested].includes(to)) return invalid;
    switch (conv.status) {
      case 'pending': {
        if (to === 'rejected') {
          return {
            outcome: 'rejected',
            reason: 'advertiser_rejected',
            entry: none('rejected', conv.currency),
            next: { ...conv, status: 'rejected', requested: 'rejected' },
          };
        }
        const offer = this.offers.get(offerId);
        return click && offer ? this.approve(p, at, click, offer, conv.firstAt) : invalid;
      }
      case 'approved':
        return {
          outcome: 'accepted',
          reason: null,
          entry: {
            type: 'reversed',
            amountMicros: conv.amount,
            currency: conv.currency,
            payoutMicros: conv.payout ?? 0n,
            reward: conv.reward ?? null,
          },
          next: { ...conv, status: 'reversed', requested: 'reversed', amount: 0n, payout: 0n, reward: null },
        };
      case 'held':
        this.addUsage(offerId, at, -1, -conv.amount);
        return {
          outcome: 'rejected',
          reason: 'advertiser_rejected',
          entry: none('rejected', conv.currency),
          next: { ...conv, status: 'rejected', requested: to, amount: 0n, payout: 0n, reward: null },
        };
      case 'rejected':
      case 'reversed':
        return invalid;
    }
  }

  /** Revenue: the offer's daily caps first, then holds for review, then the approval. */
  private approve(
    p: PostbackLine,
    at: number,
    click: ClickLine,
    offer: OfferLine,
    firstAt: number,
  ): Decision {
    const own = p.params.payout !== undefined ? micros(p.params.payout)! : undefined;
    const currency = offer.currency;
    const refuse = (reason: string): Decision => ({
      outcome: 'rejected',
      reason,
      entry: none('rejected', currency),
      next: { status: 'rejected', requested: 'approved', amount: 0n, currency, firstAt },
    });
    let amount = own ?? micros(offer.payout)!;
    // Its own payout in another currency: converted at the rate of the day it arrived (a
    // reverse pair divides); without one, it waits out its retries and is refused.
    const from = p.params.currency;
    if (own !== undefined && from !== undefined && from !== currency) {
      const day = dayOf(at);
      const direct = this.rates.get(`${day}|${from}|${currency}`);
      const reverse = this.rates.get(`${day}|${currency}|${from}`);
      if (direct !== undefined) amount = halfEven(own * direct, RATE_SCALE);
      else if (reverse !== undefined) amount = halfEven(own * RATE_SCALE, reverse);
      // A pending conversion stays pending (the partner may send it again); a new one is rejected.
      else if (firstAt !== at) return { outcome: 'rejected', reason: 'currency_mismatch' };
      else return refuse('currency_mismatch');
      if (amount > MAX_MICROS) return refuse('payout_above_max');
    }
    if (this.capSays(p, offer, at, amount) === 'exceeded') {
      return {
        outcome: 'rejected',
        reason: 'cap_exceeded',
        entry: none('rejected', currency),
        next: { status: 'rejected', requested: 'approved', amount: 0n, currency, firstAt },
      };
    }
    this.addUsage(offer.id, at, 1, amount);
    const tooFast =
      offer.min_conversion_seconds !== null &&
      firstAt - Date.parse(click.t) < offer.min_conversion_seconds * 1000;
    const status = tooFast ? 'held' : 'approved';
    const payout = this.payoutOf(offer.id, click.publisher_id, at, amount);
    const reward = this.rewardOf(click.publisher_id, at, payout);
    return {
      outcome: tooFast ? 'held' : 'accepted',
      reason: tooFast ? 'fraud_suspected' : null,
      entry: { type: status, amountMicros: amount, currency, payoutMicros: payout, reward },
      next: { status, requested: 'approved', amount, currency, firstAt, payout, reward },
    };
  }

  /**
   * The publisher's payout under the rule in force when the postback arrived: the publisher's
   * own rule over the offer's, the latest start among alike; a share rounds half to even; no
   * rule pays the whole revenue.
   */
  private payoutOf(offerId: string, publisherId: string, at: number, amount: bigint): bigint {
    const rules = this.traffic.payoutRules.filter(
      (r) =>
        r.offer_id === offerId &&
        (r.publisher_id === null || r.publisher_id === publisherId) &&
        Date.parse(r.effective_from) <= at,
    );
    const best = rules.sort(
      (a, b) =>
        Number(a.publisher_id !== null) - Number(b.publisher_id !== null) ||
        Date.parse(a.effective_from) - Date.parse(b.effective_from),
    )[rules.length - 1];
    if (!best) return amount;
    if (best.amount !== undefined) return micros(best.amount)!;
    return halfEven(amount * scaled(best.share_percent!, 2), 10_000n);
  }

  /** The user's reward: units per unit of payout, rounded by the rule, at least its minimum. */
  private rewardOf(publisherId: string, at: number, payout: bigint): ExpectedEntry['reward'] {
    const rule = this.traffic.rewardRules
      .filter((r) => r.publisher_id === publisherId && Date.parse(r.effective_from) <= at)
      .sort((a, b) => Date.parse(a.effective_from) - Date.parse(b.effective_from))
      .at(-1);
    if (!rule) return null;
    if (payout <= 0n) return { units: 0n, currency: rule.currency_name };
    const n = payout * scaled(rule.units_per_unit, 6);
    const d = 10n ** 12n;
    let units = rule.rounding === 'round' ? halfEven(n, d) : n / d;
    if (rule.rounding === 'ceil' && n % d !== 0n) units += 1n;
    if (units < BigInt(rule.minimum)) units = BigInt(rule.minimum);
    return { units, currency: rule.currency_name };
  }

  /**
   * Which approvals of a day fit under a cap depends on the order they are decided in, which
   * the rules leave open. So the system's own choice is taken when it is one of the two
   * possible, and checked afterwards: never above the cap, and never refused while the day
   * ended with room for it.
   */
  private capSays(p: PostbackLine, offer: OfferLine, at: number, amount: bigint): 'fits' | 'exceeded' {
    if (offer.daily_cap === null) return 'fits';
    const key = `${offer.id}|${dayOf(at)}`;
    const seen = this.observed(p.id);
    const u = this.usage.get(key) ?? { count: 0, micros: 0n };
    const over = u.count + 1 > offer.daily_cap;
    if (seen?.reason === 'cap_exceeded') {
      this.capClaims.push({ key, amount, id: p.id });
      return 'exceeded';
    }
    if (seen && seen.outcome !== 'rejected') {
      if (over)
        this.capViolations.push(`${p.id}: approved over the daily cap of ${offer.id} on ${dayOf(at)}`);
      return 'fits';
    }
    return over ? 'exceeded' : 'fits';
  }

  private checkCapClaims(): void {
    for (const c of this.capClaims) {
      const offer = this.offers.get(c.key.split('|')[0]!)!;
      const u = this.usage.get(c.key) ?? { count: 0, micros: 0n };
      if (u.count + 1 <= offer.daily_cap!)
        this.capViolations.push(`${c.id}: refused cap_exceeded while ${c.key} ended the day with room`);
    }
  }

  private addUsage(offerId: string, at: number, count: number, amount: bigint): void {
    const key = `${offerId}|${dayOf(at)}`;
    const u = this.usage.get(key) ?? { count: 0, micros: 0n };
    this.usage.set(key, { count: u.count + count, micros: u.micros + amount });
  }

  private sourceKeys(click: ClickLine, at: number): string[] {
    return [
      `sub1|${click.publisher_id}|${click.sub1}|${dayOf(at)}`,
      `placement|${click.publisher_id}|${click.placement}|${dayOf(at)}`,
    ];
  }

  /** Routing controls: a source with enough decisions and too many hard rejects is blocked. */
  private countSource(click: ClickLine, at: number, d: Decision): void {
    if (this.o.sourceMinDecisions <= 0) return;
    const hardReject =
      d.entry?.type === 'rejected' && d.reason !== 'blocked_source' && d.reason !== 'cap_exceeded';
    for (const k of this.sourceKeys(click, at)) {
      const s = this.sources.get(k) ?? { decided: 0, rejected: 0 };
      s.decided++;
      if (hardReject) s.rejected++;
      this.sources.set(k, s);
      if (s.decided >= this.o.sourceMinDecisions && s.rejected / s.decided >= this.o.sourceBlockRate)
        this.blocked.add(k.split('|').slice(0, 3).join('|'));
    }
  }
}

/** Adds one to a metric of a keyed table (cells, ledger totals). */
export function bump(table: Map<string, Map<string, bigint>>, key: string, metric: string, by = 1n): void {
  const row = table.get(key) ?? new Map<string, bigint>();
  row.set(metric, (row.get(metric) ?? 0n) + by);
  table.set(key, row);
}

/** Per reconciliation cell: postbacks, outcomes, reasons, entries and money per currency. */
export function expectedCells(ref: Reference): Map<string, Map<string, bigint>> {
  const cells = new Map<string, Map<string, bigint>>();
  for (const e of ref.postbacks) {
    if (!e.cell || !e.outcome) continue;
    bump(cells, e.cell, 'postbacks');
    bump(cells, e.cell, `outcome:${e.outcome}`);
    if (e.reason && e.outcome !== 'duplicate')
      bump(cells, e.cell, `reason:${bucketOf(e.reason)}:${e.reason}`);
    if (e.entry && (e.entry.type === 'approved' || e.entry.type === 'reversed')) {
      bump(cells, e.cell, e.entry.type);
      bump(cells, e.cell, `${e.entry.type}_micros:${e.entry.currency}`, e.entry.amountMicros);
    }
  }
  return cells;
}

/** Ledger totals: entries per type, money per type and currency. */
export function expectedLedger(ref: Reference): Map<string, bigint> {
  const t = new Map<string, Map<string, bigint>>();
  for (const e of ref.postbacks) {
    if (!e.entry) continue;
    bump(t, 'ledger', `entries:${e.entry.type}`);
    if (e.entry.amountMicros !== 0n)
      bump(t, 'ledger', `micros:${e.entry.type}:${e.entry.currency}`, e.entry.amountMicros);
    for (const [metric, v] of moneyMetrics(e.entry)) bump(t, 'ledger', metric, v);
  }
  return t.get('ledger') ?? new Map<string, bigint>();
}

/**
 * An entry's payout, margin and reward as ledger totals (zero ones left out, like the revenue):
 * the same keys for the reference and for the rows the system wrote.
 */
export function moneyMetrics(e: {
  type: string;
  amountMicros: bigint;
  currency: string;
  payoutMicros: bigint;
  reward: { units: bigint; currency: string } | null;
}): [string, bigint][] {
  const out: [string, bigint][] = [];
  if (e.payoutMicros !== 0n) out.push([`payout:${e.type}:${e.currency}`, e.payoutMicros]);
  if (e.amountMicros - e.payoutMicros !== 0n)
    out.push([`margin:${e.type}:${e.currency}`, e.amountMicros - e.payoutMicros]);
  if (e.reward && e.reward.units !== 0n) out.push([`reward:${e.type}:${e.reward.currency}`, e.reward.units]);
  return out;
}

/** An entry that moves no money. */
function none(type: EntryType, currency: string): ExpectedEntry {
  return { type, amountMicros: 0n, currency, payoutMicros: 0n, reward: null };
}
