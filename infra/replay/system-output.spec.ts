import {
  type Cells,
  isReadModelMetric,
  readModelCells,
  readModelSubset,
  type ReconDailyRow,
  type ReconReasonRow,
} from './system-output';
import { compareCells } from './verify';

const cells = (entries: Record<string, Record<string, number>>): Cells =>
  new Map(
    Object.entries(entries).map(([k, m]) => [
      k,
      new Map(Object.entries(m).map(([metric, v]) => [metric, BigInt(v)])),
    ]),
  );

const dims = {
  day: '2026-01-05',
  partner_id: 'e2e.net-a',
  offer_id: 'e2e.o-cpi-us',
  publisher_id: 'e2e.pub-1',
  source: 's1',
  placement: 'wall',
  geo: 'US',
  currency: 'USD',
};
const recon = (extra: Partial<ReconDailyRow> = {}): ReconDailyRow => ({
  ...dims,
  postbacks: 0,
  accepted: 0,
  held_postbacks: 0,
  duplicates: 0,
  rejected_postbacks: 0,
  approved: 0,
  approved_micros: '0',
  reversed: 0,
  reversed_micros: '0',
  ...extra,
});
const reason = (code: string, count: number, extra: Partial<ReconReasonRow> = {}): ReconReasonRow => ({
  ...dims,
  reason_bucket: 'hard',
  reason_code: code,
  count,
  ...extra,
});
const CELL = '2026-01-05|o-cpi-us|pub-1|s1|wall|US';
const UNKNOWN = '2026-01-05|-|-|-|-|-';

describe('readModelSubset', () => {
  it('keeps the metrics the read models carry and drops the rest', () => {
    const expected = cells({
      [CELL]: {
        postbacks: 6,
        'outcome:accepted': 2,
        'outcome:held': 1,
        'outcome:duplicate': 1,
        'outcome:rejected': 2,
        'reason:hard:invalid_transition': 1,
        'reason:hard:blocked_geo': 1,
        'reason:manual:fraud_suspected': 1,
        approved: 1,
        'approved_micros:USD': 3_000_000,
        reversed: 1,
        'reversed_micros:EUR': 2_000_000,
        'outcome:retry_scheduled': 1,
      },
      // Only a metric the read models do not carry: the cell goes.
      [UNKNOWN]: { 'reason:manual:fraud_suspected': 1 },
    });
    const subset = readModelSubset(expected);
    expect([...subset.keys()]).toEqual([CELL]);
    expect(Object.fromEntries(subset.get(CELL)!)).toEqual({
      postbacks: 6n,
      'outcome:accepted': 2n,
      'outcome:held': 1n,
      'outcome:duplicate': 1n,
      'outcome:rejected': 2n,
      'reason:hard:invalid_transition': 1n,
      'reason:hard:blocked_geo': 1n,
      approved: 1n,
      'approved_micros:USD': 3_000_000n,
      reversed: 1n,
      'reversed_micros:EUR': 2_000_000n,
    });
    expect(expected.get(CELL)!.has('reason:manual:fraud_suspected')).toBe(true);
  });

  it('knows soft reasons and money per currency', () => {
    expect(isReadModelMetric('reason:soft:retry_exhausted')).toBe(true);
    expect(isReadModelMetric('approved_micros:JPY')).toBe(true);
    expect(isReadModelMetric('held_micros:USD')).toBe(false);
    expect(isReadModelMetric('late')).toBe(false);
  });
});

describe('readModelCells', () => {
  it('sums partners and currencies into one cell, money per currency, unknown dims as -', () => {
    const got = readModelCells(
      'e2e',
      [
        recon({ postbacks: 3, accepted: 2, approved: 1, approved_micros: '1500000' }),
        recon({
          partner_id: 'e2e.net-b',
          currency: 'EUR',
          postbacks: 2,
          accepted: 1,
          duplicates: 1,
          reversed: 1,
          reversed_micros: '700000',
        }),
        recon({ currency: '', postbacks: 1, rejected_postbacks: 1 }),
        recon({
          offer_id: '',
          publisher_id: '',
          source: '',
          placement: '',
          geo: '',
          postbacks: 1,
          rejected_postbacks: 1,
        }),
        // A row whose carried metrics are all 0 (e.g. only pending entries) makes no cell.
        recon({ day: '2026-01-06' }),
      ],
      [
        reason('invalid_transition', 1, { currency: '' }),
        reason('unknown_click', 1, { offer_id: '', publisher_id: '', source: '', placement: '', geo: '' }),
      ],
    );
    expect([...got.keys()].sort()).toEqual([UNKNOWN, CELL]);
    expect(Object.fromEntries(got.get(CELL)!)).toEqual({
      postbacks: 6n,
      'outcome:accepted': 3n,
      'outcome:duplicate': 1n,
      'outcome:rejected': 1n,
      approved: 1n,
      'approved_micros:USD': 1_500_000n,
      reversed: 1n,
      'reversed_micros:EUR': 700_000n,
      'reason:hard:invalid_transition': 1n,
    });
    expect(Object.fromEntries(got.get(UNKNOWN)!)).toEqual({
      postbacks: 1n,
      'outcome:rejected': 1n,
      'reason:hard:unknown_click': 1n,
    });
  });
});

describe('read-model comparison', () => {
  const expected = cells({
    [CELL]: {
      postbacks: 2,
      'outcome:accepted': 1,
      'outcome:held': 1,
      'reason:manual:fraud_suspected': 1,
      approved: 1,
      'approved_micros:USD': 1_500_000,
    },
  });
  const rows = [
    recon({ postbacks: 2, accepted: 1, held_postbacks: 1, approved: 1, approved_micros: '1500000' }),
  ];

  it('finds no difference when the read models match the carried metrics', () => {
    expect(compareCells(readModelSubset(expected), readModelCells('e2e', rows, []), 'read-model')).toEqual(
      [],
    );
  });

  it('reports a corrupted read-model row as a read-model difference', () => {
    const corrupted = [{ ...rows[0]!, approved_micros: '1500001' }];
    expect(
      compareCells(readModelSubset(expected), readModelCells('e2e', corrupted, []), 'read-model'),
    ).toEqual([
      { kind: 'read-model', message: `${CELL} approved_micros:USD: expected 1500000, got 1500001` },
    ]);
  });

  it('reports a row the reference does not expect, and a missing reason', () => {
    const diffs = compareCells(
      readModelSubset(
        cells({ [CELL]: { postbacks: 1, 'outcome:rejected': 1, 'reason:hard:blocked_geo': 1 } }),
      ),
      readModelCells(
        'e2e',
        [recon({ postbacks: 1, rejected_postbacks: 1 }), recon({ geo: 'DE', postbacks: 1 })],
        [],
      ),
      'read-model',
    );
    expect(diffs.map((d) => d.message).sort()).toEqual([
      '2026-01-05|o-cpi-us|pub-1|s1|wall|DE postbacks: expected 0, got 1',
      `${CELL} reason:hard:blocked_geo: expected 1, got 0`,
    ]);
    expect(diffs.every((d) => d.kind === 'read-model')).toBe(true);
  });
});
