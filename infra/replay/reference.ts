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
  entry?: { type: EntryType; amountMicros: bigint; currency: string };
  /** Reconciliation cell: day x offer x publisher x sub1 x placement x geo. */
  cell?: string;
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
const SOFT = new Set(['click_not_found_yet', 'retry_exhausted', 'dependency_unavailable', 'timeout']);

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

  constructor(
    private readonly traffic: Traffic,
    private readonly o: ReferenceOptions,
    private readonly observed: ObservedOutcome,
  ) {
    this.offers = new Map(traffic.offers.map((x) => [x.id, x]));
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
      entry: { type: 'rejected', amountMicros: 0n, currency: cur },
      next: { status: 'rejected', requested: status, amount: 0n, currency: cur, firstAt: at },
    });
    if (status === 'reversed') return { outcome: 'rejected', reason: 'invalid_transition' };
    if (!click) return reject('unknown_click');
    if (p.params.offer_id !== undefined && p.params.offer_id !== click.offer_id)
      return reject('offer_mismatch');
    if (!offer) return reject('unknown_offer');
    // One currency per conversion, the offer's: another is refused until exchange rates exist.
    if (p.params.currency !== undefined && p.params.currency !== offer.currency)
      return reject('currency_mismatch');
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
          entry: { type: 'pending', amountMicros: 0n, currency },
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
    // A later status in another currency than the conversion's changes nothing.
    if (p.params.currency !== undefined && p.params.currency !== conv.currency)
      return { outcome: 'rejected', reason: 'currency_mismatch' };
    if (to === conv.requested) return { outcome: 'duplicate', reason: 'duplicate' };
    const invalid: Decision = { outcome: 'rejected', reason: 'invalid_transition' };
    if (!FOLLOWS[conv.requested].includes(to)) return invalid;
    switch (conv.status) {
      case 'pending': {
        if (to === 'rejected') {
          return {
            outcome: 'rejected',
            reason: 'advertiser_rejected',
            entry: { type: 'rejected', amountMicros: 0n, currency: conv.currency },
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
          entry: { type: 'reversed', amountMicros: conv.amount, currency: conv.currency },
          next: { ...conv, status: 'reversed', requested: 'reversed', amount: 0n },
        };
      case 'held':
        this.addUsage(offerId, at, -1, -conv.amount);
        return {
          outcome: 'rejected',
          reason: 'advertiser_rejected',
          entry: { type: 'rejected', amountMicros: 0n, currency: conv.currency },
          next: { ...conv, status: 'rejected', requested: to, amount: 0n },
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
    const amount = own ?? micros(offer.payout)!;
    const currency = offer.currency;
    if (this.capSays(p, offer, at, amount) === 'exceeded') {
      return {
        outcome: 'rejected',
        reason: 'cap_exceeded',
        entry: { type: 'rejected', amountMicros: 0n, currency },
        next: { status: 'rejected', requested: 'approved', amount: 0n, currency, firstAt },
      };
    }
    this.addUsage(offer.id, at, 1, amount);
    const tooFast =
      offer.min_conversion_seconds !== null &&
      firstAt - Date.parse(click.t) < offer.min_conversion_seconds * 1000;
    const status = tooFast ? 'held' : 'approved';
    return {
      outcome: tooFast ? 'held' : 'accepted',
      reason: tooFast ? 'fraud_suspected' : null,
      entry: { type: status, amountMicros: amount, currency },
      next: { status, requested: 'approved', amount, currency, firstAt },
    };
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
  }
  return t.get('ledger') ?? new Map<string, bigint>();
}
