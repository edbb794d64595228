import fc from 'fast-check';
import { formatMicros, isCurrency, ISO_4217, MoneyParse, parseMicros } from './money';

// Any UTF-16 code unit, lone surrogates included: the nastiest strings a query parser can hand us.
const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });

const micros = (r: MoneyParse): bigint => {
  if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
  return r.micros;
};
const reason = (r: MoneyParse): string => {
  if (r.ok) throw new Error(`expected rejection, got ${r.micros}`);
  return r.reason;
};

describe('ISO_4217 / isCurrency', () => {
  it('holds the full active list', () => {
    expect(ISO_4217.size).toBeGreaterThanOrEqual(150);
    for (const c of ISO_4217) expect(c).toMatch(/^[A-Z]{3}$/);
  });

  it.each([
    'USD',
    'EUR',
    'GBP',
    'JPY',
    'CHF',
    'CNY',
    'INR',
    'BRL',
    'RUB',
    'TRY',
    'KWD',
    'XOF',
    'XAF',
    'XCD',
    'XPF',
    'XCG',
    'ZWG',
    'VES',
    'SLE',
  ])('accepts %s', (c) => expect(isCurrency(c)).toBe(true));

  it.each([
    ['XXX', 'no currency'],
    ['XTS', 'testing code'],
    ['XAU', 'gold'],
    ['XAG', 'silver'],
    ['XPT', 'platinum'],
    ['XPD', 'palladium'],
    ['XDR', 'SDR unit'],
    ['XBA', 'bond unit'],
    ['CHE', 'fund code'],
    ['USN', 'fund code'],
    ['CLF', 'fund code'],
    ['HRK', 'superseded by EUR'],
    ['DEM', 'historic'],
    ['usd', 'lowercase'],
    ['Usd', 'mixed case'],
    [' USD', 'leading space'],
    ['USD ', 'trailing space'],
    ['US', 'too short'],
    ['USDT', 'too long'],
    ['', 'empty'],
    ['BTC', 'not ISO'],
  ])('rejects %s (%s)', (c) => expect(isCurrency(c)).toBe(false));

  it('never throws', () => {
    fc.assert(fc.property(utf16, (s) => typeof isCurrency(s) === 'boolean'));
  });
});

describe('parseMicros', () => {
  it.each([
    ['0', 0n],
    ['0.0', 0n],
    ['000', 0n],
    ['1', 1_000_000n],
    ['1.25', 1_250_000n],
    ['1.5', 1_500_000n],
    ['0.000001', 1n],
    ['0.1', 100_000n],
    ['12.345678', 12_345_678n],
    ['007.5', 7_500_000n],
    ['1.000000', 1_000_000n],
    ['  2.5\t', 2_500_000n],
    ['\n3\r\n', 3_000_000n],
    ['999999999', 999_999_999_000_000n],
    ['999999999.999999', 999_999_999_999_999n],
    ['0000000000000000001', 1_000_000n],
  ])('parses %j', (input, expected) => {
    expect(micros(parseMicros(input))).toBe(expected);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['-1', /negative/],
    ['-0', /negative/],
    ['-0.5', /negative/],
    ['+1', /sign/],
    ['1e3', /exponent/],
    ['1E3', /exponent/],
    ['1.5e-3', /exponent/],
    ['NaN', /NaN/],
    ['nan', /NaN/],
    ['Infinity', /finite/],
    ['infinity', /finite/],
    ['-Infinity', /negative/],
    ['0x10', /hexadecimal/],
    ['0X1F', /hexadecimal/],
    ['1,000', /commas/],
    ['1,5', /commas/],
    ['1.', /decimal point/],
    ['.5', /before the decimal point/],
    ['1.2.3', /more than one decimal point/],
    ['1.0000001', /more than 6 decimal places/],
    ['0.0000000', /more than 6 decimal places/],
    ['1000000000', /more than 9 integer digits/],
    ['10000000000000', /more than 9 integer digits/],
    ['1000000000000000.5', /more than 9 integer digits/],
    ['1 000', /whitespace/],
    ['abc', /plain decimal/],
    ['$1', /plain decimal/],
    ['1$', /plain decimal/],
    ['１', /plain decimal/], // fullwidth digit
    ['٣', /plain decimal/], // Arabic-Indic digit
    ['1_000', /plain decimal/],
    ['0b101', /plain decimal/],
    ['1'.repeat(65), /longer than 64/],
  ])('rejects %j with a reason', (input, why) => {
    expect(reason(parseMicros(input))).toMatch(why);
  });

  it('rejects non-string input at runtime instead of throwing', () => {
    expect(parseMicros(1.5 as unknown as string).ok).toBe(false);
    expect(parseMicros(undefined as unknown as string).ok).toBe(false);
  });

  it('round-trips formatMicros for any amount 0..10^15-1 micros (the largest a postback may carry)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n - 1n }),
        (x) => micros(parseMicros(formatMicros(x))) === x,
      ),
    );
  });

  it('round-trips canonical strings generated digit by digit', () => {
    const decimal = fc
      .tuple(
        fc.stringMatching(/^(0|[1-9]\d{0,8})$/),
        fc.option(fc.stringMatching(/^\d{0,5}[1-9]$/), { nil: undefined }),
      )
      .map(([i, f]) => (f === undefined ? i : `${i}.${f}`));
    fc.assert(fc.property(decimal, (s) => formatMicros(micros(parseMicros(s))) === s));
  });

  it('rejects every string containing "e" or "-"', () => {
    fc.assert(
      fc.property(
        utf16,
        fc.constantFrom('e', 'E', '-'),
        utf16,
        (a, mid, b) => !parseMicros(`${a}${mid}${b}`).ok,
      ),
    );
  });

  it('never throws and always returns a result object', () => {
    fc.assert(
      fc.property(
        fc.oneof(utf16, fc.string({ unit: 'grapheme' }), fc.stringMatching(/^[\d.,eE+-]{0,24}$/)),
        (s) => {
          const r = parseMicros(s);
          return r.ok ? r.micros >= 0n : typeof r.reason === 'string' && r.reason.length > 0;
        },
      ),
    );
  });

  it('only accepts inputs that are plain decimals once trimmed', () => {
    fc.assert(
      fc.property(utf16, (s) => {
        const r = parseMicros(s);
        return !r.ok || /^\d+(\.\d{1,6})?$/.test(s.trim());
      }),
    );
  });
});

describe('formatMicros', () => {
  it.each([
    [0n, '0'],
    [1n, '0.000001'],
    [10n, '0.00001'],
    [1_000_000n, '1'],
    [1_250_000n, '1.25'],
    [2_000_000n, '2'],
    [12_345_678n, '12.345678'],
    [100_000n, '0.1'],
    [10n ** 18n, '1000000000000'],
    [-1_500_000n, '-1.5'],
  ])('formats %p as %j', (x, s) => {
    expect(formatMicros(x)).toBe(s);
  });

  it('never emits trailing zeros, a trailing point, or an exponent', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 24n }), (x) =>
        /^(0|[1-9]\d*)(\.\d*[1-9])?$/.test(formatMicros(x)),
      ),
    );
  });
});
