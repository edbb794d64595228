// Money is carried as integer micros (bigint). Floats never touch an amount.

export const MICROS_PER_UNIT = 1_000_000n;
export const MAX_DECIMALS = 6;
/**
 * At most 999,999,999.999999 in any currency (just under 10^15 micros): more than any real
 * payout (a billion VND is about 40,000 USD), and small enough that sums of thousands of such
 * amounts (daily payout caps, reports) still fit the ledger's bigint columns.
 */
export const MAX_INTEGER_DIGITS = 9;
/** The largest amount parseMicros reads, 999,999,999.999999: no amount the ledger records is larger. */
export const MAX_AMOUNT_MICROS = 10n ** 15n - 1n;
// Longest input worth looking at; anything longer is rejected before any regex work.
const MAX_INPUT_LENGTH = 64;

// Active ISO 4217 currencies (Table A.1) minus fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW),
// precious metals (XAU, XAG, XPD, XPT), bond-market/accounting units (XBA-XBD, XDR, XSU, XUA, XAD)
// and the testing/no-currency codes (XTS, XXX). Superseded codes (ANG, HRK, SLL, ZWL, CUC, ...) are out.
// prettier-ignore
export const ISO_4217: ReadonlySet<string> = new Set([
  'AED', 'AFN', 'ALL', 'AMD', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN',
  'BAM', 'BBD', 'BDT', 'BGN', 'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BRL', 'BSD', 'BTN', 'BWP', 'BYN', 'BZD',
  'CAD', 'CDF', 'CHF', 'CLP', 'CNY', 'COP', 'CRC', 'CUP', 'CVE', 'CZK',
  'DJF', 'DKK', 'DOP', 'DZD',
  'EGP', 'ERN', 'ETB', 'EUR',
  'FJD', 'FKP',
  'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD',
  'HKD', 'HNL', 'HTG', 'HUF',
  'IDR', 'ILS', 'INR', 'IQD', 'IRR', 'ISK',
  'JMD', 'JOD', 'JPY',
  'KES', 'KGS', 'KHR', 'KMF', 'KPW', 'KRW', 'KWD', 'KYD', 'KZT',
  'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LYD',
  'MAD', 'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRU', 'MUR', 'MVR', 'MWK', 'MXN', 'MYR', 'MZN',
  'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD',
  'OMR',
  'PAB', 'PEN', 'PGK', 'PHP', 'PKR', 'PLN', 'PYG',
  'QAR',
  'RON', 'RSD', 'RUB', 'RWF',
  'SAR', 'SBD', 'SCR', 'SDG', 'SEK', 'SGD', 'SHP', 'SLE', 'SOS', 'SRD', 'SSP', 'STN', 'SVC', 'SYP', 'SZL',
  'THB', 'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS',
  'UAH', 'UGX', 'USD', 'UYU', 'UZS',
  'VED', 'VES', 'VND', 'VUV',
  'WST',
  'XAF', 'XCD', 'XCG', 'XOF', 'XPF',
  'YER',
  'ZAR', 'ZMW', 'ZWG',
]);

export function isCurrency(code: string): boolean {
  return typeof code === 'string' && /^[A-Z]{3}$/.test(code) && ISO_4217.has(code);
}

export type MoneyParse = { ok: true; micros: bigint } | { ok: false; reason: string };

const fail = (reason: string): MoneyParse => ({ ok: false, reason });

/** Parses a plain non-negative decimal string ("1", "1.25", "007.5") into integer micros. Never throws. */
export function parseMicros(input: string): MoneyParse {
  if (typeof input !== 'string') return fail('amount must be a string');
  const s = input.trim();
  if (s === '') return fail('amount is empty');
  if (s.length > MAX_INPUT_LENGTH) return fail(`amount is longer than ${MAX_INPUT_LENGTH} characters`);

  const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return fail(explainRejection(s));

  const intPart = m[1] ?? '';
  const fracPart = m[2] ?? '';
  if (fracPart.length > MAX_DECIMALS) {
    return fail(`amount has more than ${MAX_DECIMALS} decimal places`);
  }
  // Leading zeros are harmless ("007.5"); only significant digits count towards the limit.
  const significant = intPart.replace(/^0+/, '');
  if (significant.length > MAX_INTEGER_DIGITS) {
    return fail(`amount has more than ${MAX_INTEGER_DIGITS} integer digits`);
  }
  const micros = BigInt(intPart) * MICROS_PER_UNIT + BigInt(fracPart.padEnd(MAX_DECIMALS, '0'));
  return { ok: true, micros };
}

function explainRejection(s: string): string {
  if (s.startsWith('-')) return 'amount must not be negative';
  if (s.startsWith('+')) return 'amount must not carry a sign';
  if (/^nan$/i.test(s)) return 'amount is not a number (NaN)';
  if (/^infinity$/i.test(s) || s === '∞') return 'amount must be finite';
  if (/^0x/i.test(s)) return 'hexadecimal amounts are not allowed';
  if (/^[\d.]+e/i.test(s)) return 'exponent notation is not allowed';
  if (s.includes(',')) return 'commas are not allowed; use "." as the decimal separator and no grouping';
  if (/^\d+\.$/.test(s)) return 'amount must not end with a decimal point';
  if (/^\.\d+$/.test(s)) return 'amount must have digits before the decimal point';
  if ((s.match(/\./g) ?? []).length > 1) return 'amount has more than one decimal point';
  if (/\s/.test(s)) return 'amount must not contain whitespace';
  return 'amount must be a plain decimal number like "12" or "12.345678"';
}

/** Minimal decimal rendering of micros: 1_250_000n -> "1.25", 2_000_000n -> "2", 1n -> "0.000001". */
export function formatMicros(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const whole = (abs / MICROS_PER_UNIT).toString();
  const frac = (abs % MICROS_PER_UNIT).toString().padStart(MAX_DECIMALS, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac === '' ? '' : `.${frac}`}`;
}

/** A signed decimal ("-1.25") into micros, for corrections; undefined when it is not one. */
export function parseSignedMicros(input: string): bigint | undefined {
  const negative = input.startsWith('-');
  const m = parseMicros(negative ? input.slice(1) : input);
  return m.ok ? (negative ? -m.micros : m.micros) : undefined;
}
