import fc from 'fast-check';
import { LATENCY_BUCKETS_MS, latencyBucket, OVERFLOW, quantileOf } from './latency';
import {
  emptyDelta,
  type ProjectedEntry,
  type ProjectedOutcome,
  projectEntry,
  projectOutcome,
} from './projection';
import { evaluateLaunch } from './launch-check';
import {
  buildReconReport,
  payoutPerApproved,
  type ReconReport,
  reconCsv,
  reconNet,
  reportQueryProblem,
} from './reports';

const at = new Date('2026-11-24T10:00:00Z');
const entry = (over: Partial<ProjectedEntry>): ProjectedEntry => ({
  seq: '1',
  entry_id: 'le_1',
  entry_type: 'approved',
  conversion_id: 'cv_1',
  partner_id: 'pa',
  offer_id: 'of',
  publisher_id: 'pu',
  transaction_id: 'tx',
  click_id: 'ck',
  sub1: 's1',
  placement: 'wall',
  geo: 'US',
  currency: 'USD',
  amount_micros: '2000000',
  payout_micros: '1400000',
  reward_amount: '140',
  reward_currency: 'coins',
  reason_bucket: null,
  reason_code: null,
  occurred_at: at,
  clicked_at: new Date(at.getTime() - 90_000),
  late: false,
  postback_delay_ms: '90000',
  operator: null,
  first: true,
  first_received_at: at,
  ...over,
});
const outcome = (over: Partial<ProjectedOutcome>): ProjectedOutcome => ({
  event_id: 'E1',
  partner_id: 'pa',
  offer_id: 'of',
  publisher_id: 'pu',
  sub1: 's1',
  placement: 'wall',
  geo: 'US',
  currency: 'USD',
  outcome: 'accepted',
  reason_bucket: null,
  reason_code: null,
  entry_id: 'le_1',
  attempts: 0,
  received_at: at,
  ...over,
});

describe('latency buckets', () => {
  it('puts a value in the first bucket whose bound it does not exceed', () => {
    expect(latencyBucket(-5)).toBe(1_000);
    expect(latencyBucket(1_000)).toBe(1_000);
    expect(latencyBucket(1_001)).toBe(5_000);
    expect(latencyBucket(LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]! + 1)).toBe(OVERFLOW);
  });

  it('estimates quantiles within the bucket that holds them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3_000_000_000 }), { minLength: 1, maxLength: 200 }),
        (xs) => {
          const counts = new Map<number, number>();
          for (const x of xs) counts.set(latencyBucket(x), (counts.get(latencyBucket(x)) ?? 0) + 1);
          const sorted = [...xs].sort((a, b) => a - b);
          for (const q of [0.5, 0.9, 0.99]) {
            const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
            const est = quantileOf({ counts }, q)!;
            const le = latencyBucket(exact);
            const i = LATENCY_BUCKETS_MS.indexOf(le as (typeof LATENCY_BUCKETS_MS)[number]);
            const lower = i <= 0 ? 0 : LATENCY_BUCKETS_MS[i - 1]!;
            if (le === OVERFLOW) expect(est).toBe(LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]);
            else {
              expect(est).toBeGreaterThanOrEqual(lower);
              expect(est).toBeLessThanOrEqual(le);
            }
          }
        },
      ),
    );
    expect(quantileOf({ counts: new Map() }, 0.5)).toBeNull();
  });
});

describe('projection', () => {
  it('counts entries with their money in the cell of their day and source', () => {
    const d = emptyDelta();
    projectEntry(d, entry({}));
    projectEntry(
      d,
      entry({
        entry_id: 'le_2',
        entry_type: 'reversed',
        first: false,
        occurred_at: new Date(at.getTime() + 60_000),
      }),
    );
    projectEntry(
      d,
      entry({
        entry_id: 'le_3',
        conversion_id: 'cv_2',
        entry_type: 'rejected',
        reason_bucket: 'hard',
        reason_code: 'blocked_geo',
        amount_micros: '0',
      }),
    );
    const [cell] = [...d.recon.values()];
    expect(d.recon.size).toBe(1);
    expect(cell).toMatchObject({
      day: '2026-11-24',
      offer_id: 'of',
      source: 's1',
      approved: 1,
      reversed: 1,
      rejected: 1,
    });
    expect(cell!.approved_micros).toBe(2_000_000n);
    expect(cell!.reversed_micros).toBe(2_000_000n);
    expect([...d.reasons.values()]).toEqual([
      expect.objectContaining({ reason_bucket: 'hard', reason_code: 'blocked_geo', count: 1 }),
    ]);
    const metrics = [...d.latency.values()].map((l) => [l.metric, l.le_ms, l.count]);
    expect(metrics).toEqual([
      ['click_to_conversion', 300_000, 2],
      ['postback_delay', 60_000, 1],
    ]);
  });

  it('keeps a conversion in the review queue only while its last entry is a hold', () => {
    const d = emptyDelta();
    projectEntry(d, entry({ entry_type: 'held', reason_bucket: 'manual', reason_code: 'fraud_suspected' }));
    expect(d.review.get('cv_1')).toMatchObject({ held_entry_id: 'le_1', reason_code: 'fraud_suspected' });
    projectEntry(d, entry({ entry_id: 'le_2', entry_type: 'released', operator: 'alice', first: false }));
    expect(d.review.get('cv_1')).toBeNull();
  });

  it('counts postbacks by outcome; a reject without an entry still counts under its reason', () => {
    const d = emptyDelta();
    projectOutcome(d, outcome({}));
    projectOutcome(
      d,
      outcome({ event_id: 'E2', outcome: 'duplicate', entry_id: null, reason_code: 'duplicate' }),
    );
    projectOutcome(
      d,
      outcome({
        event_id: 'E3',
        outcome: 'rejected',
        entry_id: null,
        reason_bucket: 'hard',
        reason_code: 'invalid_transition',
      }),
    );
    projectOutcome(
      d,
      outcome({
        event_id: 'E4',
        outcome: 'rejected',
        entry_id: 'le_9',
        reason_bucket: 'hard',
        reason_code: 'cap_exceeded',
        attempts: 2,
      }),
    );
    const [cell] = [...d.recon.values()];
    expect(cell).toMatchObject({
      postbacks: 4,
      accepted: 1,
      duplicates: 1,
      rejected_postbacks: 2,
      soft_retried: 1,
    });
    expect([...d.reasons.values()].map((r) => r.reason_code)).toEqual(['invalid_transition']);
  });

  it("puts unknown sources and the '-' offer in the '' cell", () => {
    const d = emptyDelta();
    projectEntry(
      d,
      entry({
        offer_id: '-',
        publisher_id: null,
        sub1: null,
        placement: null,
        geo: null,
        clicked_at: null,
        currency: 'XXX',
      }),
    );
    expect([...d.recon.values()][0]).toMatchObject({
      offer_id: '',
      publisher_id: '',
      source: '',
      placement: '',
      geo: '',
    });
    expect(d.latency.size).toBe(0);
  });
});

describe('reconciliation money: payout, margin, rewards', () => {
  const later = (ms: number) => new Date(at.getTime() + ms);
  it("adds each entry type's payout beside its revenue, and rewards by virtual currency", () => {
    const d = emptyDelta();
    // Two approvals at 2.00 (payout 1.40, 140 coins), a hold released by an operator (5.00 ->
    // 3.50, 350 coins), a reversal of the first approval, an adjustment of -0.50 (payout -0.35).
    projectEntry(d, entry({}));
    projectEntry(d, entry({ entry_id: 'le_2', conversion_id: 'cv_2' }));
    const hold = {
      conversion_id: 'cv_3',
      amount_micros: '5000000',
      payout_micros: '3500000',
      reward_amount: '350',
    };
    projectEntry(d, entry({ ...hold, entry_id: 'le_3', entry_type: 'held' }));
    projectEntry(
      d,
      entry({ ...hold, entry_id: 'le_4', entry_type: 'released', first: false, operator: 'alice' }),
    );
    projectEntry(
      d,
      entry({ entry_id: 'le_5', entry_type: 'reversed', first: false, occurred_at: later(60_000) }),
    );
    projectEntry(
      d,
      entry({
        entry_id: 'le_6',
        conversion_id: 'cv_2',
        entry_type: 'adjusted',
        amount_micros: '-500000',
        payout_micros: '-350000',
        reward_amount: null,
        reward_currency: null,
        first: false,
        operator: 'bob',
      }),
    );
    // Another app's currency in the same cell; a pending entry moves nothing.
    projectEntry(
      d,
      entry({
        entry_id: 'le_7',
        conversion_id: 'cv_4',
        publisher_id: 'pu',
        reward_currency: 'gems',
        reward_amount: '7',
      }),
    );
    projectEntry(
      d,
      entry({
        entry_id: 'le_8',
        conversion_id: 'cv_5',
        entry_type: 'pending',
        payout_micros: '0',
        reward_amount: null,
        reward_currency: null,
      }),
    );
    expect(d.recon.size).toBe(1);
    const [cell] = [...d.recon.values()];
    expect(cell).toMatchObject({
      approved: 3,
      approved_micros: 6_000_000n,
      approved_payout_micros: 4_200_000n,
      held_micros: 5_000_000n,
      released_micros: 5_000_000n,
      released_payout_micros: 3_500_000n,
      reversed_micros: 2_000_000n,
      reversed_payout_micros: 1_400_000n,
      adjusted_micros: -500_000n,
      adjusted_payout_micros: -350_000n,
    });
    // A hold's reward is at stake, not issued: only the release issues it.
    expect(
      [...d.rewards.values()].map((r) => [r.reward_currency, r.issued, r.reversed, r.offer_id, r.currency]),
    ).toEqual([
      ['coins', 140n + 140n + 350n, 140n, 'of', 'USD'],
      ['gems', 7n, 0n, 'of', 'USD'],
    ]);
  });

  it('nets revenue and payout the same way; the margin is what is left', () => {
    const zero = {
      approved_micros: '0',
      held_micros: '0',
      released_micros: '0',
      reversed_micros: '0',
      adjusted_micros: '0',
      approved_payout_micros: '0',
      released_payout_micros: '0',
      reversed_payout_micros: '0',
      adjusted_payout_micros: '0',
    };
    expect(
      reconNet({
        ...zero,
        approved_micros: '6000000',
        held_micros: '999',
        released_micros: '5000000',
        reversed_micros: '2000000',
        adjusted_micros: '-500000',
        approved_payout_micros: '4200000',
        released_payout_micros: '3500000',
        reversed_payout_micros: '1400000',
        adjusted_payout_micros: '-350000',
      }),
    ).toEqual({ revenue: 8_500_000n, payout: 5_950_000n, margin: 2_550_000n });
    // Exact past 2^53: never through a float.
    const big = '9007199254740993000';
    expect(reconNet({ ...zero, approved_micros: big, approved_payout_micros: '1' })).toEqual({
      revenue: 9_007_199_254_740_993_000n,
      payout: 1n,
      margin: 9_007_199_254_740_992_999n,
    });
  });

  it('payout per approved conversion: half even to the micro, any sign, null without approvals', () => {
    expect(payoutPerApproved(4_200_000n, 3)).toBe(1_400_000n);
    expect(payoutPerApproved(5n, 2)).toBe(2n); // 2.5 -> 2
    expect(payoutPerApproved(7n, 2)).toBe(4n); // 3.5 -> 4
    expect(payoutPerApproved(-7n, 2)).toBe(-4n); // reversals of earlier days can outweigh
    expect(payoutPerApproved(1_000_000n, 0)).toBeNull();
  });

  const q = { from: '2026-11-24', to: '2026-11-24', groupBy: ['source' as const] };
  const sqlRow = (source: string, currency: string, over: Record<string, string | number> = {}) => ({
    source,
    currency,
    ...Object.fromEntries(
      [
        'postbacks',
        'accepted',
        'held_postbacks',
        'duplicates',
        'rejected_postbacks',
        'soft_retried',
        'late',
        'pending',
        'approved',
        'held',
        'released',
        'rejected',
        'reversed',
        'adjusted',
      ].map((c) => [c, 0]),
    ),
    ...Object.fromEntries(
      [
        'approved_micros',
        'held_micros',
        'released_micros',
        'reversed_micros',
        'adjusted_micros',
        'approved_payout_micros',
        'released_payout_micros',
        'reversed_payout_micros',
        'adjusted_payout_micros',
      ].map((c) => [c, '0']),
    ),
    ...over,
  });
  const report = () =>
    buildReconReport(q, {
      rows: [
        sqlRow('s1', 'USD', {
          approved: 2,
          released: 1,
          reversed: 1,
          adjusted: 1,
          approved_micros: '4000000',
          released_micros: '5000000',
          reversed_micros: '2000000',
          adjusted_micros: '-500000',
          approved_payout_micros: '2800000',
          released_payout_micros: '3500000',
          reversed_payout_micros: '1400000',
          adjusted_payout_micros: '-350000',
        }),
        sqlRow('s2', 'USD', { approved: 3, approved_micros: '3000000', approved_payout_micros: '2000000' }),
        sqlRow('s2', 'EUR', { approved: 1, approved_micros: '1500000', approved_payout_micros: '1500000' }),
        sqlRow('s3', 'USD', { reversed: 1, reversed_micros: '1000000', reversed_payout_micros: '700000' }),
      ],
      reasons: [],
      rewards: [
        { source: 's1', currency: 'USD', reward_currency: 'coins', issued: '630', reversed: '140' },
        { source: 's2', currency: 'USD', reward_currency: 'coins', issued: '200', reversed: '0' },
        { source: 's2', currency: 'EUR', reward_currency: 'coins', issued: '150', reversed: '0' },
        { source: 's2', currency: 'USD', reward_currency: 'gems', issued: '3', reversed: '0' },
      ],
    });

  it('reports net revenue, payout, margin and payout per approval per group, in micros and decimals', () => {
    const r = report();
    const s1 = r.rows.find((x) => x.source === 's1')!;
    expect(s1).toMatchObject({
      revenue_micros: '6500000',
      payout_micros: '4550000',
      margin_micros: '1950000',
      revenue: '6.5',
      payout: '4.55',
      margin: '1.95',
      // 4.55 over 3 approved conversions (2 approvals, 1 release): 1.516666.67 -> 1.516667
      payout_per_approved_micros: '1516667',
      payout_per_approved: '1.516667',
      effective_payout_micros: '6500000',
      rewards: { coins: { issued: '630', reversed: '140', net: '490' } },
    });
    const s2 = r.rows.find((x) => x.source === 's2' && x.currency === 'USD')!;
    expect(s2.payout_per_approved).toBe('0.666667');
    expect(s2.rewards).toEqual({
      coins: { issued: '200', reversed: '0', net: '200' },
      gems: { issued: '3', reversed: '0', net: '3' },
    });
    // A day with only a reversal: negative money, no approvals to divide by.
    const s3 = r.rows.find((x) => x.source === 's3')!;
    expect(s3).toMatchObject({ revenue: '-1', payout: '-0.7', margin: '-0.3', payout_per_approved: null });
  });

  it('totals per currency add the groups; rewards add per virtual currency within it', () => {
    const r = report();
    const usd = r.totals.find((t) => t.currency === 'USD')!;
    expect(usd).toMatchObject({
      approved: 5,
      released: 1,
      revenue_micros: '8500000',
      payout_micros: '5850000',
      margin_micros: '2650000',
      payout_per_approved_micros: '975000',
      rewards: {
        coins: { issued: '830', reversed: '140', net: '690' },
        gems: { issued: '3', reversed: '0', net: '3' },
      },
    });
    const eur = r.totals.find((t) => t.currency === 'EUR')!;
    expect(eur).toMatchObject({
      revenue: '1.5',
      payout: '1.5',
      margin: '0',
      rewards: { coins: { net: '150' } },
    });
  });

  it('the CSV carries the money columns and three per reward currency; a name is quoted like any cell', () => {
    const r = report();
    r.rows[0]!.rewards['odd,name'] = { issued: '1', reversed: '0', net: '1' };
    const csv = reconCsv(r);
    // RFC 4180 fields (no quoted CRLF here).
    const parse = (line: string) =>
      [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) =>
        m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!,
      );
    const [head, ...lines] = csv.trimEnd().split('\r\n').map(parse);
    expect(head).toEqual(
      expect.arrayContaining([
        'approved_payout_micros',
        'adjusted_payout_micros',
        'revenue_micros',
        'payout_micros',
        'margin_micros',
        'payout_per_approved_micros',
        'revenue',
        'payout',
        'margin',
        'payout_per_approved',
        'rewards:coins:issued',
        'rewards:coins:reversed',
        'rewards:coins:net',
        'rewards:gems:net',
        'rewards:odd,name:issued',
      ]),
    );
    expect(csv.split('\r\n')[0]).toContain(',"rewards:odd,name:issued",');
    const cell = (line: string[], col: string) => line[head!.indexOf(col)];
    const s1 = lines[0]!;
    expect(cell(s1, 'payout')).toBe('4.55');
    expect(cell(s1, 'payout_per_approved')).toBe('1.516667');
    expect(cell(s1, 'rewards:coins:net')).toBe('490');
    expect(cell(s1, 'rewards:gems:net')).toBe('0');
    expect(cell(s1, 'rewards:odd,name:net')).toBe('1');
    const usd = lines.find((l) => l[0] === 'total' && l[1] === 'USD')!;
    expect(cell(usd, 'margin_micros')).toBe('2650000');
    expect(cell(usd, 'rewards:coins:net')).toBe('690');
    // No approvals: the ratio is an empty cell, not 0 or NaN.
    expect(
      cell(
        lines.find((l) => l[0] === 's3')!,
        'payout_per_approved',
      ),
    ).toBe('');
  });
});

describe('report queries and CSV', () => {
  it('names the bad parameter', () => {
    expect(reportQueryProblem({ from: '2026-11-01', to: '2026-11-30', groupBy: ['offer'] })).toBeNull();
    expect(reportQueryProblem({ to: '2026-11-30' })).toMatch(/^from /);
    expect(reportQueryProblem({ from: '2026-02-30', to: '2026-03-01' })).toMatch(
      /^from is not a calendar day/,
    );
    expect(reportQueryProblem({ from: '2026-11-02', to: '2026-11-01' })).toMatch(/not be after/);
    expect(reportQueryProblem({ from: '2026-11-01', to: '2026-11-01', groupBy: ['city'] })).toMatch(
      /^group_by/,
    );
  });

  it('quotes CSV fields and defuses spreadsheet formulas, keeping negative numbers as numbers', () => {
    const row = {
      offer_id: '=HYPERLINK("x")',
      source: 'a,b',
      currency: 'USD',
      adjusted_micros: '-5',
      rejected_by_reason: { 'hard:blocked_geo': 2 },
      rewards: {},
    };
    const csv = reconCsv({
      group_by: ['offer', 'source'],
      rows: [row],
      totals: [],
    } as unknown as ReconReport);
    const [head, line] = csv.split('\r\n');
    expect(head).toContain('rejected:hard:blocked_geo');
    expect(line).toMatch(/^"'=HYPERLINK\(""x""\)","a,b",USD,/);
    expect(line).toContain(',-5,');
    expect(line!.endsWith(',2')).toBe(true);
  });
});

describe('launch gates', () => {
  const criteria = {
    min_postbacks: 10,
    min_acceptance_rate: 0.9,
    max_duplicate_rate: 0.05,
    max_soft_reject_rate: 0.05,
    max_latency_p99_seconds: 3600,
    max_late_rate: 0.1,
  };
  const volume = {
    postbacks: 100,
    accepted: 88,
    held_postbacks: 2,
    duplicates: 5,
    soft_retried: 6,
    late: 1,
    conversions: 90,
    latency: new Map([[60_000, 90]]),
  };

  it('passes at the thresholds and fails past them, naming the measured value', () => {
    const r = Object.fromEntries(evaluateLaunch(criteria, volume).map((x) => [x.criterion, x]));
    expect(r.min_acceptance_rate).toMatchObject({ measured: 0.9, pass: true });
    expect(r.max_duplicate_rate).toMatchObject({ measured: 0.05, pass: true });
    expect(r.max_soft_reject_rate).toMatchObject({ measured: 0.06, pass: false });
    expect(r.max_soft_reject_rate!.detail).toBe('6.00% waited for a retry (at most 5.00%)');
    expect(r.max_latency_p99_seconds!.pass).toBe(true);
  });

  it('fails what it cannot measure: no traffic proves nothing', () => {
    const r = evaluateLaunch(criteria, {
      ...volume,
      postbacks: 0,
      accepted: 0,
      held_postbacks: 0,
      duplicates: 0,
      soft_retried: 0,
      late: 0,
      conversions: 0,
      latency: new Map(),
    });
    expect(r.every((x) => !x.pass)).toBe(true);
  });
});
