// Exchange rates as exact scaled integers: a rate is carried as bigint units of 10^-12, amounts as
// bigint micros, and a conversion rounds once, half-even, to whole micros. No float ever touches it.

/** Decimals a rate may have (the exchange_rates.rate column is numeric(30,12)). */
export const RATE_DECIMALS = 12;
export const RATE_SCALE = 10n ** BigInt(RATE_DECIMALS);
/** Integer digits a rate may have (30 - 12). */
export const MAX_RATE_INTEGER_DIGITS = 18;
// Longest input worth looking at: 18 digits, a point, 12 decimals, and room for leading zeros.
const MAX_RATE_INPUT_LENGTH = 64;

/** A rate's three-letter code: upper case, as the exchange_rates table's check has it. */
export const RATE_CURRENCY = /^[A-Z]{3}$/;

export type RateParse = { ok: true; scaled: bigint } | { ok: false; reason: string };

const fail = (reason: string): RateParse => ({ ok: false, reason });

/**
 * A positive plain decimal ("0.92", "1234567.123456789012") into units of 10^-12, exactly. No
 * sign, no exponent, no grouping, at most 18 integer digits and 12 decimals. Never throws.
 */
export function parseRate(input: string): RateParse {
  if (typeof input !== 'string') return fail('rate must be a string');
  if (input === '') return fail('rate is empty');
  if (input.length > MAX_RATE_INPUT_LENGTH)
    return fail(`rate is longer than ${MAX_RATE_INPUT_LENGTH} characters`);
  const m = /^(\d+)(?:\.(\d+))?$/.exec(input);
  if (!m) return fail(explain(input));
  const intPart = m[1] ?? '';
  const fracPart = m[2] ?? '';
  if (fracPart.length > RATE_DECIMALS) return fail(`rate has more than ${RATE_DECIMALS} decimal places`);
  if (intPart.replace(/^0+/, '').length > MAX_RATE_INTEGER_DIGITS)
    return fail(`rate has more than ${MAX_RATE_INTEGER_DIGITS} integer digits`);
  const scaled = BigInt(intPart) * RATE_SCALE + BigInt(fracPart.padEnd(RATE_DECIMALS, '0'));
  if (scaled === 0n) return fail('rate must be greater than 0');
  return { ok: true, scaled };
}

function explain(s: string): string {
  if (s.startsWith('-')) return 'rate must be positive';
  if (s.startsWith('+')) return 'rate must not carry a sign';
  if (/^[\d.]+e/i.test(s)) return 'exponent notation is not allowed';
  if (s.includes(',')) return 'commas are not allowed; use "." as the decimal separator and no grouping';
  if (/\s/.test(s)) return 'rate must not contain whitespace';
  return 'rate must be a plain decimal number like "0.92" or "1234.5678"';
}

/** Minimal decimal rendering of a scaled rate: 920_000_000_000n -> "0.92". */
export function formatRate(scaled: bigint): string {
  const whole = (scaled / RATE_SCALE).toString();
  const frac = (scaled % RATE_SCALE).toString().padStart(RATE_DECIMALS, '0').replace(/0+$/, '');
  return frac === '' ? whole : `${whole}.${frac}`;
}

/**
 * `n / d` rounded to the nearest integer, ties to even, for any sign of `n` (`d` > 0). Symmetric:
 * a reversal (-x) rounds to exactly minus what x rounds to.
 */
export function divideHalfEven(n: bigint, d: bigint): bigint {
  if (d <= 0n) throw new RangeError('divisor must be positive');
  const negative = n < 0n;
  const abs = negative ? -n : n;
  let q = abs / d;
  const twice = (abs % d) * 2n;
  if (twice > d || (twice === d && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/**
 * Which way a stored rate (1 base = rate quote) is applied: an amount in base becomes
 * amount x rate in quote; an amount in quote becomes amount / rate in base.
 */
export type RateDirection = 'base_to_quote' | 'quote_to_base';

/**
 * An amount in micros converted at `rate` (a decimal string as parseRate reads it, or already
 * scaled by 10^12), exact until one final half-even rounding to whole micros. Signed amounts
 * convert symmetrically. Throws RangeError on a rate parseRate refuses: rates come from the
 * exchange_rates table, so a bad one is a bug, not an input. The result is not bounded; see
 * fitsBigint before storing it.
 */
export function convertMicros(amountMicros: bigint, rate: string | bigint, direction: RateDirection): bigint {
  const scaled = typeof rate === 'bigint' ? rate : parsedOrThrow(rate);
  if (scaled <= 0n) throw new RangeError('rate must be positive');
  switch (direction) {
    case 'base_to_quote':
      return divideHalfEven(amountMicros * scaled, RATE_SCALE);
    case 'quote_to_base':
      return divideHalfEven(amountMicros * RATE_SCALE, scaled);
  }
}

/**
 * The rate applied by a conversion as units of the target currency per unit of the source one:
 * the stored rate itself for the direct pair; for the reverse pair (`inverted`, converted by
 * dividing) its reciprocal, rounded half-even to 12 decimals, the most a rate column holds. So
 * an entry's amount is its original amount times this rate, exactly for a direct pair and within
 * that last rounding for a reverse one.
 */
export function appliedRate(rate: string, inverted: boolean): string {
  const scaled = parsedOrThrow(rate);
  return formatRate(inverted ? divideHalfEven(RATE_SCALE * RATE_SCALE, scaled) : scaled);
}

function parsedOrThrow(rate: string): bigint {
  const p = parseRate(rate);
  if (!p.ok) throw new RangeError(`not a rate: ${p.reason}`);
  return p.scaled;
}

/** The bounds of a Postgres bigint (the ledger's amount_micros columns). */
export const BIGINT_MAX = 2n ** 63n - 1n;
export const BIGINT_MIN = -(2n ** 63n);

/** Whether micros fit a bigint column: a converted amount beyond it cannot be recorded. */
export function fitsBigint(micros: bigint): boolean {
  return micros >= BIGINT_MIN && micros <= BIGINT_MAX;
}
