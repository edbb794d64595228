import fc from 'fast-check';
import { convertMicros } from '../exchange-rate';
import { MAX_AMOUNT_MICROS } from '../money';
import type { ClickFacts, ConversionState, OfferFacts, PostbackFacts } from './conversion.types';
import { type DayRate, decide, type DecideInput, type Decision, rateWanted } from './decide';
import { conversionIdOf } from './ids';

// A postback amount in another currency than the offer's (issue 16): converted at the rate of the
// postback's UTC day, recorded on the entry, waited for while the retry budget lasts.

const CLICKED_AT = new Date('2026-03-10T10:00:00.000Z');
const RECEIVED_AT = new Date('2026-03-10T11:00:00.000Z');
const DAY = '2026-03-10';

const click: ClickFacts = {
  clickId: '01HXAMPLE0000000000000000A',
  offerId: 'off_1',
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
  userId: 'user-1',
};

function anOffer(over: Partial<OfferFacts> = {}): OfferFacts {
  return {
    id: 'off_1',
    status: 'active',
    payoutMicros: 2_000_000n,
    currency: 'USD',
    allowedGeos: null,
    dailyCap: null,
    payoutCapMicros: null,
    attributionWindowHours: 24,
    goals: ['default'],
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
    clickId: click.clickId,
    transactionId: 'tx-1',
    status: 'approved',
    offerId: null,
    payoutMicros: 3_000_000n,
    currency: 'EUR',
    event: null,
    receivedAt: RECEIVED_AT,
    ...over,
  };
}

/** EUR/USD 1.08 stored as such (direct), or USD/EUR 0.92 (the reverse pair: divided). */
const DIRECT: DayRate = { day: DAY, from: 'EUR', to: 'USD', rate: '1.08', inverted: false };
const REVERSE: DayRate = { day: DAY, from: 'EUR', to: 'USD', rate: '0.92', inverted: true };

function anInput(over: Partial<DecideInput> = {}): DecideInput {
  return {
    postback: aPostback(),
    click: { kind: 'found', click },
    offer: anOffer(),
    conversion: undefined,
    usage: { conversions: 0, payoutMicros: 0n },
    rate: DIRECT,
    attempt: 0,
    maxAttempts: 3,
    ...over,
  };
}

type Entry = Extract<Decision, { kind: 'entry' }>;
function asEntry(d: Decision): Entry {
  if (d.kind !== 'entry') throw new Error(`expected an entry, got ${JSON.stringify(d)}`);
  return d;
}

describe('rateWanted: which postbacks need a rate', () => {
  it("given an approval paying in another currency than the offer's, then its UTC day's rate into the offer's", () => {
    expect(rateWanted(aPostback(), anOffer())).toEqual({ day: DAY, from: 'EUR', to: 'USD' });
  });

  it('given the last and first millisecond of a UTC day, then that day', () => {
    const at = (iso: string) => rateWanted(aPostback({ receivedAt: new Date(iso) }), anOffer())?.day;
    expect(at('2026-03-10T23:59:59.999Z')).toBe('2026-03-10');
    expect(at('2026-03-11T00:00:00.000Z')).toBe('2026-03-11');
  });

  it.each<[string, Partial<PostbackFacts>, OfferFacts | undefined]>([
    ["the offer's currency", { currency: 'USD' }, anOffer()],
    ['no currency', { currency: null }, anOffer()],
    ["no payout (the offer's applies)", { payoutMicros: null }, anOffer()],
    ['a pending (its entry is 0)', { status: 'pending' }, anOffer()],
    ['a rejection', { status: 'rejected' }, anOffer()],
    ['a reversal (it takes back the approved amount)', { status: 'reversed' }, anOffer()],
    ['no offer', {}, undefined],
  ])('given %s, then none', (_name, over, offer) => {
    expect(rateWanted(aPostback(over), offer)).toBeNull();
  });
});

describe('decide: an approval paying in another currency', () => {
  it('given the direct pair of its day, then the amount is multiplied, and the entry records where it came from', () => {
    const e = asEntry(decide(anInput()));
    expect(e).toMatchObject({
      outcome: 'accepted',
      entryType: 'approved',
      amountMicros: 3_240_000n,
      currency: 'USD',
      capDelta: { conversions: 1, payoutMicros: 3_240_000n },
      fx: { originalAmountMicros: 3_000_000n, originalCurrency: 'EUR', rate: '1.08', day: DAY },
    });
    expect(e.next).toMatchObject({ status: 'approved', amountMicros: 3_240_000n, currency: 'USD' });
  });

  it('given only the reverse pair, then the amount is divided (half even), and the rate recorded is its reciprocal', () => {
    const e = asEntry(decide(anInput({ rate: REVERSE })));
    // 3 / 0.92 = 3.2608695652... USD
    expect(e.amountMicros).toBe(3_260_870n);
    expect(e.fx).toEqual({
      originalAmountMicros: 3_000_000n,
      originalCurrency: 'EUR',
      rate: '1.086956521739',
      day: DAY,
    });
  });

  it('given a half micro, then it rounds to even', () => {
    const half: DayRate = { ...DIRECT, rate: '0.5' };
    const amount = (payout: bigint) =>
      asEntry(decide(anInput({ postback: aPostback({ payoutMicros: payout }), rate: half }))).amountMicros;
    expect(amount(1n)).toBe(0n);
    expect(amount(3n)).toBe(2n);
    expect(amount(5n)).toBe(2n);
  });

  it('given a daily payout cap the original amount fits but the converted one does not, then cap_exceeded', () => {
    const d = decide(anInput({ offer: anOffer({ payoutCapMicros: 3_000_000n }) }));
    expect(asEntry(d)).toMatchObject({ outcome: 'rejected', reason: 'cap_exceeded', amountMicros: 0n });
    expect(asEntry(d).fx?.originalAmountMicros).toBe(3_000_000n);
  });

  it('given cap usage, then the converted amount is what it reserves', () => {
    const d = decide(anInput({ usage: { conversions: 4, payoutMicros: 1_000_000n } }));
    expect(asEntry(d).capDelta).toEqual({ conversions: 1, payoutMicros: 3_240_000n });
  });

  it("given the offer's maximum payout, then the converted amount is compared with it", () => {
    expect(asEntry(decide(anInput({ offer: anOffer({ maxPayoutMicros: 3_200_000n }) })))).toMatchObject({
      reason: 'payout_above_max',
      detail: "payout 3240000 micros is above the offer's maximum of 3200000",
    });
    expect(asEntry(decide(anInput({ offer: anOffer({ maxPayoutMicros: 3_240_000n }) }))).outcome).toBe(
      'accepted',
    );
  });

  it('given a hold threshold, then the converted amount is held', () => {
    const e = asEntry(decide(anInput({ offer: anOffer({ holdPayoutAboveMicros: 3_100_000n }) })));
    expect(e).toMatchObject({ outcome: 'held', reason: 'payout_above_threshold', amountMicros: 3_240_000n });
    expect(e.fx?.rate).toBe('1.08');
  });

  it('given a pending conversion, when the approval pays in another currency, then it is converted too', () => {
    const pending: ConversionState = {
      conversionId: conversionIdOf('off_1', 'tx-1', 'default'),
      partnerId: 'partner_1',
      status: 'pending',
      amountMicros: 0n,
      currency: 'USD',
      requested: 'pending',
      reason: null,
    };
    const e = asEntry(decide(anInput({ conversion: pending })));
    expect(e).toMatchObject({ entryType: 'approved', amountMicros: 3_240_000n, currency: 'USD' });
    expect(e.fx?.originalCurrency).toBe('EUR');
  });

  it("given a pending conversion whose offer's currency was changed since, then an approval is refused currency_mismatch, never mixed", () => {
    const pending: ConversionState = {
      conversionId: conversionIdOf('off_1', 'tx-1', 'default'),
      partnerId: 'partner_1',
      status: 'pending',
      amountMicros: 0n,
      currency: 'GBP',
      requested: 'pending',
      reason: null,
    };
    for (const postback of [aPostback(), aPostback({ currency: null, payoutMicros: null })])
      expect(decide(anInput({ postback, conversion: pending }))).toEqual({
        kind: 'suppressed',
        outcome: 'rejected',
        reason: 'currency_mismatch',
        detail: `conversion ${pending.conversionId} is in GBP; its offer is now in USD`,
      });
  });

  it('given an approved conversion, when a reversal names another currency, then it takes back the approved amount, nothing converted', () => {
    const approved: ConversionState = {
      conversionId: conversionIdOf('off_1', 'tx-1', 'default'),
      partnerId: 'partner_1',
      status: 'approved',
      amountMicros: 3_240_000n,
      currency: 'USD',
      requested: 'approved',
      reason: null,
    };
    const e = asEntry(
      decide(anInput({ postback: aPostback({ status: 'reversed' }), conversion: approved, rate: undefined })),
    );
    expect(e).toMatchObject({ entryType: 'reversed', amountMicros: 3_240_000n, currency: 'USD' });
    expect(e.fx).toBeUndefined();
  });
});

describe('decide: no rate for the day', () => {
  it('given attempts left, then it waits: a soft exchange_rate_missing', () => {
    for (const rate of [undefined, null])
      expect(decide(anInput({ rate, attempt: 2 }))).toEqual({
        kind: 'retry',
        reason: 'exchange_rate_missing',
        detail: `no rate for ${DAY} EUR/USD yet`,
      });
  });

  it("given a rate of another day or pair, then it is not used: a day's rate is never another's", () => {
    for (const rate of [
      { ...DIRECT, day: '2026-03-09' },
      { ...DIRECT, from: 'GBP' },
    ])
      expect(decide(anInput({ rate }))).toMatchObject({ kind: 'retry', reason: 'exchange_rate_missing' });
  });

  it('given the retry budget spent, then a new conversion is rejected currency_mismatch on the ledger, saying which rate', () => {
    const e = asEntry(decide(anInput({ rate: null, attempt: 3 })));
    expect(e).toMatchObject({
      outcome: 'rejected',
      entryType: 'rejected',
      reason: 'currency_mismatch',
      amountMicros: 0n,
      currency: 'USD',
      detail: `retry_exhausted: no rate for ${DAY} EUR/USD after 3 retries`,
    });
    expect(e.fx).toBeUndefined();
  });

  it('given a partner without retries (budget 0), then currency_mismatch at once', () => {
    expect(asEntry(decide(anInput({ rate: null, maxAttempts: 0 }))).reason).toBe('currency_mismatch');
  });

  it('given a hard reject that does not depend on the amount, then it is decided at once, not after waiting', () => {
    const late = aPostback({ receivedAt: new Date(CLICKED_AT.getTime() + 25 * 3_600_000) });
    expect(asEntry(decide(anInput({ postback: late, rate: null }))).reason).toBe('click_expired');
    const geo = decide(anInput({ offer: anOffer({ allowedGeos: ['DE'] }), rate: null }));
    expect(asEntry(geo).reason).toBe('blocked_geo');
  });
});

describe('decide: a converted amount the ledger cannot take', () => {
  it('given more than 999,999,999.999999 after conversion, then payout_above_max, saying why', () => {
    const d = decide(
      anInput({ postback: aPostback({ payoutMicros: MAX_AMOUNT_MICROS }), rate: { ...DIRECT, rate: '2' } }),
    );
    expect(asEntry(d)).toMatchObject({ outcome: 'rejected', reason: 'payout_above_max', amountMicros: 0n });
    expect(asEntry(d).detail).toBe(
      `payout 999999999999999 EUR micros converts to 1999999999999998 USD micros at 2 (${DAY}), above the most the ledger takes (999999999999999)`,
    );
  });

  it('given a conversion beyond a bigint, then payout_above_max too (never an overflow in the database)', () => {
    const huge: DayRate = { ...DIRECT, rate: '999999999999999999' };
    expect(
      asEntry(decide(anInput({ postback: aPostback({ payoutMicros: MAX_AMOUNT_MICROS }), rate: huge }))),
    ).toMatchObject({ reason: 'payout_above_max' });
  });

  it('property: an approval carries exactly the converted amount, or is refused when that is above the bound', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_AMOUNT_MICROS }),
        fc.bigInt({ min: 1n, max: 10n ** 20n }),
        fc.boolean(),
        (payout, scaledRate, inverted) => {
          const rate = `${scaledRate / 10n ** 12n}.${(scaledRate % 10n ** 12n).toString().padStart(12, '0')}`;
          const d = decide(
            anInput({ postback: aPostback({ payoutMicros: payout }), rate: { ...DIRECT, rate, inverted } }),
          );
          const expected = convertMicros(payout, scaledRate, inverted ? 'quote_to_base' : 'base_to_quote');
          const e = asEntry(d);
          if (expected > MAX_AMOUNT_MICROS) expect(e.reason).toBe('payout_above_max');
          else expect([e.entryType, e.amountMicros]).toEqual(['approved', expected]);
          expect(e.fx?.originalAmountMicros).toBe(payout);
        },
      ),
      { seed: 16, numRuns: 300 },
    );
  });
});
