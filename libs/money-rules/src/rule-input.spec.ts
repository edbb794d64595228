import {
  formatShareBp,
  parsePayoutRule,
  parseRewardRule,
  parseRuleTime,
  reachesBack,
  ruleStart,
  RuleRefused,
  sharePercentToBp,
} from './rule-input';

const refusal = (f: () => unknown): Pick<RuleRefused, 'reason' | 'code' | 'field'> => {
  try {
    f();
  } catch (e) {
    if (e instanceof RuleRefused) return { reason: e.reason, code: e.code, field: e.field };
    throw e;
  }
  throw new Error('accepted');
};

describe('payout rule input', () => {
  it.each([
    ['70', 7000],
    [70, 7000],
    ['72.5', 7250],
    [72.5, 7250],
    ['0.01', 1],
    ['0', 0],
    ['100', 10_000],
    ['100.00', 10_000],
    [' 33.33 ', 3333],
  ])('reads share_percent %j as %i basis points', (v, bp) => {
    expect(sharePercentToBp(v)).toBe(bp);
  });

  it.each(['100.01', '101', '-1', '1e1', '70.123', '', 'NaN', '0x10', '70,5', Infinity, 1e-7, null, {}])(
    'refuses share_percent %j',
    (v) => {
      expect(sharePercentToBp(v)).toBeUndefined();
    },
  );

  it('formats basis points as the percentage operators wrote', () => {
    expect([7000, 7250, 7205, 1, 0, 10_000].map(formatShareBp)).toEqual([
      '70',
      '72.5',
      '72.05',
      '0.01',
      '0',
      '100',
    ]);
    for (let bp = 0; bp <= 10_000; bp += 7) expect(sharePercentToBp(formatShareBp(bp))).toBe(bp);
  });

  it('takes a share or a fixed amount, never both, and names the field at fault', () => {
    expect(parsePayoutRule({ offer_id: 'o1', kind: 'share', share_percent: '70' })).toEqual({
      offerId: 'o1',
      goal: null,
      publisherId: null,
      kind: 'share',
      shareBp: 7000,
      amountMicros: null,
      effectiveFrom: null,
      note: null,
    });
    expect(
      parsePayoutRule({
        offer_id: 'o1',
        goal: 'install',
        publisher_id: 'p1',
        kind: 'fixed',
        amount: '1.50',
        effective_from: '2030-01-01T00:00:00+02:00',
        note: 'rate card v3',
      }),
    ).toMatchObject({
      publisherId: 'p1',
      goal: 'install',
      amountMicros: 1_500_000n,
      effectiveFrom: new Date('2029-12-31T22:00:00Z'),
    });
    expect(refusal(() => parsePayoutRule({ offer_id: 'o1', kind: 'share' })).field).toBe('share_percent');
    expect(refusal(() => parsePayoutRule({ offer_id: 'o1', kind: 'fixed' })).field).toBe('amount');
    expect(
      refusal(() => parsePayoutRule({ offer_id: 'o1', kind: 'share', share_percent: 5, amount: '1' })).field,
    ).toBe('amount');
    expect(
      refusal(() => parsePayoutRule({ offer_id: 'o1', kind: 'fixed', share_percent: 5, amount: '1' })).field,
    ).toBe('share_percent');
    expect(refusal(() => parsePayoutRule({ offer_id: 'o1', kind: 'fixed', amount: '-1' })).field).toBe(
      'amount',
    );
    expect(refusal(() => parsePayoutRule({ offer_id: 'o1', kind: 'fixed', amount: '1e3' })).field).toBe(
      'amount',
    );
    expect(refusal(() => parsePayoutRule({ offer_id: 'o 1', kind: 'share', share_percent: 1 })).field).toBe(
      'offer_id',
    );
    expect(refusal(() => parsePayoutRule({ offer_id: 'o1', kind: 'half' })).field).toBe('kind');
    expect(
      refusal(() => parsePayoutRule({ offer_id: 'o1', kind: 'share', share_percent: 1, note: 'a\u0000b' }))
        .field,
    ).toBe('note');
  });
});

describe('reward rule input', () => {
  it('reads units per unit as millionths and the minimum as a whole number', () => {
    expect(
      parseRewardRule({
        publisher_id: 'p1',
        currency_name: 'coins',
        units_per_unit: '100',
        rounding: 'floor',
      }),
    ).toEqual({
      publisherId: 'p1',
      currencyName: 'coins',
      unitsPerUnitMicros: 100_000_000n,
      rounding: 'floor',
      minimum: 0n,
      effectiveFrom: null,
      note: null,
    });
    expect(
      parseRewardRule({
        publisher_id: 'p1',
        currency_name: 'Gems 💎',
        units_per_unit: 0.5,
        rounding: 'ceil',
        minimum: 1,
      }),
    ).toMatchObject({ unitsPerUnitMicros: 500_000n, minimum: 1n });
  });

  it.each([
    [{ units_per_unit: '0' }, 'units_per_unit'],
    [{ units_per_unit: '1.1234567' }, 'units_per_unit'],
    [{ units_per_unit: -1 }, 'units_per_unit'],
    [{ rounding: 'up' }, 'rounding'],
    [{ minimum: -1 }, 'minimum'],
    [{ minimum: 1.5 }, 'minimum'],
    [{ minimum: 1e13 }, 'minimum'],
    [{ currency_name: ' coins' }, 'currency_name'],
    [{ currency_name: 'x'.repeat(33) }, 'currency_name'],
    [{ currency_name: '' }, 'currency_name'],
    [{ effective_from: '2030-01-01T00:00:00' }, 'effective_from'],
    [{ effective_from: '2030-02-30T00:00:00Z' }, 'effective_from'],
    [{ effective_from: '+275760-09-13T00:00:00Z' }, 'effective_from'],
  ])('refuses %j naming %s', (patch, field) => {
    const r = {
      publisher_id: 'p1',
      currency_name: 'coins',
      units_per_unit: '100',
      rounding: 'floor',
      ...patch,
    };
    expect(refusal(() => parseRewardRule(r))).toEqual({ reason: 'invalid', code: 'invalid_field', field });
  });
});

describe('rule start', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const at = (ms: number) => new Date(now.getTime() + ms);

  it('is now by default, or the time asked, past or future (the database refuses one that reaches back over entries)', () => {
    expect(ruleStart(null, now)).toEqual(now);
    expect(ruleStart(at(3600_000), now)).toEqual(at(3600_000));
    expect(ruleStart(at(-3600_000), now)).toEqual(at(-3600_000));
  });

  it("turns the trigger's refusal into a 409 naming effective_from and the entry", () => {
    const e = new Error(
      'payout_rules: effective_from 2026-01-01 00:00:00+00 would reach back over entry en_1 (occurred 2026-01-02 00:00:00+00), already priced; a rule applies only after the entries it could change',
    );
    expect(reachesBack(e)).toMatchObject({
      reason: 'conflict',
      code: 'rule_reaches_back',
      field: 'effective_from',
    });
    expect(reachesBack(e)?.message).toContain('en_1');
    expect(reachesBack(new Error('connection refused'))).toBeUndefined();
  });

  it('reads times with their zone only, years 1970 to 9999', () => {
    expect(parseRuleTime('2030-01-01T00:00:00.5Z', 'at')).toEqual(new Date('2030-01-01T00:00:00.500Z'));
    expect(parseRuleTime('2030-01-01T01:00:00+0100', 'at')).toEqual(new Date('2030-01-01T00:00:00Z'));
    for (const bad of ['2030-01-01', 'tomorrow', '1969-12-31T23:59:59Z', '', '2030-01-01T00:00:00Z '])
      expect(refusal(() => parseRuleTime(bad, 'at')).field).toBe('at');
  });
});
