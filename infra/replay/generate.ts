import { Prng } from './prng';
import { randomChars, secretChars, ulidAt } from './ulid-time';
import type {
  PayoutRuleLine,
  RateLine,
  RewardRuleLine,
  ClickLine,
  EventLine,
  MetaLine,
  OfferLine,
  PartnerLine,
  PostbackLine,
  PostbackTag,
  PublisherLine,
  TrafficLine,
} from './traffic-file';

/** What to generate. Rates are per conversion (or per postback for duplicates and bad signatures). */
export interface GenerateOptions {
  seed: number;
  /** ISO 8601 UTC: the virtual time of the first click window. */
  start: string;
  spanHours: number;
  clicks: number;
  conversionRate: number;
  duplicateRate: number;
  /** Of the duplicated postbacks, the share whose repeats are sent at the same moment. */
  concurrentShare: number;
  delayedRate: number;
  maxDelayHours: number;
  statusUpdateRate: number;
  outOfOrderRate: number;
  reversalRate: number;
  advertiserRejectRate: number;
  unknownClickRate: number;
  malformedClickRate: number;
  offerMismatchRate: number;
  badSignatureRate: number;
  malformedRequestRate: number;
  explicitPayoutRate: number;
  postRate: number;
  fraudBursts: number;
  capBursts: number;
}

export const DEFAULT_OPTIONS: GenerateOptions = {
  seed: 1,
  start: '2026-01-05T00:00:00.000Z',
  spanHours: 48,
  clicks: 20_000,
  conversionRate: 0.3,
  duplicateRate: 0.08,
  concurrentShare: 0.3,
  delayedRate: 0.05,
  maxDelayHours: 30,
  statusUpdateRate: 0.15,
  outOfOrderRate: 0.02,
  reversalRate: 0.04,
  advertiserRejectRate: 0.03,
  unknownClickRate: 0.01,
  malformedClickRate: 0.005,
  offerMismatchRate: 0.01,
  badSignatureRate: 0.005,
  malformedRequestRate: 0.005,
  explicitPayoutRate: 0.2,
  postRate: 0.2,
  fraudBursts: 2,
  capBursts: 2,
};

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// The catalog is fixed; only secrets come from the seed. o-cap gets burst traffic only, so
// which approvals of a burst fit under its cap is the one order-dependent choice (docs/replay.md).
const OFFERS: Omit<OfferLine, 'kind'>[] = [
  offer('o-cpi-us', '1.50', 'USD', null, 100_000, 168, null),
  offer('o-cpa-eu', '0.80', 'EUR', ['DE', 'FR', 'GB', 'ES', 'IT'], 100_000, 168, null),
  offer('o-short', '2.00', 'USD', null, null, 2, null),
  offer('o-fraud', '1.20', 'USD', null, null, 168, 60),
  offer('o-cap', '3.00', 'USD', null, 5, 168, null),
];
const NORMAL_OFFERS = ['o-cpi-us', 'o-cpa-eu', 'o-short', 'o-fraud'] as const;
const PARTNER_OF: Record<string, string> = {
  'o-cpi-us': 'net-a',
  'o-short': 'net-a',
  'o-cap': 'net-a',
  'o-cpa-eu': 'net-b',
  'o-fraud': 'net-b',
};
const PUBLISHERS = ['pub-1', 'pub-2', 'pub-3', 'pub-4'];
const SUB1 = ['s1', 's2', 's3', 's4', 's5', 's6'];
const PLACEMENTS = ['wall', 'banner', 'video'];
const GEOS: [string, number][] = [
  ['US', 30],
  ['DE', 15],
  ['GB', 10],
  ['FR', 10],
  ['BR', 10],
  ['IN', 10],
  ['CA', 10],
  ['ES', 5],
];
const DEVICES = ['mobile', 'desktop', 'tablet'];
/** Requests the gateway must refuse with 400 (and that must change nothing). */
const MALFORMED_PARAMS: ((tx: string) => Record<string, string>)[] = [
  () => ({ status: 'approved' }),
  (tx) => ({ transaction_id: tx, status: 'approved', payout: '1e3' }),
  (tx) => ({ transaction_id: tx, status: 'maybe' }),
  (tx) => ({ transaction_id: tx, status: 'approved', currency: 'DOLLARS' }),
];

function offer(
  id: string,
  payout: string,
  currency: string,
  allowed_geos: string[] | null,
  daily_cap: number | null,
  attribution_window_hours: number,
  min_conversion_seconds: number | null,
): Omit<OfferLine, 'kind'> {
  return {
    id,
    payout,
    currency,
    allowed_geos,
    daily_cap,
    attribution_window_hours,
    min_conversion_seconds,
    goals: ['default'],
  };
}

/** Builds the whole file in memory, deterministically from the options. */
export function generateTraffic(o: GenerateOptions): TrafficLine[] {
  const g = new Generator(o);
  return g.build();
}

class Generator {
  private readonly rng: Prng;
  private readonly start: number;
  private readonly events: { at: number; order: number; line: EventLine }[] = [];
  private clicks = 0;
  private postbacks = 0;
  private transactions = 0;
  private groups = 0;

  constructor(private readonly o: GenerateOptions) {
    this.rng = new Prng(o.seed);
    this.start = Date.parse(o.start);
  }

  build(): TrafficLine[] {
    const catalog = this.catalog();
    const span = this.o.spanHours * HOUR;
    for (let i = 0; i < this.o.clicks; i++) {
      const c = this.click(this.start + Math.floor(this.rng.next() * span), this.rng.pick(NORMAL_OFFERS));
      if (this.rng.chance(this.o.conversionRate)) this.conversion(c);
      if (this.rng.chance(this.o.conversionRate * this.o.unknownClickRate)) this.unknownClick(c, false);
      if (this.rng.chance(this.o.conversionRate * this.o.malformedClickRate)) this.unknownClick(c, true);
    }
    for (let b = 0; b < this.o.fraudBursts; b++) this.fraudBurst();
    for (let b = 0; b < this.o.capBursts; b++) this.capBurst();
    this.events.sort((a, b) => a.at - b.at || a.order - b.order);
    return [...catalog, ...this.events.map((e) => e.line)];
  }

  private catalog(): TrafficLine[] {
    const meta: MetaLine = {
      kind: 'meta',
      version: 1,
      seed: this.o.seed,
      start: new Date(this.start).toISOString(),
      span_hours: this.o.spanHours,
      // In a fixed key order: the bytes never depend on the order flags were given in.
      options: Object.fromEntries(
        (Object.keys(DEFAULT_OPTIONS) as (keyof GenerateOptions)[]).map((k) => [k, this.o[k]]),
      ),
    };
    const partners: PartnerLine[] = ['net-a', 'net-b'].map((id) => ({
      kind: 'partner',
      id,
      secret: `whsec_${secretChars(this.rng, 32)}`,
    }));
    const publishers: PublisherLine[] = PUBLISHERS.map((id) => ({ kind: 'publisher', id }));
    return [
      meta,
      ...OFFERS.map((x): OfferLine => ({ kind: 'offer', ...x })),
      ...publishers,
      ...partners,
      ...this.money(),
    ];
  }

  /**
   * Exchange rates for every day of the span (EUR/USD one day, USD/EUR the next, so both a direct
   * and a reverse pair convert), and payout and reward rules, one of each starting mid-span.
   */
  private money(): (RateLine | PayoutRuleLine | RewardRuleLine)[] {
    const from = new Date(this.start).toISOString();
    const mid = new Date(this.start + (this.o.spanHours * HOUR) / 2).toISOString();
    const rates: RateLine[] = [];
    // A week past the span: delayed postbacks arrive after it.
    const lastDay = Math.floor((this.start + this.o.spanHours * HOUR) / DAY) + 7;
    for (let d = Math.floor(this.start / DAY), i = 0; d <= lastDay; d++, i++) {
      const day = new Date(d * DAY).toISOString().slice(0, 10);
      rates.push(
        i % 2 === 0
          ? { kind: 'rate', day, base: 'EUR', quote: 'USD', rate: (1.08 + i * 0.0013).toFixed(4) }
          : { kind: 'rate', day, base: 'USD', quote: 'EUR', rate: (0.9259 - i * 0.0011).toFixed(4) },
      );
    }
    const rule = (
      offer_id: string,
      publisher_id: string | null,
      pay: { share_percent: string } | { amount: string },
      at = from,
    ): PayoutRuleLine => ({
      kind: 'payout_rule',
      offer_id,
      publisher_id,
      ...pay,
      effective_from: at,
    });
    return [
      ...rates,
      rule('o-cpi-us', null, { share_percent: '70' }),
      rule('o-cpi-us', 'pub-2', { amount: '1.00' }),
      rule('o-cpa-eu', null, { share_percent: '65' }),
      rule('o-cpa-eu', null, { share_percent: '60' }, mid),
      rule('o-fraud', null, { share_percent: '50.5' }),
      rule('o-cap', null, { share_percent: '80' }),
      {
        kind: 'reward_rule',
        publisher_id: 'pub-1',
        currency_name: 'coins',
        units_per_unit: '100',
        rounding: 'floor',
        minimum: 1,
        effective_from: from,
      },
      {
        kind: 'reward_rule',
        publisher_id: 'pub-3',
        currency_name: 'gems',
        units_per_unit: '7.5',
        rounding: 'round',
        minimum: 0,
        effective_from: mid,
      },
    ];
  }

  private push(at: number, line: EventLine): void {
    this.events.push({ at, order: this.events.length, line });
  }

  private click(at: number, offerId: string, pub?: string, sub1?: string): ClickLine {
    const line: ClickLine = {
      kind: 'click',
      id: `c${++this.clicks}`,
      t: new Date(at).toISOString(),
      offer_id: offerId,
      publisher_id: pub ?? this.rng.pick(PUBLISHERS),
      sub1: sub1 ?? this.rng.pick(SUB1),
      placement: this.rng.pick(PLACEMENTS),
      geo: this.rng.weighted(GEOS),
      device: this.rng.pick(DEVICES),
    };
    this.push(at, line);
    return line;
  }

  /** One partner transaction for a click: its statuses over time, with the mix's variations. */
  private conversion(c: ClickLine): void {
    const delayed = this.rng.chance(this.o.delayedRate);
    let at =
      Date.parse(c.t) +
      (delayed
        ? this.rng.int(HOUR + MINUTE, this.o.maxDelayHours * HOUR)
        : this.rng.int(2 * MINUTE, 45 * MINUTE));
    const tx = this.newTx(c.offer_id);
    const base: Record<string, string> = { transaction_id: tx };
    if (this.rng.chance(this.o.offerMismatchRate)) {
      base.offer_id = this.rng.pick(NORMAL_OFFERS.filter((x) => x !== c.offer_id));
    } else if (this.rng.chance(0.3)) base.offer_id = c.offer_id;
    const mismatch = base.offer_id !== undefined && base.offer_id !== c.offer_id;
    if (this.rng.chance(this.o.explicitPayoutRate)) {
      base.payout = `${this.rng.int(1, 9)}.${String(this.rng.int(0, 99)).padStart(2, '0')}`;
      base.currency = this.rng.pick(['USD', 'EUR']);
    }
    const tags: PostbackTag[] = ['conversion', ...(delayed ? (['delayed'] as const) : [])];
    if (mismatch) tags.push('offer_mismatch');
    const statuses = this.statusFlow();
    for (const [i, status] of statuses.entries()) {
      const extra: PostbackTag[] = i > 0 ? [this.flowTag(statuses, status)] : [];
      this.postback(at, c.offer_id, { ref: c.id }, { ...base, status }, [...tags, ...extra]);
      at +=
        status === 'approved' && statuses[i + 1] === 'reversed'
          ? this.rng.int(HOUR, 20 * HOUR)
          : this.rng.int(10 * MINUTE, 6 * HOUR);
    }
    if (this.rng.chance(this.o.malformedRequestRate)) {
      this.send(at, c.offer_id, { ref: c.id }, this.rng.pick(MALFORMED_PARAMS)(tx), ['malformed_request']);
    }
  }

  private statusFlow(): string[] {
    const r = this.rng;
    if (r.chance(this.o.advertiserRejectRate)) return r.chance(0.5) ? ['pending', 'rejected'] : ['rejected'];
    const flow = r.chance(this.o.statusUpdateRate)
      ? r.chance(this.o.outOfOrderRate / Math.max(this.o.statusUpdateRate, 1e-9))
        ? ['approved', 'pending']
        : ['pending', 'approved']
      : ['approved'];
    if (flow[flow.length - 1] === 'approved' && r.chance(this.o.reversalRate)) flow.push('reversed');
    return flow;
  }

  private flowTag(flow: string[], status: string): PostbackTag {
    if (status === 'reversed') return 'reversal';
    if (status === 'rejected') return 'advertiser_reject';
    return flow[0] === 'approved' ? 'out_of_order' : 'status_update';
  }

  /** A postback plus, per the mix, its duplicates and a badly signed copy. */
  private postback(
    at: number,
    offerId: string,
    click: PostbackLine['click'],
    params: Record<string, string>,
    tags: PostbackTag[],
  ): void {
    if (!this.rng.chance(this.o.duplicateRate)) {
      this.send(at, offerId, click, params, tags);
    } else if (this.rng.chance(this.o.concurrentShare)) {
      const group = `g${++this.groups}`;
      const repeats = this.rng.int(1, 5);
      this.send(at, offerId, click, params, tags, 'valid', group);
      for (let i = 0; i < repeats; i++)
        this.send(at, offerId, click, params, [...tags, 'concurrent_duplicate'], 'valid', group);
    } else {
      this.send(at, offerId, click, params, tags);
      let later = at;
      for (let i = this.rng.int(1, 5); i > 0; i--) {
        later += this.rng.int(1000, 2 * HOUR);
        this.send(later, offerId, click, params, [...tags, 'duplicate']);
      }
    }
    if (this.rng.chance(this.o.badSignatureRate))
      this.send(at + 1000, offerId, click, params, [...tags, 'bad_signature'], 'bad');
  }

  private send(
    at: number,
    offerId: string,
    click: PostbackLine['click'],
    params: Record<string, string>,
    tags: PostbackTag[],
    signing: PostbackLine['signing'] = 'valid',
    group?: string,
  ): void {
    this.push(at, {
      kind: 'postback',
      id: `p${++this.postbacks}`,
      t: new Date(at).toISOString(),
      partner_id: PARTNER_OF[offerId]!,
      click,
      params,
      method: this.rng.chance(this.o.postRate) ? 'POST' : 'GET',
      signing,
      ...(group ? { group } : {}),
      tags,
    });
  }

  /** A postback naming a click the system never minted: a well-formed ULID, or garbage. */
  private unknownClick(c: ClickLine, malformed: boolean): void {
    const at = Date.parse(c.t) + this.rng.int(2 * MINUTE, HOUR);
    const raw = malformed
      ? `clk_${randomChars(this.rng, 12)}`
      : ulidAt(at - this.rng.int(MINUTE, 30 * MINUTE), this.rng);
    const tag: PostbackTag = malformed ? 'malformed_click' : 'unknown_click';
    this.postback(
      at,
      c.offer_id,
      { raw },
      { transaction_id: this.newTx(c.offer_id), status: 'approved', offer_id: c.offer_id },
      [tag],
    );
  }

  /** Clicks converting faster than o-fraud's min_conversion_seconds: held for review. */
  private fraudBurst(): void {
    const t0 = this.start + Math.floor(this.rng.next() * Math.max(this.o.spanHours * HOUR - HOUR, MINUTE));
    const pub = this.rng.pick(PUBLISHERS);
    for (let i = this.rng.int(6, 10); i > 0; i--) {
      const c = this.click(t0 + this.rng.int(0, MINUTE), 'o-fraud', pub, 'burst');
      const at = Date.parse(c.t) + this.rng.int(5_000, 40_000);
      this.postback(
        at,
        'o-fraud',
        { ref: c.id },
        { transaction_id: this.newTx('o-fraud'), status: 'approved' },
        ['fraud_burst'],
      );
    }
  }

  /** More approvals for o-cap in one UTC day than its daily cap allows. */
  private capBurst(): void {
    const day = 86_400_000;
    let t0 = this.start + Math.floor(this.rng.next() * this.o.spanHours * HOUR);
    if ((t0 % day) + HOUR > day) t0 -= HOUR; // the whole burst stays in one UTC day
    const cap = OFFERS.find((x) => x.id === 'o-cap')!.daily_cap!;
    for (let i = cap + this.rng.int(2, 5); i > 0; i--) {
      const c = this.click(t0 + this.rng.int(0, 10 * MINUTE), 'o-cap');
      const at = Date.parse(c.t) + this.rng.int(2 * MINUTE, 10 * MINUTE);
      this.postback(at, 'o-cap', { ref: c.id }, { transaction_id: this.newTx('o-cap'), status: 'approved' }, [
        'cap_burst',
      ]);
    }
  }

  private newTx(offerId: string): string {
    return `${PARTNER_OF[offerId]}-tx-${++this.transactions}`;
  }
}

export function serialize(lines: TrafficLine[]): string {
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}
