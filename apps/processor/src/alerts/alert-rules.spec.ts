import type { PartnerCounts, ReadModelInputs } from '@app/alerts';
import {
  acceptanceDropRule,
  type AlertThresholds,
  consumerLagRule,
  deadLettersRule,
  evaluateAlerts,
  lateCallbacksRule,
  latencyRule,
  softRejectRule,
  publisherPausedRule,
  sourceBlockedRule,
} from './alert-rules';

const T: AlertThresholds = {
  latencyP99Ms: 3_600_000,
  latencyMinCount: 10,
  lateRate: 0.1,
  lateMinEntries: 10,
  softRejectRate: 0.2,
  softRejectMinPostbacks: 10,
  acceptanceDropPoints: 20,
  acceptanceMinPostbacks: 10,
  lagFloor: 100,
  lagEvaluations: 2,
};
const DAY = '2026-11-24';
const NOW = new Date('2026-11-24T12:00:00Z');
const partner = (partnerId: string, c: Partial<PartnerCounts>): PartnerCounts => ({
  partnerId,
  postbacks: 0,
  accepted: 0,
  heldPostbacks: 0,
  late: 0,
  approved: 0,
  held: 0,
  pending: 0,
  ...c,
});

describe('latency_p99', () => {
  it('fires for an offer whose p99 estimate is above the threshold, with the buckets as evidence', () => {
    const slow = new Map([
      [60_000, 5],
      [10_800_000, 5],
    ]);
    const fast = new Map([[60_000, 50]]);
    const out = latencyRule(
      [
        { offerId: 'o-slow', counts: slow },
        { offerId: 'o-fast', counts: fast },
      ],
      T,
      DAY,
      NOW,
    );
    expect(out.map((a) => a.key)).toEqual(['latency_p99:o-slow']);
    expect(out[0]!.evidence).toMatchObject({
      conversions: 10,
      threshold_ms: 3_600_000,
      buckets: { '60000': 5, '10800000': 5 },
      window: { day: DAY, from: '2026-11-24T00:00:00.000Z', to: NOW.toISOString() },
    });
    expect(out[0]!.evidence.p99_ms).toBeGreaterThan(3_600_000);
    expect(out[0]!.severity).toBe('warning');
  });

  it('needs the minimum number of conversions', () => {
    expect(latencyRule([{ offerId: 'o', counts: new Map([[-1, 9]]) }], T, DAY, NOW)).toEqual([]);
    expect(latencyRule([{ offerId: 'o', counts: new Map([[-1, 10]]) }], T, DAY, NOW)).toHaveLength(1);
  });
});

describe('late_callbacks', () => {
  it('fires above the rate with enough entries, and not at the rate or below the volume', () => {
    const out = lateCallbacksRule(
      [
        partner('p-late', { approved: 15, pending: 5, late: 3 }),
        partner('p-ok', { approved: 20, late: 2 }),
        partner('p-small', { approved: 5, late: 5 }),
      ],
      T,
      DAY,
      NOW,
    );
    expect(out.map((a) => a.key)).toEqual(['late_callbacks:p-late']);
    expect(out[0]!.evidence).toMatchObject({ late: 3, entries: 20, rate: 0.15, threshold: 0.1 });
  });
});

describe('soft_reject_rate', () => {
  it('fires per partner and placement; an empty placement is shown as (none)', () => {
    const out = softRejectRule(
      [
        { partnerId: 'p', placement: 'wall', postbacks: 10, softRetried: 3 },
        { partnerId: 'p', placement: '', postbacks: 20, softRetried: 5 },
        { partnerId: 'p', placement: 'top', postbacks: 10, softRetried: 2 },
        { partnerId: 'q', placement: 'wall', postbacks: 9, softRetried: 9 },
      ],
      T,
      DAY,
      NOW,
    );
    expect(out.map((a) => a.key)).toEqual(['soft_reject_rate:p/wall', 'soft_reject_rate:p/(none)']);
    expect(out[1]!.evidence).toMatchObject({ placement: null, soft_retried: 5, postbacks: 20, rate: 0.25 });
  });
});

describe('acceptance_drop', () => {
  const m: Pick<ReadModelInputs, 'day' | 'baselineFrom' | 'baselineTo'> = {
    day: DAY,
    baselineFrom: '2026-11-17',
    baselineTo: '2026-11-23',
  };
  it('fires when today is more than the points below the baseline, counting held postbacks as accepted', () => {
    const today = [
      partner('p-drop', { postbacks: 20, accepted: 10, heldPostbacks: 2 }),
      partner('p-same', { postbacks: 20, accepted: 18 }),
      partner('p-new', { postbacks: 20, accepted: 1 }),
    ];
    const baseline = [
      partner('p-drop', { postbacks: 100, accepted: 90, heldPostbacks: 5 }),
      partner('p-same', { postbacks: 100, accepted: 95 }),
    ];
    const out = acceptanceDropRule(today, baseline, T, m, NOW);
    expect(out.map((a) => a.key)).toEqual(['acceptance_drop:p-drop']);
    expect(out[0]!.severity).toBe('critical');
    expect(out[0]!.evidence).toMatchObject({
      today: { rate: 0.6 },
      baseline: { rate: 0.95, from: '2026-11-17', to: '2026-11-23' },
      drop_points: 35,
    });
  });

  it('needs volume on both sides', () => {
    const today = [partner('p', { postbacks: 9, accepted: 0 })];
    const baseline = [partner('p', { postbacks: 100, accepted: 100 })];
    expect(acceptanceDropRule(today, baseline, T, m, NOW)).toEqual([]);
    expect(
      acceptanceDropRule(
        [partner('p', { postbacks: 50 })],
        [partner('p', { postbacks: 9, accepted: 9 })],
        T,
        m,
        NOW,
      ),
    ).toEqual([]);
  });
});

describe('dead_letters', () => {
  it('fires while messages are past the replay group, listing only those partitions', () => {
    const out = deadLettersRule(
      {
        topic: 'dead.letters',
        replayGroup: 'dead-letter-replay',
        unreplayed: 2,
        partitions: [
          { partition: 0, high: 5, replayedTo: 3 },
          { partition: 1, high: 4, replayedTo: 4 },
        ],
      },
      NOW,
    );
    expect(out.map((a) => a.key)).toEqual(['dead_letters:dead.letters']);
    expect(out[0]!.evidence.partitions).toEqual([{ partition: 0, high: 5, replayedTo: 3 }]);
    expect(
      deadLettersRule({ topic: 'dead.letters', replayGroup: 'g', unreplayed: 0, partitions: [] }, NOW),
    ).toEqual([]);
  });
});

describe('consumer_lag', () => {
  const at = (s: number) => new Date(NOW.getTime() + s * 1000);
  const lag = (...values: number[]) => ({
    group: 'ledger-processor',
    topics: ['postbacks.received'],
    samples: values.map((v, i) => ({ at: at(i * 15), lag: v })),
  });
  it('fires when above the floor and higher than N evaluations ago', () => {
    const out = consumerLagRule(lag(50, 120, 300), T);
    expect(out.map((a) => a.key)).toEqual(['consumer_lag:ledger-processor']);
    expect(out[0]!.evidence).toMatchObject({ lag: 300, lag_before: 50, floor: 100, evaluations: 2 });
  });
  it('does not fire below the floor, when shrinking, or without enough history', () => {
    expect(consumerLagRule(lag(10, 20, 99), T)).toEqual([]);
    expect(consumerLagRule(lag(500, 400, 300), T)).toEqual([]);
    expect(consumerLagRule(lag(300, 300), T)).toEqual([]);
  });
});

describe('source_blocked', () => {
  it('fires for each blocked source', () => {
    const out = sourceBlockedRule([
      {
        kind: 'sub1',
        publisherId: 'pub-1',
        value: 'src-9',
        blockedAt: NOW,
        decided: 50,
        rejected: 30,
        reason: 'rejection rate 0.6',
      },
    ]);
    expect(out.map((a) => a.key)).toEqual(['source_blocked:sub1:pub-1/src-9']);
    expect(out[0]!.evidence).toMatchObject({ rejection_rate: 0.6, decided: 50, rejected: 30 });
  });
});

describe('publisherPausedRule', () => {
  it('is critical per paused publisher, with how to resume', () => {
    const out = publisherPausedRule([
      { publisherId: 'pub-7', pausedAt: NOW, reason: '50 failures in a row', failures: 50 },
    ]);
    expect(out.map((a) => [a.key, a.severity])).toEqual([['publisher_paused:pub-7', 'critical']]);
    expect(out[0]!.summary).toContain('/v1/admin/publishers/pub-7/postback/resume');
  });
});

describe('evaluateAlerts', () => {
  const readModels: ReadModelInputs = {
    day: DAY,
    baselineFrom: '2026-11-17',
    baselineTo: '2026-11-23',
    latency: [],
    today: [],
    baseline: [],
    softRejects: [],
    blocks: [],
    pausedPublishers: [],
  };
  it('skips (does not resolve) the Kafka rules when their inputs are unavailable', () => {
    const e = evaluateAlerts({ now: NOW, readModels, deadLetters: undefined, lag: undefined }, T);
    expect(e.conditions).toEqual([]);
    expect(e.evaluated.has('dead_letters')).toBe(false);
    expect(e.evaluated.has('consumer_lag')).toBe(false);
    expect(e.evaluated.has('soft_reject_rate')).toBe(true);
  });
  it('evaluates every rule when everything answered', () => {
    const e = evaluateAlerts(
      {
        now: NOW,
        readModels,
        deadLetters: { topic: 'dead.letters', replayGroup: 'g', unreplayed: 1, partitions: [] },
        lag: { group: 'g', topics: [], samples: [] },
      },
      T,
    );
    expect([...e.evaluated].sort()).toHaveLength(8);
    expect(e.conditions.map((c) => c.key)).toEqual(['dead_letters:dead.letters']);
  });
});
