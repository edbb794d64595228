import fc from 'fast-check';
import type { PostbackStatus } from '../key-dictionary';
import type {
  CapUsage,
  ClickFacts,
  ConversionState,
  OfferFacts,
  PostbackFacts,
  ReasonCode,
} from './conversion.types';
import { conversionKey, decide, type ClickLookup, type Decision, type DecideInput } from './decide';
import { conversionIdOf, entryIdOf } from './ids';

// ---------------------------------------------------------------------------------------------
// Builders: one valid click on one active offer; every test states only what differs.
// ---------------------------------------------------------------------------------------------

const HOUR_MS = 3_600_000;
const CLICKED_AT = new Date('2024-05-01T10:00:00.000Z');
const after = (ms: number): Date => new Date(CLICKED_AT.getTime() + ms);

const OFFER_ID = 'off_1';
const TX = 'tx-1';
const PAYOUT = 2_500_000n;

function aClick(over: Partial<ClickFacts> = {}): ClickFacts {
  return {
    clickId: '01HXAMPLE0000000000000000A',
    offerId: OFFER_ID,
    publisherId: 'pub_1',
    sub1: 's1',
    sub2: null,
    sub3: null,
    sub4: null,
    sub5: null,
    placement: 'wall-top',
    geo: 'US',
    device: 'mobile',
    clickedAt: CLICKED_AT,
    ...over,
  };
}

function anOffer(over: Partial<OfferFacts> = {}): OfferFacts {
  return {
    id: OFFER_ID,
    status: 'active',
    payoutMicros: PAYOUT,
    currency: 'USD',
    allowedGeos: ['US', 'CA'],
    dailyCap: null,
    payoutCapMicros: null,
    attributionWindowHours: 24,
    goals: ['install', 'purchase'],
    minConversionSeconds: null,
    holdPayoutAboveMicros: null,
    reviewGeos: null,
    burst: null,
    ...over,
  };
}

function aPostback(over: Partial<PostbackFacts> = {}): PostbackFacts {
  return {
    eventId: 'evt-1',
    partnerId: 'partner_1',
    clickId: '01HXAMPLE0000000000000000A',
    transactionId: TX,
    status: 'approved',
    offerId: null,
    payoutMicros: null,
    currency: null,
    event: null,
    receivedAt: after(HOUR_MS),
    ...over,
  };
}

/** The conversion of the default click/offer/transaction (goal: the offer's first goal). */
function aConversion(over: Partial<ConversionState> = {}): ConversionState {
  return {
    conversionId: conversionIdOf(OFFER_ID, TX, 'install'),
    partnerId: 'partner_1',
    status: 'pending',
    amountMicros: 0n,
    currency: 'USD',
    requested: 'pending',
    reason: null,
    ...over,
  };
}

const NO_USAGE: CapUsage = { conversions: 0, payoutMicros: 0n };
const found = (over: Partial<ClickFacts> = {}): ClickLookup => ({ kind: 'found', click: aClick(over) });

function anInput(over: Partial<DecideInput> = {}): DecideInput {
  return {
    postback: aPostback(),
    click: found(),
    offer: anOffer(),
    conversion: undefined,
    usage: NO_USAGE,
    attempt: 0,
    maxAttempts: 3,
    ...over,
  };
}

type Entry = Extract<Decision, { kind: 'entry' }>;
type Suppressed = Extract<Decision, { kind: 'suppressed' }>;

function asEntry(d: Decision): Entry {
  if (d.kind !== 'entry') throw new Error(`expected an entry, got ${d.kind}: ${show(d)}`);
  return d;
}
function asSuppressed(d: Decision): Suppressed {
  if (d.kind !== 'suppressed') throw new Error(`expected a suppression, got ${d.kind}: ${show(d)}`);
  return d;
}
const show = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

/** Then: a hard rejection with no revenue and no cap use. */
function expectRejected(d: Decision, reason: ReasonCode, requested: PostbackStatus = 'approved'): Entry {
  const e = asEntry(d);
  expect(e).toMatchObject({
    outcome: 'rejected',
    entryType: 'rejected',
    reason,
    amountMicros: 0n,
    capDelta: null,
  });
  expect(e.next).toMatchObject({ status: 'rejected', amountMicros: 0n, requested, reason });
  return e;
}

function expectApproved(d: Decision, amount: bigint, currency = 'USD'): Entry {
  const e = asEntry(d);
  expect(e).toEqual({
    kind: 'entry',
    outcome: 'accepted',
    entryType: 'approved',
    reason: null,
    amountMicros: amount,
    currency,
    requested: 'approved',
    next: {
      conversionId: e.next.conversionId,
      partnerId: e.next.partnerId,
      status: 'approved',
      amountMicros: amount,
      currency,
      requested: 'approved',
      reason: null,
      firstReceivedAt: e.next.firstReceivedAt,
      entries: e.next.entries,
    },
    capDelta: { conversions: 1, payoutMicros: amount },
  });
  expect(e.next.firstReceivedAt).toBeInstanceOf(Date);
  return e;
}

function expectInvalidTransition(d: Decision): Suppressed {
  const s = asSuppressed(d);
  expect(s.outcome).toBe('rejected');
  expect(s.reason).toBe('invalid_transition');
  return s;
}

function expectDuplicate(d: Decision): Suppressed {
  const s = asSuppressed(d);
  expect(s.outcome).toBe('duplicate');
  expect(s.reason).toBe('duplicate');
  return s;
}

// ---------------------------------------------------------------------------------------------

describe('decide: first-time postbacks', () => {
  describe('click lookup', () => {
    it.each(['malformed', 'unknown'] as const)(
      'given a %s click id, when approved arrives, then it is rejected unknown_click at once',
      (kind) => {
        const d = decide(anInput({ click: { kind }, attempt: 0 }));
        const e = expectRejected(d, 'unknown_click');
        expect(e.currency).toBe('USD');
      },
    );

    it.each([0, 1, 2])(
      'given a click not visible yet, when attempt %i < maxAttempts 3, then it is retried',
      (attempt) => {
        const d = decide(anInput({ click: { kind: 'not_visible_yet' }, attempt, maxAttempts: 3 }));
        expect(d).toEqual({ kind: 'retry', reason: 'click_not_found_yet' });
      },
    );

    it.each([3, 4])(
      'given a click not visible yet, when attempt %i >= maxAttempts 3, then it is rejected unknown_click',
      (attempt) => {
        const d = decide(anInput({ click: { kind: 'not_visible_yet' }, attempt, maxAttempts: 3 }));
        expectRejected(d, 'unknown_click');
      },
    );

    it('given maxAttempts 0, when the click is not visible yet, then it is rejected without a retry', () => {
      expectRejected(
        decide(anInput({ click: { kind: 'not_visible_yet' }, attempt: 0, maxAttempts: 0 })),
        'unknown_click',
      );
    });

    it.each(['pending', 'rejected'] as const)(
      'given a not-visible click, when %s arrives, then it is retried too',
      (status) => {
        const d = decide(anInput({ postback: aPostback({ status }), click: { kind: 'not_visible_yet' } }));
        expect(d.kind).toBe('retry');
      },
    );

    it('given an unknown click, when pending arrives, then the rejection records the requested status', () => {
      const d = decide(anInput({ postback: aPostback({ status: 'pending' }), click: { kind: 'unknown' } }));
      expectRejected(d, 'unknown_click', 'pending');
    });
  });

  describe('offer mapping', () => {
    it("given a postback offer_id differing from the click's, then it is rejected offer_mismatch", () => {
      const d = decide(
        anInput({ postback: aPostback({ offerId: 'off_2' }), offer: anOffer({ id: 'off_2' }) }),
      );
      expectRejected(d, 'offer_mismatch');
    });

    it("given a postback offer_id equal to the click's, then it is approved", () => {
      expectApproved(decide(anInput({ postback: aPostback({ offerId: OFFER_ID }) })), PAYOUT);
    });

    it('given no offer, then it is rejected unknown_offer', () => {
      const e = expectRejected(decide(anInput({ offer: undefined })), 'unknown_offer');
      expect(e.currency).toBe('XXX');
    });

    it("given no offer, then the rejection carries the postback's currency when it has one", () => {
      const d = decide(anInput({ offer: undefined, postback: aPostback({ currency: 'EUR' }) }));
      expect(expectRejected(d, 'unknown_offer').currency).toBe('EUR');
    });

    it('given an offer mismatch and no offer, then offer_mismatch is reported first', () => {
      const d = decide(anInput({ postback: aPostback({ offerId: 'off_2' }), offer: undefined }));
      expectRejected(d, 'offer_mismatch');
    });
  });

  describe('goals', () => {
    it('given an event not among the offer goals, then it is rejected invalid_goal', () => {
      expectRejected(decide(anInput({ postback: aPostback({ event: 'signup' }) })), 'invalid_goal');
    });

    it.each(['install', 'purchase'])('given the offer goal %s as event, then it is approved', (event) => {
      expectApproved(decide(anInput({ postback: aPostback({ event }) })), PAYOUT);
    });

    it('given no event, then it is approved (the offer first goal)', () => {
      expectApproved(decide(anInput({ postback: aPostback({ event: null }) })), PAYOUT);
    });

    it.each(['install', 'anything-at-all', 'default'])(
      "given an offer whose only goal is 'default', when event %s arrives, then any event is fine",
      (event) => {
        const d = decide(anInput({ postback: aPostback({ event }), offer: anOffer({ goals: ['default'] }) }));
        expectApproved(d, PAYOUT);
      },
    );

    it("given an offer with 'default' among several goals, then an unknown event is still invalid_goal", () => {
      const d = decide(
        anInput({
          postback: aPostback({ event: 'other' }),
          offer: anOffer({ goals: ['default', 'install'] }),
        }),
      );
      expectRejected(d, 'invalid_goal');
    });
  });

  describe('attribution window', () => {
    it('given a postback exactly at the window, then it is still approved', () => {
      const d = decide(anInput({ postback: aPostback({ receivedAt: after(24 * HOUR_MS) }) }));
      expectApproved(d, PAYOUT);
    });

    it('given a postback 1 ms past the window, then it is rejected click_expired', () => {
      const d = decide(anInput({ postback: aPostback({ receivedAt: after(24 * HOUR_MS + 1) }) }));
      expectRejected(d, 'click_expired');
    });

    it('given an expired click in a blocked geo, then click_expired is reported first', () => {
      const d = decide(
        anInput({ postback: aPostback({ receivedAt: after(25 * HOUR_MS) }), click: found({ geo: 'FR' }) }),
      );
      expectRejected(d, 'click_expired');
    });
  });

  describe('geo', () => {
    it('given a click geo not in allowed_geos, then it is rejected blocked_geo', () => {
      expectRejected(decide(anInput({ click: found({ geo: 'FR' }) })), 'blocked_geo');
    });

    it('given a click without geo and an allowed_geos list, then it is rejected blocked_geo', () => {
      expectRejected(decide(anInput({ click: found({ geo: null }) })), 'blocked_geo');
    });

    it('given an empty allowed_geos list, then every geo is blocked', () => {
      expectRejected(decide(anInput({ offer: anOffer({ allowedGeos: [] }) })), 'blocked_geo');
    });

    it.each(['FR', null])('given allowed_geos null, when the click geo is %s, then it is approved', (geo) => {
      const d = decide(anInput({ click: found({ geo }), offer: anOffer({ allowedGeos: null }) }));
      expectApproved(d, PAYOUT);
    });

    it('given a blocked geo, then a pending postback is rejected too (requested pending)', () => {
      const d = decide(anInput({ postback: aPostback({ status: 'pending' }), click: found({ geo: 'FR' }) }));
      expectRejected(d, 'blocked_geo', 'pending');
    });
  });

  describe('status', () => {
    it('given pending, then a pending entry of amount 0 is accepted', () => {
      const d = decide(anInput({ postback: aPostback({ status: 'pending', payoutMicros: 9_000_000n }) }));
      expect(d).toEqual({
        kind: 'entry',
        outcome: 'accepted',
        entryType: 'pending',
        reason: null,
        amountMicros: 0n,
        currency: 'USD',
        requested: 'pending',
        next: {
          conversionId: conversionIdOf(OFFER_ID, TX, 'install'),
          partnerId: 'partner_1',
          status: 'pending',
          amountMicros: 0n,
          currency: 'USD',
          requested: 'pending',
          reason: null,
          firstReceivedAt: expect.any(Date),
          entries: 1,
        },
        capDelta: null,
      });
    });

    it("given pending in the offer's currency (any case reaches here upper-cased), then it is accepted in it", () => {
      const e = asEntry(decide(anInput({ postback: aPostback({ status: 'pending', currency: 'USD' }) })));
      expect(e).toMatchObject({ outcome: 'accepted', currency: 'USD' });
    });

    it("given pending in another currency than the offer's, then it is accepted at 0 in the offer's: nothing to convert", () => {
      const e = asEntry(
        decide(
          anInput({ postback: aPostback({ status: 'pending', currency: 'EUR', payoutMicros: 9_000_000n }) }),
        ),
      );
      expect(e).toMatchObject({
        outcome: 'accepted',
        entryType: 'pending',
        amountMicros: 0n,
        currency: 'USD',
      });
      expect(e.fx).toBeUndefined();
    });

    it('given pending on an offer at its cap or with holds, then it is still accepted as pending', () => {
      const d = decide(
        anInput({
          postback: aPostback({ status: 'pending', receivedAt: after(1000) }),
          offer: anOffer({ dailyCap: 1, minConversionSeconds: 60, holdPayoutAboveMicros: 0n }),
          usage: { conversions: 1, payoutMicros: PAYOUT },
        }),
      );
      expect(asEntry(d)).toMatchObject({ outcome: 'accepted', entryType: 'pending', capDelta: null });
    });

    it('given rejected, then it is rejected advertiser_rejected', () => {
      const d = decide(anInput({ postback: aPostback({ status: 'rejected' }) }));
      const e = expectRejected(d, 'advertiser_rejected', 'rejected');
      expect(e.currency).toBe('USD');
    });

    it("given rejected in another currency, then it is advertiser_rejected in the offer's currency", () => {
      const d = decide(anInput({ postback: aPostback({ status: 'rejected', currency: 'EUR' }) }));
      expect(expectRejected(d, 'advertiser_rejected', 'rejected').currency).toBe('USD');
    });

    it.each<[string, ClickLookup]>([
      ['found', found()],
      ['malformed', { kind: 'malformed' }],
      ['not_visible_yet', { kind: 'not_visible_yet' }],
    ])('given reversed first (click %s), then it is suppressed invalid_transition', (_name, click) => {
      const s = expectInvalidTransition(
        decide(anInput({ postback: aPostback({ status: 'reversed' }), click })),
      );
      expect(s.detail).toMatch(/never approved/);
    });

    it("given approved with a payout, then an approved entry carries the postback's payout", () => {
      const d = decide(anInput({ postback: aPostback({ payoutMicros: 4_200_000n }) }));
      const e = expectApproved(d, 4_200_000n);
      expect(e.next.conversionId).toBe(conversionIdOf(OFFER_ID, TX, 'install'));
    });

    it("given approved without a payout, then the offer's default payout and currency are used", () => {
      expectApproved(decide(anInput()), PAYOUT, 'USD');
    });

    it("given approved with its own payout in the offer's currency, then both are the postback's", () => {
      const d = decide(anInput({ postback: aPostback({ payoutMicros: 3_000_000n, currency: 'USD' }) }));
      expectApproved(d, 3_000_000n, 'USD');
    });

    it('given approved with a payout in another currency and no rate, then it waits for the rate, never labelled or mixed', () => {
      const d = decide(anInput({ postback: aPostback({ payoutMicros: 3_000_000n, currency: 'EUR' }) }));
      expect(d).toEqual({
        kind: 'retry',
        reason: 'exchange_rate_missing',
        detail: 'no rate for 2024-05-01 EUR/USD yet',
      });
    });

    it('given approved with a currency but no payout, then the default payout keeps the offer currency', () => {
      const e = asEntry(decide(anInput({ postback: aPostback({ payoutMicros: null, currency: 'USD' }) })));
      expect(e.amountMicros).toBe(PAYOUT);
      expect(e.currency).toBe('USD');
    });
  });
});

describe('decide: caps', () => {
  it('given the daily cap reached, when approved arrives, then it is rejected cap_exceeded', () => {
    const d = decide(
      anInput({ offer: anOffer({ dailyCap: 5 }), usage: { conversions: 5, payoutMicros: 0n } }),
    );
    expectRejected(d, 'cap_exceeded');
  });

  it('given one conversion left under the daily cap, then the approval that reaches it is accepted', () => {
    const d = decide(
      anInput({ offer: anOffer({ dailyCap: 5 }), usage: { conversions: 4, payoutMicros: 0n } }),
    );
    expectApproved(d, PAYOUT);
  });

  it('given a daily cap of 0, then every approval is cap_exceeded', () => {
    expectRejected(decide(anInput({ offer: anOffer({ dailyCap: 0 }) })), 'cap_exceeded');
  });

  it('given a payout cap this amount would exceed, then it is rejected cap_exceeded', () => {
    const d = decide(
      anInput({
        offer: anOffer({ payoutCapMicros: 10_000_000n }),
        usage: { conversions: 3, payoutMicros: 7_500_001n },
      }),
    );
    expectRejected(d, 'cap_exceeded');
  });

  it('given a payout cap this amount reaches exactly, then it is approved', () => {
    const d = decide(
      anInput({
        offer: anOffer({ payoutCapMicros: 10_000_000n }),
        usage: { conversions: 3, payoutMicros: 7_500_000n },
      }),
    );
    expectApproved(d, PAYOUT);
  });

  it("given a payout cap, then the postback's own payout is what counts against it", () => {
    const d = decide(
      anInput({
        postback: aPostback({ payoutMicros: 2_500_001n }),
        offer: anOffer({ payoutCapMicros: 10_000_000n }),
        usage: { conversions: 3, payoutMicros: 7_500_000n },
      }),
    );
    expectRejected(d, 'cap_exceeded');
  });

  it("given a cap rejection, then it carries the offer's currency and records requested approved", () => {
    const d = decide(
      anInput({
        postback: aPostback({ currency: 'USD', payoutMicros: 1_000_000n }),
        offer: anOffer({ dailyCap: 1 }),
        usage: { conversions: 1, payoutMicros: 0n },
      }),
    );
    expect(expectRejected(d, 'cap_exceeded').currency).toBe('USD');
  });

  it('given the cap reached and a hold rule that would fire, then caps win: cap_exceeded, not held', () => {
    const d = decide(
      anInput({
        postback: aPostback({ receivedAt: after(1000) }),
        offer: anOffer({ dailyCap: 1, minConversionSeconds: 60 }),
        usage: { conversions: 1, payoutMicros: 0n },
      }),
    );
    expectRejected(d, 'cap_exceeded');
  });
});

describe('decide: manual holds', () => {
  const fastOffer = anOffer({ minConversionSeconds: 60 });

  it('given a click-to-conversion time under minConversionSeconds, then it is held fraud_suspected', () => {
    const d = decide(anInput({ postback: aPostback({ receivedAt: after(59_999) }), offer: fastOffer }));
    expect(asEntry(d)).toMatchObject({ outcome: 'held', entryType: 'held', reason: 'fraud_suspected' });
  });

  it('given a click-to-conversion time exactly minConversionSeconds, then it is approved', () => {
    const d = decide(anInput({ postback: aPostback({ receivedAt: after(60_000) }), offer: fastOffer }));
    expectApproved(d, PAYOUT);
  });

  it('given an amount above holdPayoutAboveMicros, then it is held payout_above_threshold', () => {
    const d = decide(
      anInput({
        postback: aPostback({ payoutMicros: 5_000_001n }),
        offer: anOffer({ holdPayoutAboveMicros: 5_000_000n }),
      }),
    );
    expect(asEntry(d)).toMatchObject({ outcome: 'held', reason: 'payout_above_threshold' });
  });

  it('given an amount exactly at holdPayoutAboveMicros, then it is approved', () => {
    const d = decide(
      anInput({
        postback: aPostback({ payoutMicros: 5_000_000n }),
        offer: anOffer({ holdPayoutAboveMicros: 5_000_000n }),
      }),
    );
    expectApproved(d, 5_000_000n);
  });

  it("given the offer's default payout above the threshold, then it is held too", () => {
    const d = decide(anInput({ offer: anOffer({ holdPayoutAboveMicros: PAYOUT - 1n }) }));
    expect(asEntry(d)).toMatchObject({ outcome: 'held', reason: 'payout_above_threshold' });
  });

  it('given both hold rules firing, then fraud_suspected is the reason', () => {
    const d = decide(
      anInput({
        postback: aPostback({ receivedAt: after(1000), payoutMicros: 9_000_000n }),
        offer: anOffer({ minConversionSeconds: 60, holdPayoutAboveMicros: 1n }),
      }),
    );
    expect(asEntry(d).reason).toBe('fraud_suspected');
  });

  it('given a hold, then it reserves the cap and keeps the amount at stake in next', () => {
    const d = decide(
      anInput({
        postback: aPostback({ receivedAt: after(1000), payoutMicros: 3_000_000n, currency: 'USD' }),
        offer: fastOffer,
      }),
    );
    expect(d).toEqual({
      kind: 'entry',
      outcome: 'held',
      entryType: 'held',
      reason: 'fraud_suspected',
      amountMicros: 3_000_000n,
      currency: 'USD',
      requested: 'approved',
      next: {
        conversionId: conversionIdOf(OFFER_ID, TX, 'install'),
        partnerId: 'partner_1',
        status: 'held',
        amountMicros: 3_000_000n,
        currency: 'USD',
        requested: 'approved',
        reason: 'fraud_suspected',
        firstReceivedAt: expect.any(Date),
        entries: 1,
      },
      capDelta: { conversions: 1, payoutMicros: 3_000_000n },
    });
  });
});

describe('decide: transitions on an existing conversion', () => {
  describe('duplicates', () => {
    it.each<[string, Partial<ConversionState>, PostbackStatus]>([
      ['pending', { status: 'pending', requested: 'pending' }, 'pending'],
      ['approved', { status: 'approved', requested: 'approved', amountMicros: PAYOUT }, 'approved'],
      [
        'held',
        { status: 'held', requested: 'approved', amountMicros: PAYOUT, reason: 'fraud_suspected' },
        'approved',
      ],
      [
        'advertiser-rejected',
        { status: 'rejected', requested: 'rejected', reason: 'advertiser_rejected' },
        'rejected',
      ],
      ['reversed', { status: 'reversed', requested: 'reversed' }, 'reversed'],
      ['cap-rejected', { status: 'rejected', requested: 'approved', reason: 'cap_exceeded' }, 'approved'],
      [
        'blocked_geo on pending',
        { status: 'rejected', requested: 'pending', reason: 'blocked_geo' },
        'pending',
      ],
    ])(
      'given a %s conversion, when its requested status repeats, then it is a duplicate',
      (_n, c, status) => {
        const s = expectDuplicate(
          decide(anInput({ postback: aPostback({ status }), conversion: aConversion(c) })),
        );
        expect(s.detail).toBe(`repeat of ${status}`);
      },
    );

    it('given an existing conversion, when it repeats, then click and offer lookups no longer matter', () => {
      const d = decide(
        anInput({
          postback: aPostback({ status: 'approved' }),
          click: { kind: 'unknown' },
          offer: undefined,
          conversion: aConversion({ status: 'approved', requested: 'approved', amountMicros: PAYOUT }),
        }),
      );
      expectDuplicate(d);
    });

    it('given approved rejected blocked_geo, when the same approved arrives again, then it is a duplicate', () => {
      const first = decide(anInput({ click: found({ geo: 'FR' }) }));
      const { next } = expectRejected(first, 'blocked_geo');
      expectDuplicate(decide(anInput({ click: found({ geo: 'FR' }), conversion: next })));
    });

    it('given an approval, when the same approved arrives again, then no second revenue is written', () => {
      const { next } = expectApproved(decide(anInput()), PAYOUT);
      expectDuplicate(decide(anInput({ conversion: next, postback: aPostback({ payoutMicros: 9n }) })));
    });
  });

  describe('pending -> approved', () => {
    const pending = aConversion();

    it('given a pending conversion, when approved arrives, then it is approved with capDelta', () => {
      const e = expectApproved(decide(anInput({ conversion: pending })), PAYOUT);
      expect(e.next.conversionId).toBe(pending.conversionId);
    });

    it('given a pending conversion at the daily cap, when approved arrives, then it is cap_exceeded', () => {
      const d = decide(
        anInput({
          conversion: pending,
          offer: anOffer({ dailyCap: 2 }),
          usage: { conversions: 2, payoutMicros: 0n },
        }),
      );
      expectRejected(d, 'cap_exceeded');
    });

    it('given a pending conversion, when approved arrives too fast, then it is held', () => {
      const d = decide(
        anInput({
          conversion: pending,
          postback: aPostback({ receivedAt: after(5_000) }),
          offer: anOffer({ minConversionSeconds: 60 }),
        }),
      );
      expect(asEntry(d)).toMatchObject({ outcome: 'held', reason: 'fraud_suspected' });
    });

    it('given a pending conversion, when approved arrives above the payout threshold, then it is held', () => {
      const d = decide(
        anInput({
          conversion: pending,
          postback: aPostback({ payoutMicros: 10_000_000n }),
          offer: anOffer({ holdPayoutAboveMicros: 5_000_000n }),
        }),
      );
      expect(asEntry(d)).toMatchObject({ outcome: 'held', reason: 'payout_above_threshold' });
    });

    it('given a pending conversion, when approved arrives after the window, then it is still approved', () => {
      // The window is checked on the first postback; an advertiser's approval may take days.
      const d = decide(
        anInput({ conversion: pending, postback: aPostback({ receivedAt: after(72 * HOUR_MS) }) }),
      );
      expectApproved(d, PAYOUT);
    });

    it.each<[string, Partial<DecideInput>]>([
      ['the click is gone', { click: { kind: 'unknown' } }],
      ['the offer is gone', { offer: undefined }],
    ])('given a pending conversion, when approved arrives but %s, then it is suppressed', (_n, over) => {
      const s = expectInvalidTransition(decide(anInput({ conversion: pending, ...over })));
      expect(s.detail).toBe('click or offer no longer available');
    });

    it('given pending reported seconds after the click, when approved arrives later, then it is still held fraud_suspected', () => {
      // Click-to-conversion time is when the conversion happened (the pending postback, 2 s here),
      // not when the advertiser approved it; sending pending first sidesteps the fraud hold.
      const offer = anOffer({ minConversionSeconds: 60 });
      const first = decide(
        anInput({ postback: aPostback({ status: 'pending', receivedAt: after(2_000) }), offer }),
      );
      const { next } = asEntry(first);
      const second = decide(
        anInput({ postback: aPostback({ receivedAt: after(10 * 60_000) }), offer, conversion: next }),
      );
      expect(asEntry(second)).toMatchObject({ outcome: 'held', reason: 'fraud_suspected' });
    });
  });

  describe('pending -> rejected', () => {
    it('given a pending conversion, when rejected arrives, then it is rejected advertiser_rejected', () => {
      const pending = aConversion({ currency: 'EUR' });
      const d = decide(anInput({ postback: aPostback({ status: 'rejected' }), conversion: pending }));
      expect(d).toEqual({
        kind: 'entry',
        outcome: 'rejected',
        entryType: 'rejected',
        reason: 'advertiser_rejected',
        amountMicros: 0n,
        currency: 'EUR',
        requested: 'rejected',
        next: {
          ...pending,
          status: 'rejected',
          requested: 'rejected',
          reason: 'advertiser_rejected',
          firstReceivedAt: expect.any(Date),
          entries: 1,
        },
        capDelta: null,
      });
    });
  });

  describe('forged click ids', () => {
    it('given a click id minted in the future, then it is unknown_click at once, never retried', () => {
      const e = expectRejected(decide(anInput({ click: { kind: 'future' }, attempt: 0 })), 'unknown_click');
      expect(e.detail).toMatch(/future/);
    });
  });

  describe('ownership and currency of an existing conversion', () => {
    it.each<PostbackStatus>(['pending', 'approved', 'rejected', 'reversed'])(
      "given another partner's conversion, when %s arrives, then it is refused partner_not_allowed and nothing changes",
      (status) => {
        const approved = aConversion({ status: 'approved', requested: 'approved', amountMicros: 4_000_000n });
        const d = decide(
          anInput({ postback: aPostback({ status, partnerId: 'partner_2' }), conversion: approved }),
        );
        expect(d).toEqual({
          kind: 'suppressed',
          outcome: 'rejected',
          reason: 'partner_not_allowed',
          detail: `conversion ${approved.conversionId} belongs to partner partner_1`,
        });
      },
    );

    it('given a conversion in USD, when a later status names EUR without a payout, then nothing is converted: USD, never mixed', () => {
      const pending = aConversion();
      const d = decide(anInput({ postback: aPostback({ currency: 'EUR' }), conversion: pending }));
      expectApproved(d, PAYOUT, 'USD');
    });

    it('given a conversion in USD, when an approval pays in EUR and no rate ever comes, then it is refused currency_mismatch and the conversion is unchanged', () => {
      const pending = aConversion();
      const postback = aPostback({ currency: 'EUR', payoutMicros: 3_000_000n });
      expect(decide(anInput({ postback, conversion: pending, attempt: 2 }))).toMatchObject({
        kind: 'retry',
        reason: 'exchange_rate_missing',
      });
      expect(decide(anInput({ postback, conversion: pending, attempt: 3 }))).toEqual({
        kind: 'suppressed',
        outcome: 'rejected',
        reason: 'currency_mismatch',
        detail: 'retry_exhausted: no rate for 2024-05-01 EUR/USD after 3 retries',
      });
    });

    it('given an offer naming its partners, when another partner reports a new conversion, then it is refused and creates none', () => {
      const d = decide(
        anInput({
          postback: aPostback({ partnerId: 'partner_9' }),
          offer: anOffer({ partnerIds: ['partner_1'] }),
        }),
      );
      expect(d).toMatchObject({ kind: 'suppressed', reason: 'partner_not_allowed' });
      expectApproved(decide(anInput({ offer: anOffer({ partnerIds: ['partner_1'] }) })), PAYOUT);
    });

    it("given an offer's maximum payout, when an approval is above it, then it is rejected payout_above_max", () => {
      const offer = anOffer({ maxPayoutMicros: 5_000_000n });
      expectRejected(
        decide(anInput({ offer, postback: aPostback({ payoutMicros: 5_000_001n }) })),
        'payout_above_max',
      );
      expectApproved(
        decide(anInput({ offer, postback: aPostback({ payoutMicros: 5_000_000n }) })),
        5_000_000n,
      );
    });
  });

  describe('approved -> reversed', () => {
    it('given an approved conversion, when reversed arrives, then the approved amount is reversed', () => {
      const approved = aConversion({ status: 'approved', requested: 'approved', amountMicros: 4_000_000n });
      const d = decide(
        anInput({
          postback: aPostback({ status: 'reversed', payoutMicros: 1n, currency: 'USD' }),
          conversion: approved,
        }),
      );
      expect(d).toEqual({
        kind: 'entry',
        outcome: 'accepted',
        entryType: 'reversed',
        reason: null,
        amountMicros: 4_000_000n,
        currency: 'USD',
        requested: 'reversed',
        next: {
          ...approved,
          status: 'reversed',
          amountMicros: 0n,
          requested: 'reversed',
          reason: null,
          firstReceivedAt: expect.any(Date),
          entries: 1,
        },
        capDelta: null,
      });
    });
  });

  describe('held -> reversed', () => {
    it('given a held conversion, when reversed arrives, then it is rejected advertiser_rejected and the cap released', () => {
      const held = aConversion({
        status: 'held',
        requested: 'approved',
        amountMicros: 3_000_000n,
        reason: 'fraud_suspected',
      });
      const d = decide(anInput({ postback: aPostback({ status: 'reversed' }), conversion: held }));
      expect(d).toEqual({
        kind: 'entry',
        outcome: 'rejected',
        entryType: 'rejected',
        reason: 'advertiser_rejected',
        amountMicros: 0n,
        currency: 'USD',
        requested: 'reversed',
        next: {
          ...held,
          status: 'rejected',
          amountMicros: 0n,
          requested: 'reversed',
          reason: 'advertiser_rejected',
          firstReceivedAt: expect.any(Date),
          entries: 1,
        },
        capDelta: { conversions: -1, payoutMicros: -3_000_000n },
      });
    });

    it('given a hold then its reversal, then the two capDeltas cancel out', () => {
      const offer = anOffer({ holdPayoutAboveMicros: 0n });
      const held = asEntry(decide(anInput({ offer })));
      const reversed = asEntry(
        decide(anInput({ offer, postback: aPostback({ status: 'reversed' }), conversion: held.next })),
      );
      expect(held.capDelta).not.toBeNull();
      expect(reversed.capDelta).not.toBeNull();
      expect(held.capDelta!.conversions + reversed.capDelta!.conversions).toBe(0);
      expect(held.capDelta!.payoutMicros + reversed.capDelta!.payoutMicros).toBe(0n);
    });
  });

  describe('invalid partner transitions', () => {
    it.each<[PostbackStatus, PostbackStatus, Partial<ConversionState>]>([
      ['approved', 'pending', { status: 'approved', amountMicros: PAYOUT }],
      ['approved', 'rejected', { status: 'approved', amountMicros: PAYOUT }],
      ['rejected', 'approved', { status: 'rejected', reason: 'advertiser_rejected' }],
      ['rejected', 'pending', { status: 'rejected', reason: 'advertiser_rejected' }],
      ['rejected', 'reversed', { status: 'rejected', reason: 'advertiser_rejected' }],
      ['reversed', 'approved', { status: 'reversed' }],
      ['reversed', 'pending', { status: 'reversed' }],
      ['reversed', 'rejected', { status: 'reversed' }],
      ['pending', 'reversed', { status: 'pending' }],
    ])('given requested %s, when %s arrives, then it is suppressed invalid_transition', (from, to, c) => {
      const d = decide(
        anInput({ postback: aPostback({ status: to }), conversion: aConversion({ ...c, requested: from }) }),
      );
      expect(expectInvalidTransition(d).detail).toBe(`${from} -> ${to} is not a valid status change`);
    });

    it.each(['pending', 'rejected'] as const)(
      'given a held conversion, when %s arrives, then it is suppressed invalid_transition',
      (to) => {
        const held = aConversion({ status: 'held', requested: 'approved', amountMicros: PAYOUT });
        expectInvalidTransition(decide(anInput({ postback: aPostback({ status: to }), conversion: held })));
      },
    );

    it('given pending rejected blocked_geo, when approved arrives, then it is suppressed invalid_transition', () => {
      const first = decide(
        anInput({ postback: aPostback({ status: 'pending' }), click: found({ geo: 'FR' }) }),
      );
      const { next } = expectRejected(first, 'blocked_geo', 'pending');
      const s = expectInvalidTransition(decide(anInput({ click: found({ geo: 'FR' }), conversion: next })));
      expect(s.detail).toBe('the conversion is rejected (blocked_geo); approved changes nothing');
    });

    it('given pending rejected blocked_geo, when rejected arrives, then it is suppressed invalid_transition', () => {
      const c = aConversion({ status: 'rejected', requested: 'pending', reason: 'blocked_geo' });
      expectInvalidTransition(
        decide(anInput({ postback: aPostback({ status: 'rejected' }), conversion: c })),
      );
    });

    it('given approved rejected cap_exceeded, when reversed arrives, then it is suppressed invalid_transition', () => {
      const c = aConversion({ status: 'rejected', requested: 'approved', reason: 'cap_exceeded' });
      const s = expectInvalidTransition(
        decide(anInput({ postback: aPostback({ status: 'reversed' }), conversion: c })),
      );
      expect(s.detail).toBe('the conversion is rejected (cap_exceeded); reversed changes nothing');
    });
  });

  it('given a full lifecycle pending -> approved -> reversed, then the ledger nets to zero', () => {
    const steps: PostbackStatus[] = ['pending', 'pending', 'approved', 'approved', 'reversed', 'reversed'];
    let conversion: ConversionState | undefined;
    const ledger: string[] = [];
    for (const status of steps) {
      const d = decide(anInput({ postback: aPostback({ status }), conversion }));
      if (d.kind === 'entry') {
        ledger.push(`${d.entryType}:${d.amountMicros}`);
        conversion = d.next;
      } else ledger.push(d.kind === 'suppressed' ? d.reason : d.kind);
    }
    expect(ledger).toEqual([
      'pending:0',
      'duplicate',
      `approved:${PAYOUT}`,
      'duplicate',
      `reversed:${PAYOUT}`,
      'duplicate',
    ]);
  });
});

describe('decide: an operator replay of a postback whose retry budget ran out', () => {
  const lostToUnknownClick = aConversion({
    status: 'rejected',
    requested: 'approved',
    reason: 'unknown_click',
    entries: 1,
  });

  it('given the click is visible now, then the replay is decided as a first report: approved with revenue', () => {
    const e = asEntry(decide(anInput({ conversion: lostToUnknownClick, operatorReplay: true })));
    expect(e).toMatchObject({ outcome: 'accepted', entryType: 'approved', amountMicros: PAYOUT });
    expect(e.next.status).toBe('approved');
  });

  it('given the click is visible now, then every first-report rule applies again (geo here)', () => {
    const d = decide(
      anInput({
        conversion: lostToUnknownClick,
        operatorReplay: true,
        offer: anOffer({ allowedGeos: ['DE'] }),
      }),
    );
    expectRejected(d, 'blocked_geo');
  });

  it('given the click is still not visible, then the replay waits for it like a fresh postback', () => {
    const d = decide(
      anInput({ conversion: lostToUnknownClick, operatorReplay: true, click: { kind: 'not_visible_yet' } }),
    );
    expect(d).toEqual({ kind: 'retry', reason: 'click_not_found_yet' });
  });

  it.each([
    ['the same postback not replayed by an operator', { operatorReplay: false }],
    ['a conversion with more than the rejection (an adjustment, an earlier replay)', { entries: 2 }],
    ['a conversion rejected for another reason', { reason: 'blocked_geo' as const }],
    ['a conversion whose entry count is not known', { entries: undefined }],
  ])('given %s, then nothing is reopened: the status change is refused as before', (_what, over) => {
    const { operatorReplay = true, ...conv } = over as {
      operatorReplay?: boolean;
    } & Partial<ConversionState>;
    const d = decide(anInput({ conversion: { ...lostToUnknownClick, ...conv }, operatorReplay }));
    expect(d.kind).toBe('suppressed');
  });
});

describe('decide: determinism and keys', () => {
  it('given the same input twice, then the decisions are deep-equal and the input is untouched', () => {
    const cases: DecideInput[] = [
      anInput(),
      anInput({ postback: aPostback({ status: 'pending' }) }),
      anInput({ click: { kind: 'not_visible_yet' } }),
      anInput({ offer: anOffer({ minConversionSeconds: 7200 }) }),
      anInput({
        conversion: aConversion({ status: 'approved', requested: 'approved', amountMicros: PAYOUT }),
      }),
    ];
    for (const input of cases) {
      const before = structuredClone(input);
      expect(decide(input)).toEqual(decide(structuredClone(input)));
      expect(input).toEqual(before);
    }
  });

  it("given a postback offer_id, then the key uses it even when it differs from the click's", () => {
    const k = conversionKey(aPostback({ offerId: 'off_9' }), found(), anOffer());
    expect(k).toEqual({
      conversionId: conversionIdOf('off_9', TX, 'install'),
      offerId: 'off_9',
      goal: 'install',
    });
  });

  it("given no postback offer_id, then the key uses the click's offer", () => {
    const k = conversionKey(aPostback({ offerId: null }), found({ offerId: 'off_7' }), anOffer());
    expect(k.offerId).toBe('off_7');
  });

  it("given no postback offer_id and no click, then the key's offer is '-'", () => {
    expect(conversionKey(aPostback(), { kind: 'unknown' }, undefined)).toEqual({
      conversionId: conversionIdOf('-', TX, 'default'),
      offerId: '-',
      goal: 'default',
    });
  });

  it("given no event, then the goal is the offer's first goal", () => {
    expect(conversionKey(aPostback(), found(), anOffer({ goals: ['purchase', 'install'] })).goal).toBe(
      'purchase',
    );
  });

  it('given an event, then the goal is the event', () => {
    expect(conversionKey(aPostback({ event: 'purchase' }), found(), anOffer()).goal).toBe('purchase');
  });

  it("given no event and no offer, then the goal is 'default'", () => {
    expect(conversionKey(aPostback(), found(), undefined).goal).toBe('default');
  });

  it('given pending without event and approved with the first goal, then both hit the same conversion', () => {
    const a = conversionKey(aPostback({ status: 'pending', event: null }), found(), anOffer());
    const b = conversionKey(aPostback({ status: 'approved', event: 'install' }), found(), anOffer());
    expect(a.conversionId).toBe(b.conversionId);
  });

  it('given distinct goals on a multi-goal offer, then they are distinct conversions', () => {
    const a = conversionKey(aPostback({ event: 'install' }), found(), anOffer());
    const b = conversionKey(aPostback({ event: 'purchase' }), found(), anOffer());
    expect(a.conversionId).not.toBe(b.conversionId);
  });

  it("given an offer whose only goal is 'default', then every event name maps to the one conversion", () => {
    // decide() accepts any event on such an offer, but the key keeps the raw event: an approval
    // sent with event=install and its reversal sent without an event land on two conversions, so
    // the reversal is "never approved"; and install + purchase for one transaction are paid twice.
    const offer = anOffer({ goals: ['default'] });
    const ids = [null, 'default', 'install', 'purchase'].map(
      (event) => conversionKey(aPostback({ event }), found(), offer).conversionId,
    );
    expect(new Set(ids).size).toBe(1);
  });

  it('given every entry, then next.conversionId is the conversion key', () => {
    const inputs = [
      anInput(),
      anInput({ click: { kind: 'unknown' } }),
      anInput({ postback: aPostback({ offerId: 'off_2' }) }),
      anInput({ postback: aPostback({ event: 'purchase', status: 'pending' }) }),
    ];
    for (const input of inputs) {
      const e = asEntry(decide(input));
      expect(e.next.conversionId).toBe(conversionKey(input.postback, input.click, input.offer).conversionId);
    }
  });

  describe('ids', () => {
    it('are stable and url-safe', () => {
      const id = conversionIdOf(OFFER_ID, TX, 'install');
      expect(conversionIdOf(OFFER_ID, TX, 'install')).toBe(id);
      expect(id).toMatch(/^cv_[A-Za-z0-9_-]{26}$/);
      expect(entryIdOf(id, 'approved', 'evt-1')).toMatch(/^le_[A-Za-z0-9_-]{26}$/);
      expect(entryIdOf(id, 'approved', 'evt-1')).toBe(entryIdOf(id, 'approved', 'evt-1'));
    });

    it.each<[[string, string, string], [string, string, string]]>([
      [
        ['a|b', 'c', 'g'],
        ['a', 'b|c', 'g'],
      ],
      [
        ['a', 'b|c', 'g'],
        ['a', 'b', 'c|g'],
      ],
      [
        ['1:a', 'b', 'g'],
        ['1', 'a|b', 'g'],
      ],
      [
        ['a|1:b', 'c', 'g'],
        ['a', 'b', 'c'],
      ],
      [
        ['', 'ab', 'g'],
        ['a', 'b', 'g'],
      ],
      [
        ['off', 'tx', 'install'],
        ['tx', 'off', 'install'],
      ],
    ])('are distinct for %j vs %j', (x, y) => {
      expect(conversionIdOf(...x)).not.toBe(conversionIdOf(...y));
    });

    it('are distinct for any distinct (offer, tx, goal)', () => {
      const part = fc.string({ unit: fc.constantFrom('a', 'b', '|', ':', '1', '2'), maxLength: 6 });
      const triple = fc.tuple(part, part, part);
      fc.assert(
        fc.property(triple, triple, (x, y) => {
          fc.pre(x.join('\u0000') !== y.join('\u0000'));
          expect(conversionIdOf(...x)).not.toBe(conversionIdOf(...y));
        }),
        { numRuns: 500, seed: 20240501 },
      );
    });

    it('entry ids differ per entry type and source', () => {
      const id = conversionIdOf(OFFER_ID, TX, 'install');
      const ids = new Set([
        entryIdOf(id, 'approved', 'evt-1'),
        entryIdOf(id, 'reversed', 'evt-1'),
        entryIdOf(id, 'approved', 'evt-2'),
        entryIdOf(conversionIdOf(OFFER_ID, 'tx-2', 'install'), 'approved', 'evt-1'),
      ]);
      expect(ids.size).toBe(4);
    });
  });
});

describe('decide: routing controls', () => {
  it('given a blocked source, when a new conversion arrives, then it is rejected blocked_source', () => {
    expectRejected(decide(anInput({ sourceBlocked: true })), 'blocked_source');
  });

  it('given a blocked source, when an existing conversion changes status, then the change still applies', () => {
    const approved = aConversion({ status: 'approved', requested: 'approved', amountMicros: 1_000_000n });
    const d = decide(
      anInput({ sourceBlocked: true, postback: aPostback({ status: 'reversed' }), conversion: approved }),
    );
    expect(asEntry(d).entryType).toBe('reversed');
  });
});

describe('decide: stricter source policies, traffic quality, bursts, compliance', () => {
  it('given a click matching a traffic-quality rule, then a new conversion is rejected traffic_quality', () => {
    expectRejected(
      decide(anInput({ trafficQuality: "click user agent matches 'curl/'" })),
      'traffic_quality',
    );
  });

  it('given a traffic-quality match, when an existing conversion changes status, then the change still applies', () => {
    const approved = aConversion({ status: 'approved', requested: 'approved', amountMicros: 1_000_000n });
    const d = decide(
      anInput({ trafficQuality: 'x', postback: aPostback({ status: 'reversed' }), conversion: approved }),
    );
    expect(asEntry(d).entryType).toBe('reversed');
  });

  it('given a source under review, then its approvals are held fraud_suspected', () => {
    const d = decide(anInput({ sourcePolicy: { action: 'hold' } }));
    expect(asEntry(d)).toMatchObject({ outcome: 'held', entryType: 'held', reason: 'fraud_suspected' });
    expect(asEntry(d).capDelta).toEqual({ conversions: 1, payoutMicros: PAYOUT });
  });

  it("given a source's reduced cap reached, then its approvals are rejected cap_exceeded; below it they pass", () => {
    expectRejected(decide(anInput({ sourcePolicy: { action: 'cap', capReached: true } })), 'cap_exceeded');
    expect(asEntry(decide(anInput({ sourcePolicy: { action: 'cap', capReached: false } }))).entryType).toBe(
      'approved',
    );
  });

  it('given a burst of conversions from one source within the window, then the next is held fraud_suspected', () => {
    const offer = anOffer({ burst: { maxConversions: 3, windowSeconds: 60 } });
    expect(asEntry(decide(anInput({ offer, burstCount: 2 }))).entryType).toBe('approved');
    expect(asEntry(decide(anInput({ offer, burstCount: 3 })))).toMatchObject({
      entryType: 'held',
      reason: 'fraud_suspected',
    });
  });

  it("given a click from one of the offer's review geos, then it is held compliance_review", () => {
    const d = decide(anInput({ offer: anOffer({ reviewGeos: ['US'] }) }));
    expect(asEntry(d)).toMatchObject({ outcome: 'held', entryType: 'held', reason: 'compliance_review' });
    expect(asEntry(decide(anInput({ offer: anOffer({ reviewGeos: ['DE'] }) }))).entryType).toBe('approved');
  });

  it('given a fraud signal and a compliance geo, then fraud_suspected wins', () => {
    const d = decide(anInput({ offer: anOffer({ reviewGeos: ['US'] }), sourcePolicy: { action: 'hold' } }));
    expect(asEntry(d).reason).toBe('fraud_suspected');
  });
});
