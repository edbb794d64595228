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
import { type ReconReport, reconCsv, reportQueryProblem } from './reports';

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
