import {
  isIsoDay,
  MAX_RATE_ROWS,
  MAX_RATES_FILE_BYTES,
  parseRatesCsv,
  parseRatesJson,
  RatesInputError,
} from './rate-input';

const refused = (fn: () => unknown): RatesInputError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof RatesInputError) return e;
    throw e;
  }
  throw new Error('accepted');
};

describe('parseRatesCsv', () => {
  it('reads the header and one rate per line, rates in minimal form', () => {
    const rows = parseRatesCsv(
      'date,base,quote,rate,source\n2026-01-02,USD,EUR,0.920000,ecb\n2026-01-02,EUR,GBP,0.86,ecb\n',
    );
    expect(rows).toEqual([
      {
        at: 'line 2',
        day: '2026-01-02',
        base: 'USD',
        quote: 'EUR',
        rate: '0.92',
        scaled: 920_000_000_000n,
        source: 'ecb',
      },
      {
        at: 'line 3',
        day: '2026-01-02',
        base: 'EUR',
        quote: 'GBP',
        rate: '0.86',
        scaled: 860_000_000_000n,
        source: 'ecb',
      },
    ]);
  });

  it('tolerates a BOM, CRLF, spaces around fields, quoted fields, blank lines and no final newline', () => {
    const rows = parseRatesCsv(
      '\ufeff date , base,quote ,rate, source \r\n\r\n 2026-01-02 , USD ,"EUR", 1234567.123456789012 , "ecb, daily" \r\n\r\n2026-01-03,USD,EUR,0.5,manual',
    );
    expect(rows.map((r) => [r.at, r.day, r.base, r.quote, r.rate, r.source])).toEqual([
      ['line 3', '2026-01-02', 'USD', 'EUR', '1234567.123456789012', 'ecb, daily'],
      ['line 5', '2026-01-03', 'USD', 'EUR', '0.5', 'manual'],
    ]);
  });

  it('refuses another header, an empty file, a header without rates', () => {
    expect(refused(() => parseRatesCsv('day,base,quote,rate,source\n2026-01-02,USD,EUR,1,x\n')).message).toBe(
      'line 1: the header must be date,base,quote,rate,source (got "day,base,quote,rate,source")',
    );
    expect(refused(() => parseRatesCsv('Date,Base,Quote,Rate,Source\n')).problems[0]).toMatchObject({
      at: 'line 1',
    });
    expect(refused(() => parseRatesCsv('date,base,quote,rate\n')).problems[0]).toMatchObject({
      at: 'line 1',
    });
    expect(refused(() => parseRatesCsv('')).message).toContain('the file is empty');
    expect(refused(() => parseRatesCsv('\n\n')).message).toContain('the file is empty');
    expect(refused(() => parseRatesCsv('date,base,quote,rate,source\r\n')).message).toBe(
      'line 2: the file has no rates after its header',
    );
  });

  it('names the line and field of every bad value', () => {
    const e = refused(() =>
      parseRatesCsv(
        [
          'date,base,quote,rate,source',
          '2026-02-30,USD,EUR,0.92,ecb',
          '2026-01-02,usd,EUR,0.92,ecb',
          '2026-01-02,USD,EURO,0.92,ecb',
          '2026-01-02,USD,USD,1,ecb',
          '2026-01-02,USD,EUR,1e-3,ecb',
          '2026-01-02,USD,EUR,-1,ecb',
          '2026-01-02,USD,EUR,0,ecb',
          '2026-01-02,USD,EUR,0.0000000000001,ecb',
          '2026-01-02,USD,EUR,1000000000000000000,ecb',
          '2026-01-02,USD,EUR,"1,5",ecb',
          '2026-01-02,USD,EUR,0.92,',
          `2026-01-02,USD,EUR,0.92,${'s'.repeat(65)}`,
          '2026-01-02,USD,EUR,0.92',
          '2026-01-02,USD,EUR,0.92,ecb,extra',
          '02/01/2026,USD,EUR,0.92,ecb',
        ].join('\n'),
      ),
    );
    expect(e.problems.map((p) => `${p.at} ${p.field}`)).toEqual([
      'line 2 date',
      'line 3 base',
      'line 4 quote',
      'line 5 quote',
      'line 6 rate',
      'line 7 rate',
      'line 8 rate',
      'line 9 rate',
      'line 10 rate',
      'line 11 rate',
      'line 12 source',
      'line 13 source',
      'line 14 row',
      'line 15 row',
      'line 16 date',
    ]);
    expect(e.message).toContain('line 6, rate: exponent notation is not allowed (got "1e-3")');
    expect(e.message).toContain('line 9, rate: rate has more than 12 decimal places');
    expect(e.message).toContain('line 10, rate: rate has more than 18 integer digits');
    expect(e.message).toContain('line 14, row: expected 5 fields (date,base,quote,rate,source), got 4');
    expect(e.message).toContain('line 5, quote: quote must differ from base (both USD)');
  });

  it('lists at most 20 problems', () => {
    const lines = Array.from({ length: 50 }, () => '2026-01-02,USD,EUR,x,ecb');
    const e = refused(() => parseRatesCsv(`date,base,quote,rate,source\n${lines.join('\n')}`));
    expect(e.problems).toHaveLength(20);
    expect(e.more).toBe(true);
    expect(e.message.endsWith('; ...')).toBe(true);
  });

  it('counts lines across quoted line breaks, and names a broken quote', () => {
    const e = refused(() =>
      parseRatesCsv(
        'date,base,quote,rate,source\n2026-01-02,USD,EUR,0.92,"two\nlines"\n2026-01-02,USD,GBP,x,ecb\n',
      ),
    );
    // the record that ends on line 3 (its line break is a control character in source), then line 4
    expect(e.problems.map((p) => `${p.at} ${p.field}`)).toEqual(['line 3 source', 'line 4 rate']);
    const q = refused(() => parseRatesCsv('date,base,quote,rate,source\n2026-01-02,USD,EUR,0.92,"ecb\n'));
    expect(q.problems[0]!.field).toBe('file');
    expect(q.message).toMatch(/^line \d+: not readable as CSV/);
  });

  it('accepts a repeated identical rate, refuses a repeat that differs', () => {
    const ok = parseRatesCsv(
      'date,base,quote,rate,source\n2026-01-02,USD,EUR,0.92,ecb\n2026-01-02,USD,EUR,0.9200,ecb\n',
    );
    expect(ok).toHaveLength(2);
    const e = refused(() =>
      parseRatesCsv(
        'date,base,quote,rate,source\n2026-01-02,USD,EUR,0.92,ecb\n2026-01-03,USD,EUR,1,ecb\n2026-01-02,USD,EUR,0.93,ecb\n',
      ),
    );
    expect(e.message).toBe(
      'line 4, rate: 2026-01-02 USD/EUR repeats line 2 with a different rate (0.92 there, 0.93 here)',
    );
  });

  it(`refuses more than ${MAX_RATE_ROWS} rates or ${MAX_RATES_FILE_BYTES} bytes`, () => {
    const line = '2026-01-02,USD,EUR,0.92,ecb\n';
    const rows = parseRatesCsv(`date,base,quote,rate,source\n${line.repeat(MAX_RATE_ROWS)}`);
    expect(rows).toHaveLength(MAX_RATE_ROWS);
    expect(
      refused(() => parseRatesCsv(`date,base,quote,rate,source\n${line.repeat(MAX_RATE_ROWS + 1)}`)).message,
    ).toBe(`file: the file has ${MAX_RATE_ROWS + 1} rates, more than ${MAX_RATE_ROWS}; split it`);
    expect(refused(() => parseRatesCsv('x'.repeat(MAX_RATES_FILE_BYTES + 1))).message).toContain(
      'larger than',
    );
  });
});

describe('parseRatesJson', () => {
  it('reads an array of rates', () => {
    expect(
      parseRatesJson([{ date: '2026-01-02', base: 'USD', quote: 'EUR', rate: '0.92', source: 'ecb' }]),
    ).toEqual([
      {
        at: '[0]',
        day: '2026-01-02',
        base: 'USD',
        quote: 'EUR',
        rate: '0.92',
        scaled: 920_000_000_000n,
        source: 'ecb',
      },
    ]);
  });

  it('refuses other shapes, numbers for rates, unknown and missing fields', () => {
    expect(refused(() => parseRatesJson({ rates: [] })).message).toContain('must be a JSON array');
    expect(refused(() => parseRatesJson([])).message).toContain('no rates');
    expect(refused(() => parseRatesJson(undefined)).message).toContain('must be a JSON array');
    const e = refused(() =>
      parseRatesJson([
        { date: '2026-01-02', base: 'USD', quote: 'EUR', rate: 0.92, source: 'ecb' },
        { date: '2026-01-02', base: 'USD', quote: 'EUR', rate: '0.92', source: 'ecb', note: 'x' },
        { date: '2026-01-02', base: 'USD', rate: '0.92', source: 'ecb' },
        'USD,EUR',
        { date: '2026-01-02', base: 'USD', quote: 'EUR', rate: '0.92', source: ' ecb' },
        { date: '2026-01-02', base: 'USD', quote: 'EUR', rate: '0.92', source: 'e\u0000cb' },
      ]),
    );
    expect(e.problems.map((p) => `${p.at} ${p.field}: ${p.message}`)).toEqual([
      '[0] rate: rate must be a string like "0.92" (a JSON number loses digits)',
      '[1] note: unknown field note',
      '[2] quote: quote is missing',
      '[3] row: each rate must be an object {date, base, quote, rate, source}',
      '[4] source: source must not start or end with spaces',
      '[5] source: source must not contain control characters',
    ]);
  });
});

describe('isIsoDay', () => {
  it.each([
    ['2026-01-02', true],
    ['2024-02-29', true],
    ['2026-02-29', false],
    ['2026-13-01', false],
    ['2026-1-2', false],
    ['20260102', false],
    ['2026-01-02T00:00:00Z', false],
  ])('%s: %s', (s, ok) => expect(isIsoDay(s)).toBe(ok));
});
