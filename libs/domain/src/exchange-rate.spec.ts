import fc from 'fast-check';
import {
  BIGINT_MAX,
  BIGINT_MIN,
  convertMicros,
  divideHalfEven,
  fitsBigint,
  formatRate,
  parseRate,
  RATE_SCALE,
} from './exchange-rate';

const MAX_RATE = 10n ** 30n - 1n; // 999999999999999999.999999999999

describe('parseRate', () => {
  it.each([
    ['1', 1_000_000_000_000n],
    ['0.92', 920_000_000_000n],
    ['0.000001', 1_000_000n],
    ['0.000000000001', 1n],
    ['1234567.123456789012', 1_234_567_123_456_789_012n],
    ['007.50', 7_500_000_000_000n],
    ['999999999999999999.999999999999', MAX_RATE],
    ['000000000000000000001', RATE_SCALE],
  ])('reads %s exactly', (input, expected) => {
    expect(parseRate(input)).toEqual({ ok: true, scaled: expected });
  });

  it.each([
    ['', 'rate is empty'],
    ['0', 'greater than 0'],
    ['0.000000000000', 'greater than 0'],
    ['-1', 'positive'],
    ['+1', 'sign'],
    ['1e5', 'exponent'],
    ['1.5E-3', 'exponent'],
    ['1,5', 'commas'],
    [' 1', 'whitespace'],
    ['1.', 'plain decimal'],
    ['.5', 'plain decimal'],
    ['1.2.3', 'plain decimal'],
    ['NaN', 'plain decimal'],
    ['Infinity', 'plain decimal'],
    ['0x10', 'plain decimal'],
    ['1.0000000000001', 'more than 12 decimal places'],
    ['1000000000000000000', 'more than 18 integer digits'],
    ['1'.repeat(65), 'longer than 64'],
  ])('refuses %j', (input, reason) => {
    const p = parseRate(input);
    expect(p.ok).toBe(false);
    expect(p.ok ? '' : p.reason).toContain(reason);
  });

  it('formatRate is its minimal inverse', () => {
    expect(formatRate(920_000_000_000n)).toBe('0.92');
    expect(formatRate(1n)).toBe('0.000000000001');
    expect(formatRate(RATE_SCALE * 25_000n)).toBe('25000');
    expect(formatRate(MAX_RATE)).toBe('999999999999999999.999999999999');
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX_RATE }), (r) => {
        expect(parseRate(formatRate(r))).toEqual({ ok: true, scaled: r });
      }),
    );
  });
});

describe('divideHalfEven', () => {
  it.each([
    [5n, 2n, 2n], // 2.5 -> 2
    [7n, 2n, 4n], // 3.5 -> 4
    [-5n, 2n, -2n],
    [-7n, 2n, -4n],
    [1n, 3n, 0n],
    [2n, 3n, 1n],
    [-2n, 3n, -1n],
    [0n, 7n, 0n],
  ])('%d / %d = %d', (n, d, q) => expect(divideHalfEven(n, d)).toBe(q));

  it('refuses a divisor that is not positive', () => {
    expect(() => divideHalfEven(1n, 0n)).toThrow(RangeError);
    expect(() => divideHalfEven(1n, -1n)).toThrow(RangeError);
  });
});

describe('convertMicros', () => {
  it('converts base to quote by multiplying, quote to base by dividing', () => {
    expect(convertMicros(2_000_000n, '0.92', 'base_to_quote')).toBe(1_840_000n);
    expect(convertMicros(1_840_000n, '0.92', 'quote_to_base')).toBe(2_000_000n);
    expect(convertMicros(1_250_000n, '25000', 'base_to_quote')).toBe(31_250_000_000n);
    expect(convertMicros(31_250_000_000n, '25000', 'quote_to_base')).toBe(1_250_000n);
    // the same rate, already scaled
    expect(convertMicros(2_000_000n, 920_000_000_000n, 'base_to_quote')).toBe(1_840_000n);
  });

  it('tiny rates: 0.000001', () => {
    expect(convertMicros(1_000_000n, '0.000001', 'base_to_quote')).toBe(1n);
    expect(convertMicros(1_500_000n, '0.000001', 'base_to_quote')).toBe(2n); // 1.5 -> 2
    expect(convertMicros(2_500_000n, '0.000001', 'base_to_quote')).toBe(2n); // 2.5 -> 2
    expect(convertMicros(1n, '0.000001', 'base_to_quote')).toBe(0n);
    expect(convertMicros(1n, '0.000001', 'quote_to_base')).toBe(1_000_000n);
    expect(convertMicros(1n, '0.000000000001', 'quote_to_base')).toBe(1_000_000_000_000n);
  });

  it('rates with 12 decimals: 1234567.123456789012', () => {
    const r = '1234567.123456789012';
    // 1 unit -> 1234567.123456789012 units = 1234567123456.789012 micros
    expect(convertMicros(1_000_000n, r, 'base_to_quote')).toBe(1_234_567_123_457n);
    // 1 unit / r = 0.810000510300322... micros per micro: 0.81 micros
    expect(convertMicros(1_000_000n, r, 'quote_to_base')).toBe(1n);
    expect(convertMicros(1_234_567_123_457n, r, 'quote_to_base')).toBe(1_000_000n);
  });

  it('rounds ties to even, symmetrically for negative amounts', () => {
    expect(convertMicros(1n, '0.5', 'base_to_quote')).toBe(0n); // 0.5
    expect(convertMicros(3n, '0.5', 'base_to_quote')).toBe(2n); // 1.5
    expect(convertMicros(5n, '0.5', 'base_to_quote')).toBe(2n); // 2.5
    expect(convertMicros(7n, '0.5', 'base_to_quote')).toBe(4n); // 3.5
    expect(convertMicros(-5n, '0.5', 'base_to_quote')).toBe(-2n);
    expect(convertMicros(-3n, '0.5', 'base_to_quote')).toBe(-2n);
    expect(convertMicros(2n, '4', 'quote_to_base')).toBe(0n); // 0.5
    expect(convertMicros(6n, '4', 'quote_to_base')).toBe(2n); // 1.5
    expect(convertMicros(10n, '4', 'quote_to_base')).toBe(2n); // 2.5
    expect(convertMicros(-10n, '4', 'quote_to_base')).toBe(-2n);
    // a tie far down in the 12th decimal of the rate
    expect(convertMicros(500_000n, '0.000000000001', 'base_to_quote')).toBe(0n); // 0.0000005 -> 0
    expect(convertMicros(1_500_000_000_000n, '0.000000000001', 'base_to_quote')).toBe(2n); // 1.5
  });

  it('stays exact at the largest amounts the ledger holds', () => {
    const maxParsed = 999_999_999_999_999n; // 999,999,999.999999, the most parseMicros reads
    // 999999999999999 x 1234567.123456789012 = 1234567123456787777432.876543210988
    const big = convertMicros(maxParsed, '1234567.123456789012', 'base_to_quote');
    expect(big).toBe(1_234_567_123_456_787_777_433n);
    expect(fitsBigint(big)).toBe(false);
    expect(convertMicros(maxParsed, '0.000000000001', 'quote_to_base')).toBe(maxParsed * RATE_SCALE);
    expect(convertMicros(BIGINT_MAX, '1', 'base_to_quote')).toBe(BIGINT_MAX);
    expect(convertMicros(BIGINT_MAX, '1', 'quote_to_base')).toBe(BIGINT_MAX);
    expect(convertMicros(BIGINT_MIN, '1', 'quote_to_base')).toBe(BIGINT_MIN);
    // (2^63 - 1) x 0.000001 = 9223372036854.775807 -> 9223372036855
    expect(convertMicros(BIGINT_MAX, '0.000001', 'base_to_quote')).toBe(9_223_372_036_855n);
    expect(convertMicros(BIGINT_MIN, '0.000001', 'base_to_quote')).toBe(-9_223_372_036_855n);
    // (2^63 - 1) / 1234567.123456789012 = 7470936056541.9... -> 7470936056542
    expect(convertMicros(BIGINT_MAX, '1234567.123456789012', 'quote_to_base')).toBe(7_470_936_056_542n);
    expect(convertMicros(BIGINT_MAX, MAX_RATE, 'base_to_quote')).toBe(
      divideHalfEven(BIGINT_MAX * MAX_RATE, RATE_SCALE),
    );
    expect(fitsBigint(BIGINT_MAX)).toBe(true);
    expect(fitsBigint(BIGINT_MIN)).toBe(true);
    expect(fitsBigint(BIGINT_MAX + 1n)).toBe(false);
    expect(fitsBigint(BIGINT_MIN - 1n)).toBe(false);
  });

  it('refuses a rate that is not one', () => {
    expect(() => convertMicros(1n, '0', 'base_to_quote')).toThrow(RangeError);
    expect(() => convertMicros(1n, '1e3', 'base_to_quote')).toThrow(RangeError);
    expect(() => convertMicros(1n, 0n, 'quote_to_base')).toThrow(RangeError);
    expect(() => convertMicros(1n, -1n, 'base_to_quote')).toThrow(RangeError);
  });

  const amounts = fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n });
  const rates = fc.bigInt({ min: 1n, max: MAX_RATE });

  it('is the nearest micro, ties to even (property, against the exact product and quotient)', () => {
    fc.assert(
      fc.property(amounts, rates, (a, r) => {
        const abs = (x: bigint) => (x < 0n ? -x : x);
        // base to quote: |q x S - a x r| <= S/2, and on a tie q is even
        const q = convertMicros(a, r, 'base_to_quote');
        const errQ = abs(q * RATE_SCALE - a * r) * 2n;
        expect(errQ <= RATE_SCALE).toBe(true);
        if (errQ === RATE_SCALE) expect(q % 2n).toBe(0n);
        // quote to base: |b x r - a x S| <= r/2, and on a tie b is even
        const b = convertMicros(a, r, 'quote_to_base');
        const errB = abs(b * r - a * RATE_SCALE) * 2n;
        expect(errB <= r).toBe(true);
        if (errB === r) expect(b % 2n).toBe(0n);
      }),
      { numRuns: 2000 },
    );
  });

  it('a reversal converts to exactly minus the original (property)', () => {
    fc.assert(
      fc.property(amounts, rates, (a, r) => {
        expect(convertMicros(-a, r, 'base_to_quote')).toBe(-convertMicros(a, r, 'base_to_quote'));
        expect(convertMicros(-a, r, 'quote_to_base')).toBe(-convertMicros(a, r, 'quote_to_base'));
      }),
    );
  });

  it('there and back at a rate of at least 1 gives the amount back (property)', () => {
    fc.assert(
      fc.property(amounts, fc.bigInt({ min: RATE_SCALE, max: MAX_RATE }), (a, r) => {
        expect(convertMicros(convertMicros(a, r, 'base_to_quote'), r, 'quote_to_base')).toBe(a);
      }),
    );
  });
});
