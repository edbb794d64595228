import type { ConversionState } from '../conversion/conversion.types';
import { evolve } from '../conversion/evolve';
import {
  NO_MONEY,
  type PayoutRule,
  payoutOf,
  pickPayoutRule,
  priceEntry,
  type PricingInput,
  type RewardRule,
  rewardOf,
} from './payout-rules';
import { PLATFORM_REVENUE, postingsFor } from './postings';

const T0 = new Date('2026-12-01T00:00:00Z');
const later = (s: number) => new Date(T0.getTime() + s * 1000);
const rule = (over: Partial<PayoutRule>): PayoutRule => ({
  id: '1',
  offerId: 'o1',
  goal: null,
  publisherId: null,
  kind: 'share',
  shareBp: 7000,
  amountMicros: null,
  effectiveFrom: T0,
  ...over,
});
const coins: RewardRule = {
  id: 'r1',
  publisherId: 'p1',
  currencyName: 'coins',
  unitsPerUnitMicros: 100_000_000n,
  rounding: 'floor',
  minimum: 1n,
  effectiveFrom: T0,
};
const input = (over: Partial<PricingInput>): PricingInput => ({
  entryType: 'approved',
  amountMicros: 2_000_000n,
  offerId: 'o1',
  goal: 'default',
  publisherId: 'p1',
  at: later(60),
  state: undefined,
  payoutRules: [],
  rewardRules: [],
  ...over,
});
const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

describe('payout rules', () => {
  it("MONEY.md's example: 2.00 USD at a 70 % share pays 1.40, keeps 0.60 and rewards 140 coins", () => {
    const m = priceEntry(input({ payoutRules: [rule({})], rewardRules: [coins] }));
    expect(m).toEqual({
      payoutMicros: 1_400_000n,
      rewardAmount: 140n,
      rewardCurrency: 'coins',
      payoutRuleId: '1',
      rewardRuleId: 'r1',
    });
    const legs = postingsFor({
      entryId: 'e1',
      entryType: 'approved',
      partnerId: 'pa',
      publisherId: 'p1',
      currency: 'USD',
      amountMicros: 2_000_000n,
      payoutMicros: m.payoutMicros,
    });
    expect(legs.map((l) => [l.postingId, l.account, l.amountMicros])).toEqual([
      ['e1:1', 'advertiser_receivable:pa', 2_000_000n],
      ['e1:2', 'publisher_payable:p1', -1_400_000n],
      ['e1:3', PLATFORM_REVENUE, -600_000n],
    ]);
  });

  it('without a rule the publisher is paid the whole revenue (as before rules existed)', () => {
    expect(priceEntry(input({})).payoutMicros).toBe(2_000_000n);
    expect(payoutOf(undefined, 5n)).toBe(5n);
  });

  it('a publisher override beats the offer rule, a goal rule beats the any-goal rule, the latest start wins among alike', () => {
    const rules = [
      rule({ id: 'offer', shareBp: 5000 }),
      rule({ id: 'offer-later', shareBp: 6000, effectiveFrom: later(30) }),
      rule({ id: 'goal', goal: 'install', shareBp: 4000 }),
      rule({ id: 'pub', publisherId: 'p1', kind: 'fixed', shareBp: null, amountMicros: 900_000n }),
      rule({ id: 'future', publisherId: 'p1', goal: 'default', shareBp: 9000, effectiveFrom: later(3600) }),
    ];
    const at = later(60);
    expect(pickPayoutRule(rules, { offerId: 'o1', goal: 'default', publisherId: 'p2', at })?.id).toBe(
      'offer-later',
    );
    expect(pickPayoutRule(rules, { offerId: 'o1', goal: 'install', publisherId: 'p2', at })?.id).toBe('goal');
    expect(pickPayoutRule(rules, { offerId: 'o1', goal: 'install', publisherId: 'p1', at })?.id).toBe('pub');
    expect(
      pickPayoutRule(rules, { offerId: 'o1', goal: 'default', publisherId: 'p1', at: later(7200) })?.id,
    ).toBe('future');
    expect(pickPayoutRule(rules, { offerId: 'o2', goal: 'default', publisherId: 'p1', at })).toBeUndefined();
    expect(
      pickPayoutRule(rules, { offerId: 'o1', goal: 'default', publisherId: 'p2', at: later(-1) }),
    ).toBeUndefined();
  });

  it('shares round half to even on whole micros; a fixed payout may exceed revenue (negative margin, still balanced)', () => {
    expect(payoutOf(rule({ shareBp: 5000 }), 3n)).toBe(2n); // 1.5 -> 2
    expect(payoutOf(rule({ shareBp: 5000 }), 5n)).toBe(2n); // 2.5 -> 2
    const fixed = rule({ kind: 'fixed', shareBp: null, amountMicros: 3_000_000n });
    const m = priceEntry(input({ payoutRules: [fixed] }));
    const legs = postingsFor({
      ...m,
      entryId: 'e',
      entryType: 'approved',
      partnerId: 'pa',
      publisherId: 'p1',
      currency: 'USD',
      amountMicros: 2_000_000n,
    });
    expect(legs.find((l) => l.account === PLATFORM_REVENUE)?.amountMicros).toBe(1_000_000n);
    expect(sum(legs.map((l) => l.amountMicros))).toBe(0n);
  });

  it('rewards round by the rule and never fall below its minimum for a payout above zero', () => {
    expect(rewardOf({ ...coins, rounding: 'floor' }, 1_234_567n)).toBe(123n);
    expect(rewardOf({ ...coins, rounding: 'ceil' }, 1_234_567n)).toBe(124n);
    expect(rewardOf({ ...coins, rounding: 'round' }, 1_235_000n)).toBe(124n); // 123.5 -> 124 (even)
    expect(rewardOf({ ...coins, rounding: 'round' }, 1_225_000n)).toBe(122n); // 122.5 -> 122 (even)
    expect(rewardOf({ ...coins, minimum: 5n }, 10_000n)).toBe(5n);
    expect(rewardOf(coins, 0n)).toBe(0n);
  });

  it('a release carries its hold, a reversal takes back exactly what the approval gave, an adjustment moves the payout in proportion', () => {
    const rules = [rule({})];
    const held = priceEntry(input({ entryType: 'held', payoutRules: rules, rewardRules: [coins] }));
    let state: ConversionState = evolve(undefined, {
      conversionId: 'c',
      entryType: 'held',
      amountMicros: 2_000_000n,
      currency: 'USD',
      reason: 'fraud_suspected',
      requested: 'approved',
      partnerId: 'pa',
      occurredAt: later(60),
      money: held,
    });
    // The rule changes before the release: the release still carries the hold's price.
    const changed = [...rules, rule({ id: '2', shareBp: 1000, effectiveFrom: later(100) })];
    const released = priceEntry(
      input({ entryType: 'released', state, payoutRules: changed, at: later(200) }),
    );
    expect(released).toEqual(held);
    state = evolve(state, {
      conversionId: 'c',
      entryType: 'released',
      amountMicros: 2_000_000n,
      currency: 'USD',
      reason: null,
      requested: null,
      partnerId: 'pa',
      occurredAt: later(200),
      money: released,
    });
    const reversed = priceEntry(
      input({ entryType: 'reversed', state, payoutRules: changed, at: later(300) }),
    );
    expect(reversed.payoutMicros).toBe(1_400_000n);
    expect(reversed.rewardAmount).toBe(140n);
    const legs = postingsFor({
      ...reversed,
      entryId: 'r',
      entryType: 'reversed',
      partnerId: 'pa',
      publisherId: 'p1',
      currency: 'USD',
      amountMicros: 2_000_000n,
    });
    expect(legs.map((l) => l.amountMicros)).toEqual([-2_000_000n, 1_400_000n, 600_000n]);
    const adjusted = priceEntry(input({ entryType: 'adjusted', amountMicros: -500_000n, state }));
    expect(adjusted.payoutMicros).toBe(-350_000n);
    expect(priceEntry(input({ entryType: 'rejected', state }))).toEqual(NO_MONEY);
  });

  it('every set of postings balances, whatever the amounts and types', () => {
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    for (let i = 0; i < 2000; i++) {
      const types = ['approved', 'released', 'reversed', 'adjusted', 'held', 'pending', 'rejected'] as const;
      const amount = BigInt(rnd(1_000_000_000)) * (rnd(2) ? 1n : -1n);
      const legs = postingsFor({
        entryId: `e${i}`,
        entryType: types[rnd(types.length)]!,
        partnerId: 'pa',
        publisherId: rnd(4) ? 'p1' : null,
        currency: 'EUR',
        amountMicros: amount,
        payoutMicros: payoutOf(rule({ shareBp: rnd(10_001) }), amount),
      });
      expect(sum(legs.map((l) => l.amountMicros))).toBe(0n);
      expect(legs.every((l) => l.amountMicros !== 0n)).toBe(true);
    }
  });
});
