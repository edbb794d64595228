import fc from 'fast-check';
import type { PostbackStatus } from '../key-dictionary';
import type {
  CapUsage,
  ClickFacts,
  ConversionState,
  EntryType,
  OfferFacts,
  PostbackFacts,
} from './conversion.types';
import { decide, type Decision } from './decide';

// Model-based test: decide() folded over a stream of postbacks must agree, step by step, with a
// small reference model written from the rules alone (PRODUCT.md + the partner state machine).

const SEED = 20240501;
const NUM_RUNS = 500;
const HOUR_MS = 3_600_000;
const CLICKED_AT = new Date('2024-05-01T08:00:00.000Z');
const OFFER_ID = 'off_model';
const OFFER_PAYOUT = 2_000_000n;

const CLICK: ClickFacts = {
  clickId: '01HXMODE100000000000000000',
  offerId: OFFER_ID,
  publisherId: 'pub_1',
  sub1: null,
  sub2: null,
  sub3: null,
  sub4: null,
  sub5: null,
  placement: null,
  geo: 'US',
  device: null,
  clickedAt: CLICKED_AT,
};

/** One valid offer without caps or holds. */
const OFFER: OfferFacts = {
  id: OFFER_ID,
  status: 'active',
  payoutMicros: OFFER_PAYOUT,
  currency: 'USD',
  allowedGeos: ['US', 'CA'],
  dailyCap: null,
  payoutCapMicros: null,
  attributionWindowHours: 72,
  goals: ['install', 'purchase'],
  minConversionSeconds: null,
  holdPayoutAboveMicros: null,
  reviewGeos: null,
  burst: null,
};

const ZERO: CapUsage = { conversions: 0, payoutMicros: 0n };
const addUsage = (u: CapUsage, d: CapUsage | null): CapUsage =>
  d ? { conversions: u.conversions + d.conversions, payoutMicros: u.payoutMicros + d.payoutMicros } : u;

// ---------------------------------------------------------------------------------------------
// Reference model (independent of decide.ts)
// ---------------------------------------------------------------------------------------------

type Outcome =
  'accepted' | 'rejected:advertiser_rejected' | 'rejected:cap_exceeded' | 'duplicate' | 'invalid';
interface LedgerLine {
  type: EntryType;
  amount: bigint;
}
interface ModelState {
  /** The last status the partner sent that changed something. */
  last: PostbackStatus;
  /** Revenue currently standing (approved and not reversed). */
  paid: bigint;
}
interface ModelStep {
  outcome: Outcome;
  line: LedgerLine | null;
  state: ModelState | null;
}

/** The partner's state machine, spelled as the allowed edges. */
const EDGES = new Set(['pending->approved', 'pending->rejected', 'approved->reversed']);

function modelStep(s: ModelState | null, status: PostbackStatus, payout: bigint | null): ModelStep {
  const amount = payout ?? OFFER_PAYOUT;
  if (s === null) {
    // First time: a reversal of something never approved is invalid; anything else starts the conversion.
    if (status === 'reversed') return { outcome: 'invalid', line: null, state: null };
    if (status === 'pending')
      return {
        outcome: 'accepted',
        line: { type: 'pending', amount: 0n },
        state: { last: status, paid: 0n },
      };
    if (status === 'rejected')
      return {
        outcome: 'rejected:advertiser_rejected',
        line: { type: 'rejected', amount: 0n },
        state: { last: status, paid: 0n },
      };
    return { outcome: 'accepted', line: { type: 'approved', amount }, state: { last: status, paid: amount } };
  }
  if (status === s.last) return { outcome: 'duplicate', line: null, state: s };
  if (!EDGES.has(`${s.last}->${status}`)) return { outcome: 'invalid', line: null, state: s };
  if (status === 'approved')
    return { outcome: 'accepted', line: { type: 'approved', amount }, state: { last: status, paid: amount } };
  if (status === 'rejected')
    return {
      outcome: 'rejected:advertiser_rejected',
      line: { type: 'rejected', amount: 0n },
      state: { last: status, paid: 0n },
    };
  // approved -> reversed: take back exactly what was paid.
  return {
    outcome: 'accepted',
    line: { type: 'reversed', amount: s.paid },
    state: { last: status, paid: 0n },
  };
}

// ---------------------------------------------------------------------------------------------
// decide() folded over a stream
// ---------------------------------------------------------------------------------------------

function outcomeOf(d: Decision): Outcome | 'retry' | `held:${string}` {
  switch (d.kind) {
    case 'retry':
      return 'retry';
    case 'suppressed':
      return d.reason === 'duplicate' ? 'duplicate' : 'invalid';
    case 'entry':
      if (d.outcome === 'accepted') return 'accepted';
      if (d.outcome === 'held') return `held:${d.reason}`;
      return d.reason === 'cap_exceeded' ? 'rejected:cap_exceeded' : 'rejected:advertiser_rejected';
  }
}

interface Delivery {
  status: PostbackStatus;
  payout: bigint | null;
  currency: 'USD' | null;
  /** null or the offer's first goal: both name the same conversion. */
  event: 'install' | null;
  offerId: string | null;
  delayMs: number;
}

const toPostback = (d: Delivery, i: number, tx: string): PostbackFacts => ({
  eventId: `evt-${tx}-${i}`,
  partnerId: 'partner_1',
  clickId: CLICK.clickId,
  transactionId: tx,
  status: d.status,
  offerId: d.offerId,
  payoutMicros: d.payout,
  currency: d.currency,
  event: d.event,
  receivedAt: new Date(CLICKED_AT.getTime() + d.delayMs),
});

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const statusArb = fc.constantFrom<PostbackStatus>('pending', 'approved', 'rejected', 'reversed');

/** Lifecycles a partner may legitimately send, before repeats and reordering. */
const LIFECYCLES: readonly (readonly PostbackStatus[])[] = [
  ['pending'],
  ['approved'],
  ['rejected'],
  ['pending', 'approved'],
  ['pending', 'rejected'],
  ['approved', 'reversed'],
  ['pending', 'approved', 'reversed'],
];

const repeated = (path: readonly PostbackStatus[]): fc.Arbitrary<PostbackStatus[]> =>
  fc
    .array(fc.integer({ min: 1, max: 4 }), { minLength: path.length, maxLength: path.length })
    .map((counts) => path.flatMap((s, i) => Array<PostbackStatus>(counts[i] ?? 1).fill(s)).slice(0, 12));

const maybeShuffled = (seq: PostbackStatus[]): fc.Arbitrary<PostbackStatus[]> =>
  fc.oneof(fc.constant(seq), fc.shuffledSubarray(seq, { minLength: seq.length, maxLength: seq.length }));

const statusesArb: fc.Arbitrary<PostbackStatus[]> = fc.oneof(
  // anything at all, duplicates included
  fc.array(statusArb, { minLength: 1, maxLength: 12 }),
  // a real lifecycle with retries inserted, optionally delivered out of order
  fc
    .constantFrom(...LIFECYCLES)
    .chain(repeated)
    .chain(maybeShuffled),
);

const deliveryDetailsArb = fc.record({
  payout: fc.option(fc.constantFrom(500_000n, 2_000_000n, 3_250_000n), { nil: null }),
  currency: fc.constantFrom<'USD' | null>('USD', null),
  event: fc.constantFrom<'install' | null>('install', null),
  offerId: fc.constantFrom<string | null>(OFFER_ID, null),
  // anywhere inside the attribution window, both ends included
  delayMs: fc.oneof(
    fc.integer({ min: 0, max: OFFER.attributionWindowHours * HOUR_MS }),
    fc.constant(OFFER.attributionWindowHours * HOUR_MS),
  ),
});

const deliveriesArb: fc.Arbitrary<Delivery[]> = statusesArb.chain((statuses) =>
  fc
    .array(deliveryDetailsArb, { minLength: statuses.length, maxLength: statuses.length })
    .map((details) => details.map((d, i) => ({ ...d, status: statuses[i] ?? 'pending' }))),
);

// ---------------------------------------------------------------------------------------------

describe('decide() against a reference model: one conversion', () => {
  it('agrees with the model on every outcome and on the ledger, and never double-pays', () => {
    fc.assert(
      fc.property(deliveriesArb, (deliveries) => {
        let conversion: ConversionState | undefined;
        let usage = ZERO;
        let model: ModelState | null = null;
        const actualOutcomes: string[] = [];
        const modelOutcomes: string[] = [];
        const actualLedger: LedgerLine[] = [];
        const modelLedger: LedgerLine[] = [];
        const conversionIds = new Set<string>();

        deliveries.forEach((delivery, i) => {
          const d = decide({
            postback: toPostback(delivery, i, 'tx-model'),
            click: { kind: 'found', click: CLICK },
            offer: OFFER,
            conversion,
            usage,
            attempt: 0,
            maxAttempts: 3,
          });
          actualOutcomes.push(outcomeOf(d));
          if (d.kind === 'entry') {
            actualLedger.push({ type: d.entryType, amount: d.amountMicros });
            conversion = d.next;
            conversionIds.add(d.next.conversionId);
            usage = addUsage(usage, d.capDelta);
          }

          const m = modelStep(model, delivery.status, delivery.payout);
          modelOutcomes.push(m.outcome);
          if (m.line) modelLedger.push(m.line);
          model = m.state;

          // The stored state tracks the model's: same status, same revenue standing.
          expect(conversion?.status).toBe(model?.last);
          expect(conversion?.amountMicros).toBe(model?.paid);
        });

        expect(actualOutcomes).toEqual(modelOutcomes);
        expect(actualLedger).toEqual(modelLedger);
        expect(conversionIds.size).toBeLessThanOrEqual(1);

        // No duplicate revenue, whatever the order and the repeats.
        const approvals = actualLedger.filter((l) => l.type === 'approved');
        expect(approvals.length).toBeLessThanOrEqual(1);
        const sum = (type: EntryType): bigint =>
          actualLedger.filter((l) => l.type === type).reduce((acc, l) => acc + l.amount, 0n);
        const net = sum('approved') - sum('reversed');
        const payouts = deliveries
          .filter((d) => d.status === 'approved')
          .map((d) => d.payout ?? OFFER_PAYOUT);
        expect(net === 0n || payouts.includes(net)).toBe(true);
        expect(net === 0n || net === approvals[0]?.amount).toBe(true);

        // Never a reversal without an earlier approval.
        const firstReversal = actualLedger.findIndex((l) => l.type === 'reversed');
        const firstApproval = actualLedger.findIndex((l) => l.type === 'approved');
        if (firstReversal >= 0) expect(firstApproval).toBeGreaterThanOrEqual(0);
        if (firstReversal >= 0) expect(firstApproval).toBeLessThan(firstReversal);

        // No cap on this offer: the usage fed forward is exactly the revenue approved.
        expect(usage).toEqual({ conversions: approvals.length, payoutMicros: sum('approved') });
      }),
      { numRuns: NUM_RUNS, seed: SEED },
    );
  });
});

describe('decide() against a reference model: caps across transactions', () => {
  interface Tx {
    pending: boolean;
    approvedCopies: number;
  }
  interface Arrival {
    tx: string;
    status: 'pending' | 'approved';
  }

  const capScenario = fc
    .integer({ min: 1, max: 5 })
    .chain((cap) =>
      fc.record({
        cap: fc.constant(cap),
        txs: fc.array(fc.record({ pending: fc.boolean(), approvedCopies: fc.integer({ min: 1, max: 2 }) }), {
          minLength: cap + 1,
          maxLength: cap + 6,
        }),
      }),
    )
    .chain(({ cap, txs }) => {
      const arrivals = txs.flatMap((t: Tx, i): Arrival[] => [
        ...(t.pending ? [{ tx: `tx-${i}`, status: 'pending' as const }] : []),
        ...Array.from({ length: t.approvedCopies }, () => ({ tx: `tx-${i}`, status: 'approved' as const })),
      ]);
      return fc.record({
        cap: fc.constant(cap),
        count: fc.constant(txs.length),
        arrivals: fc.shuffledSubarray(arrivals, { minLength: arrivals.length, maxLength: arrivals.length }),
      });
    });

  it('with a daily cap N and M > N transactions approved in any order, accepts exactly N', () => {
    fc.assert(
      fc.property(capScenario, ({ cap, count, arrivals }) => {
        const capped: OfferFacts = { ...OFFER, dailyCap: cap };
        const states = new Map<string, ConversionState>();
        let usage = ZERO;
        const accepted: string[] = [];
        const capRejected: string[] = [];
        const firstApprovalOrder: string[] = [];

        arrivals.forEach((a, i) => {
          if (a.status === 'approved' && !firstApprovalOrder.includes(a.tx)) firstApprovalOrder.push(a.tx);
          const d = decide({
            postback: toPostback(
              {
                status: a.status,
                payout: null,
                currency: null,
                event: null,
                offerId: null,
                delayMs: HOUR_MS,
              },
              i,
              a.tx,
            ),
            click: { kind: 'found', click: CLICK },
            offer: capped,
            conversion: states.get(a.tx),
            usage,
            attempt: 0,
            maxAttempts: 3,
          });
          if (d.kind !== 'entry') return;
          states.set(a.tx, d.next);
          usage = addUsage(usage, d.capDelta);
          if (d.entryType === 'approved') accepted.push(a.tx);
          if (d.reason === 'cap_exceeded') capRejected.push(a.tx);
        });

        // Exactly the first N transactions to ask for approval get it; the rest are over cap.
        expect(accepted).toEqual(firstApprovalOrder.slice(0, cap));
        expect(capRejected).toEqual(firstApprovalOrder.slice(cap));
        expect(accepted.length).toBe(cap);
        expect(capRejected.length).toBe(count - cap);
        expect(usage).toEqual({ conversions: cap, payoutMicros: BigInt(cap) * OFFER_PAYOUT });
      }),
      { numRuns: NUM_RUNS, seed: SEED },
    );
  });

  it('with a payout cap, admits greedily in arrival order and never goes over it', () => {
    const scenario = fc.record({
      // multiples of 0.5 so that landing exactly on the cap is common
      capMicros: fc.integer({ min: 0, max: 30 }).map((n) => BigInt(n) * 500_000n),
      payouts: fc.array(fc.constantFrom(1_000_000n, 2_500_000n, 4_000_000n, 5_000_000n), {
        minLength: 1,
        maxLength: 10,
      }),
    });
    fc.assert(
      fc.property(scenario, ({ capMicros, payouts }) => {
        const capped: OfferFacts = { ...OFFER, payoutCapMicros: capMicros };
        let usage = ZERO;
        let modelUsed = 0n;
        payouts.forEach((payout, i) => {
          const d = decide({
            postback: toPostback(
              { status: 'approved', payout, currency: null, event: null, offerId: null, delayMs: HOUR_MS },
              i,
              `tx-${i}`,
            ),
            click: { kind: 'found', click: CLICK },
            offer: capped,
            conversion: undefined,
            usage,
            attempt: 0,
            maxAttempts: 3,
          });
          usage = addUsage(usage, d.kind === 'entry' ? d.capDelta : null);
          const fits = modelUsed + payout <= capMicros;
          if (fits) modelUsed += payout;
          expect(outcomeOf(d)).toBe(fits ? 'accepted' : 'rejected:cap_exceeded');
        });
        expect(usage.payoutMicros).toBe(modelUsed);
        expect(usage.payoutMicros <= capMicros).toBe(true);
      }),
      { numRuns: NUM_RUNS, seed: SEED },
    );
  });
});
