import {
  type AlertCondition,
  type AlertRule,
  type OfferLatency,
  type PartnerCounts,
  type ReadModelInputs,
  type SoftRejectCell,
  type PausedPublisher,
  type SourceBlock,
} from '@app/alerts';
import { quantileOf } from '@app/read-models';

/** Thresholds of every rule (from the ALERT_* env, docs/alerts.md). */
export interface AlertThresholds {
  latencyP99Ms: number;
  latencyMinCount: number;
  lateRate: number;
  lateMinEntries: number;
  softRejectRate: number;
  softRejectMinPostbacks: number;
  /** Percentage points (0..100) the acceptance rate may fall below the partner's baseline. */
  acceptanceDropPoints: number;
  acceptanceMinPostbacks: number;
  lagFloor: number;
  /** Lag now is compared with the lag this many evaluations ago. */
  lagEvaluations: number;
}

export interface DeadLetterState {
  topic: string;
  /** Group whose committed offsets mark what operators replayed. */
  replayGroup: string;
  unreplayed: number;
  partitions: { partition: number; high: number; replayedTo: number }[];
}

export interface LagState {
  group: string;
  topics: string[];
  /** Total lag of the group at each evaluation, oldest first, the last one being now. */
  samples: { at: Date; lag: number }[];
}

/** Everything an evaluation reads; `undefined` Kafka inputs: Kafka did not answer, those rules are skipped. */
export interface AlertInputs {
  now: Date;
  readModels: ReadModelInputs;
  deadLetters: DeadLetterState | undefined;
  lag: LagState | undefined;
}

export interface Evaluation {
  conditions: AlertCondition[];
  /** Rules whose inputs were available: only their alerts can resolve. */
  evaluated: Set<AlertRule>;
}

const ratio = (n: number, d: number) => (d > 0 ? n / d : 0);
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function condition(
  rule: AlertRule,
  subject: string,
  severity: AlertCondition['severity'],
  summary: string,
  evidence: Record<string, unknown>,
): AlertCondition {
  return { key: `${rule}:${subject}`, rule, subject, severity, summary, evidence };
}

/** The query window of "today" rules: the UTC day from midnight to the evaluation. */
const dayWindow = (day: string, now: Date) => ({ day, from: `${day}T00:00:00.000Z`, to: now.toISOString() });

/** click_to_conversion p99 per offer today, estimated from the latency_daily buckets. */
export function latencyRule(
  offers: OfferLatency[],
  t: AlertThresholds,
  day: string,
  now: Date,
): AlertCondition[] {
  const out: AlertCondition[] = [];
  for (const o of offers) {
    const count = [...o.counts.values()].reduce((a, b) => a + b, 0);
    if (count < t.latencyMinCount) continue;
    const p99 = quantileOf({ counts: o.counts }, 0.99);
    if (p99 === null || p99 <= t.latencyP99Ms) continue;
    out.push(
      condition(
        'latency_p99',
        o.offerId,
        'warning',
        `Offer ${o.offerId}: click-to-conversion p99 ${Math.round(p99 / 1000)} s today, above ${Math.round(t.latencyP99Ms / 1000)} s`,
        {
          metric: 'click_to_conversion',
          p99_ms: p99,
          threshold_ms: t.latencyP99Ms,
          conversions: count,
          min_conversions: t.latencyMinCount,
          buckets: Object.fromEntries([...o.counts].sort(([a], [b]) => a - b)),
          window: dayWindow(day, now),
          source: 'latency_daily',
        },
      ),
    );
  }
  return out;
}

/** Late-valid entries over the partner's entries (approved + held + pending) today. */
export function lateCallbacksRule(
  today: PartnerCounts[],
  t: AlertThresholds,
  day: string,
  now: Date,
): AlertCondition[] {
  const out: AlertCondition[] = [];
  for (const p of today) {
    const entries = p.approved + p.held + p.pending;
    if (entries < t.lateMinEntries || entries === 0) continue;
    const rate = ratio(p.late, entries);
    if (rate <= t.lateRate) continue;
    out.push(
      condition(
        'late_callbacks',
        p.partnerId,
        'warning',
        `Partner ${p.partnerId}: ${pct(rate)} of today's conversions arrived late (${p.late} of ${entries}), above ${pct(t.lateRate)}`,
        {
          late: p.late,
          entries,
          approved: p.approved,
          held: p.held,
          pending: p.pending,
          rate: r4(rate),
          threshold: t.lateRate,
          min_entries: t.lateMinEntries,
          window: dayWindow(day, now),
          source: 'recon_daily',
        },
      ),
    );
  }
  return out;
}

/** Postbacks that needed a retry (soft reject) over postbacks, per partner x placement today. */
export function softRejectRule(
  cells: SoftRejectCell[],
  t: AlertThresholds,
  day: string,
  now: Date,
): AlertCondition[] {
  const out: AlertCondition[] = [];
  for (const c of cells) {
    if (c.postbacks < t.softRejectMinPostbacks || c.postbacks === 0) continue;
    const rate = ratio(c.softRetried, c.postbacks);
    if (rate <= t.softRejectRate) continue;
    const placement = c.placement === '' ? '(none)' : c.placement;
    out.push(
      condition(
        'soft_reject_rate',
        `${c.partnerId}/${placement}`,
        'warning',
        `Partner ${c.partnerId}, placement ${placement}: ${pct(rate)} of today's postbacks were soft-rejected and retried (${c.softRetried} of ${c.postbacks}), above ${pct(t.softRejectRate)}`,
        {
          partner_id: c.partnerId,
          placement: c.placement === '' ? null : c.placement,
          soft_retried: c.softRetried,
          postbacks: c.postbacks,
          rate: r4(rate),
          threshold: t.softRejectRate,
          min_postbacks: t.softRejectMinPostbacks,
          window: dayWindow(day, now),
          source: 'recon_daily',
        },
      ),
    );
  }
  return out;
}

const acceptance = (p: PartnerCounts) => ratio(p.accepted + p.heldPostbacks, p.postbacks);

/** Today's acceptance rate against the partner's previous days, in percentage points. */
export function acceptanceDropRule(
  today: PartnerCounts[],
  baseline: PartnerCounts[],
  t: AlertThresholds,
  m: Pick<ReadModelInputs, 'day' | 'baselineFrom' | 'baselineTo'>,
  now: Date,
): AlertCondition[] {
  const before = new Map(baseline.map((b) => [b.partnerId, b]));
  const out: AlertCondition[] = [];
  for (const p of today) {
    const b = before.get(p.partnerId);
    if (!b || p.postbacks < t.acceptanceMinPostbacks || b.postbacks < t.acceptanceMinPostbacks) continue;
    const [rateToday, rateBefore] = [acceptance(p), acceptance(b)];
    const dropPoints = (rateBefore - rateToday) * 100;
    if (dropPoints <= t.acceptanceDropPoints) continue;
    out.push(
      condition(
        'acceptance_drop',
        p.partnerId,
        'critical',
        `Partner ${p.partnerId}: acceptance ${pct(rateToday)} today vs ${pct(rateBefore)} over the previous days (-${dropPoints.toFixed(1)} points)`,
        {
          today: { postbacks: p.postbacks, accepted: p.accepted, held: p.heldPostbacks, rate: r4(rateToday) },
          baseline: {
            postbacks: b.postbacks,
            accepted: b.accepted,
            held: b.heldPostbacks,
            rate: r4(rateBefore),
            from: m.baselineFrom,
            to: m.baselineTo,
          },
          drop_points: Math.round(dropPoints * 100) / 100,
          threshold_points: t.acceptanceDropPoints,
          min_postbacks: t.acceptanceMinPostbacks,
          window: dayWindow(m.day, now),
          source: 'recon_daily',
        },
      ),
    );
  }
  return out;
}

/** Messages on dead.letters past what the replay group has taken. */
export function deadLettersRule(d: DeadLetterState, now: Date): AlertCondition[] {
  if (d.unreplayed <= 0) return [];
  return [
    condition(
      'dead_letters',
      d.topic,
      'warning',
      `${d.unreplayed} dead letter(s) not replayed on ${d.topic}: some postbacks or clicks have no outcome yet`,
      {
        unreplayed: d.unreplayed,
        replay_group: d.replayGroup,
        partitions: d.partitions.filter((p) => p.high > p.replayedTo),
        checked_at: now.toISOString(),
        source: 'kafka offsets',
      },
    ),
  ];
}

/** The group's total lag above the floor and above what it was `lagEvaluations` evaluations ago. */
export function consumerLagRule(l: LagState, t: AlertThresholds): AlertCondition[] {
  const now = l.samples[l.samples.length - 1];
  const then = l.samples[l.samples.length - 1 - t.lagEvaluations];
  if (!now || !then || now.lag < t.lagFloor || now.lag <= then.lag) return [];
  return [
    condition(
      'consumer_lag',
      l.group,
      'critical',
      `Consumer group ${l.group} is ${now.lag} messages behind and falling further behind (${then.lag} at ${then.at.toISOString()})`,
      {
        lag: now.lag,
        lag_before: then.lag,
        floor: t.lagFloor,
        evaluations: t.lagEvaluations,
        topics: l.topics,
        samples: l.samples.map((s) => ({ at: s.at.toISOString(), lag: s.lag })),
        window: { from: then.at.toISOString(), to: now.at.toISOString() },
        source: 'kafka offsets',
      },
    ),
  ];
}

/** Sources the routing policy controlled (block, hold, reduced cap) for their rejection rate. */
export function sourceBlockedRule(blocks: SourceBlock[]): AlertCondition[] {
  return blocks.map((b) =>
    condition(
      'source_blocked',
      `${b.kind}:${b.publisherId}/${b.value}`,
      'warning',
      `Source ${b.publisherId} ${b.kind}=${b.value} crossed its rejection threshold (${b.rejected} of ${b.decided} conversions rejected): ${b.reason}`,
      {
        kind: b.kind,
        publisher_id: b.publisherId,
        value: b.value,
        decided: b.decided,
        rejected: b.rejected,
        rejection_rate: r4(ratio(b.rejected, b.decided)),
        blocked_at: b.blockedAt.toISOString(),
        reason: b.reason,
        source: 'source_controls',
      },
    ),
  );
}

/** Publisher endpoints the notifier paused: their conversions wait until an operator resumes them. */
export function publisherPausedRule(paused: PausedPublisher[]): AlertCondition[] {
  return paused.map((p) =>
    condition(
      'publisher_paused',
      p.publisherId,
      'critical',
      `Publisher ${p.publisherId}: postbacks paused since ${p.pausedAt.toISOString()} (${p.reason}); resume with POST /v1/admin/publishers/${p.publisherId}/postback/resume`,
      {
        publisher_id: p.publisherId,
        paused_at: p.pausedAt.toISOString(),
        reason: p.reason,
        consecutive_failures: p.failures,
        source: 'publisher_postbacks',
      },
    ),
  );
}

/** Every rule over one evaluation's inputs. */
export function evaluateAlerts(i: AlertInputs, t: AlertThresholds): Evaluation {
  const m = i.readModels;
  const conditions = [
    ...latencyRule(m.latency, t, m.day, i.now),
    ...lateCallbacksRule(m.today, t, m.day, i.now),
    ...softRejectRule(m.softRejects, t, m.day, i.now),
    ...acceptanceDropRule(m.today, m.baseline, t, m, i.now),
    ...sourceBlockedRule(m.blocks),
    ...publisherPausedRule(m.pausedPublishers),
  ];
  const evaluated = new Set<AlertRule>([
    'latency_p99',
    'late_callbacks',
    'soft_reject_rate',
    'acceptance_drop',
    'source_blocked',
    'publisher_paused',
  ]);
  if (i.deadLetters) {
    conditions.push(...deadLettersRule(i.deadLetters, i.now));
    evaluated.add('dead_letters');
  }
  if (i.lag) {
    conditions.push(...consumerLagRule(i.lag, t));
    evaluated.add('consumer_lag');
  }
  return { conditions, evaluated };
}
