import type { EntityManager } from 'typeorm';

/** Advisory lock held by the one alert evaluator running at a time across processor instances. */
export const ALERTS_LOCK = 7_331_003;

export type AlertSeverity = 'warning' | 'critical';
export const ALERT_RULES = [
  'latency_p99',
  'late_callbacks',
  'soft_reject_rate',
  'acceptance_drop',
  'dead_letters',
  'consumer_lag',
  'source_blocked',
  'publisher_paused',
] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

/** A rule's condition holding for one subject at one evaluation. */
export interface AlertCondition {
  /** `<rule>:<subject>`: stable across evaluations, so an alert fires once per episode. */
  key: string;
  rule: AlertRule;
  subject: string;
  severity: AlertSeverity;
  summary: string;
  evidence: Record<string, unknown>;
}

export type AlertEvent = 'firing' | 'resolved';

export interface ReconcileResult {
  fired: string[];
  resolved: string[];
  firing: number;
}

interface FiringRow {
  id: string;
  key: string;
  rule: AlertRule;
  subject: string;
  severity: AlertSeverity;
  summary: string;
  evidence: Record<string, unknown>;
  first_fired_at: Date;
}

/** The webhook body for an alert event; frozen when the event happens. */
export function alertPayload(
  event: AlertEvent,
  a: Omit<FiringRow, 'id'>,
  at: Date,
  resolvedAt: Date | null,
): Record<string, unknown> {
  return {
    schema_version: 1,
    event,
    at: at.toISOString(),
    alert: {
      key: a.key,
      rule: a.rule,
      subject: a.subject,
      severity: a.severity,
      status: event,
      summary: a.summary,
      evidence: a.evidence,
      first_fired_at: a.first_fired_at.toISOString(),
      resolved_at: resolvedAt?.toISOString() ?? null,
    },
  };
}

/** `<key>@<first fired at, ms>:<event>`: one per alert event, the same on every delivery attempt. */
export const idempotencyKey = (key: string, firedAt: Date, event: AlertEvent) =>
  `${key}@${firedAt.getTime()}:${event}`;

async function enqueue(
  em: EntityManager,
  alertId: string,
  event: AlertEvent,
  a: Omit<FiringRow, 'id'>,
  now: Date,
  resolvedAt: Date | null,
): Promise<void> {
  await em.query(
    `INSERT INTO alert_notifications (alert_id, event, idempotency_key, payload, status, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, 'pending', $5, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      alertId,
      event,
      idempotencyKey(a.key, a.first_fired_at, event),
      JSON.stringify(alertPayload(event, a, now, resolvedAt)),
      now,
    ],
  );
}

/**
 * Applies one evaluation in the caller's transaction: conditions not firing yet fire (and queue a
 * `firing` notification), firing ones are refreshed, and firing alerts of an evaluated rule whose
 * condition no longer holds resolve (and queue a `resolved` one). Rules that could not be
 * evaluated (their inputs were unavailable) keep their alerts as they are.
 */
export async function reconcileAlerts(
  em: EntityManager,
  conditions: AlertCondition[],
  evaluated: ReadonlySet<AlertRule>,
  now: Date,
  notify: boolean,
): Promise<ReconcileResult> {
  const firing = await em.query<FiringRow[]>(
    `SELECT id, key, rule, subject, severity, summary, evidence, first_fired_at
       FROM alerts WHERE status = 'firing' ORDER BY key FOR UPDATE`,
  );
  const byKey = new Map(firing.map((f) => [f.key, f]));
  // The column's bound; subjects are ids, so this only ever trims an unusually long summary.
  conditions = conditions.map((c) => ({ ...c, summary: c.summary.slice(0, 512) }));
  const holding = new Set(conditions.map((c) => c.key));
  const result: ReconcileResult = { fired: [], resolved: [], firing: 0 };
  for (const c of conditions) {
    const existing = byKey.get(c.key);
    if (existing) {
      await em.query(
        `UPDATE alerts SET severity = $2, summary = $3, evidence = $4, last_evaluated_at = $5 WHERE id = $1`,
        [existing.id, c.severity, c.summary, JSON.stringify(c.evidence), now],
      );
      continue;
    }
    const [row] = await em.query<[{ id: string }]>(
      `INSERT INTO alerts (key, rule, subject, severity, status, summary, evidence, first_fired_at, last_evaluated_at)
       VALUES ($1, $2, $3, $4, 'firing', $5, $6, $7, $7) RETURNING id`,
      [c.key, c.rule, c.subject, c.severity, c.summary, JSON.stringify(c.evidence), now],
    );
    result.fired.push(c.key);
    if (notify) await enqueue(em, row.id, 'firing', { ...c, first_fired_at: now }, now, null);
  }
  for (const f of firing) {
    if (holding.has(f.key) || !evaluated.has(f.rule)) continue;
    await em.query(
      `UPDATE alerts SET status = 'resolved', resolved_at = $2, last_evaluated_at = $2 WHERE id = $1`,
      [f.id, now],
    );
    result.resolved.push(f.key);
    if (notify) await enqueue(em, f.id, 'resolved', f, now, now);
  }
  result.firing = firing.length + result.fired.length - result.resolved.length;
  return result;
}

export interface ListAlertsOptions {
  /** firing only (default), or also those resolved in the last `resolvedWithinHours`. */
  status: 'firing' | 'all';
  resolvedWithinHours?: number;
  limit?: number;
}

/** Alerts with their evidence and webhook delivery state, firing first, newest first. */
export async function listAlerts(
  em: EntityManager,
  opts: ListAlertsOptions,
): Promise<Record<string, unknown>[]> {
  const hours = opts.resolvedWithinHours ?? 24 * 7;
  return em.query<Record<string, unknown>[]>(
    `SELECT a.key, a.rule, a.subject, a.severity, a.status, a.summary, a.evidence,
            a.first_fired_at, a.last_evaluated_at, a.resolved_at, a.notified_at,
            COALESCE((SELECT json_agg(json_build_object(
                       'event', n.event, 'status', n.status, 'attempts', n.attempts,
                       'next_attempt_at', CASE WHEN n.status = 'pending' THEN n.next_attempt_at END,
                       'delivered_at', n.delivered_at, 'last_attempt', n.attempt_log->-1) ORDER BY n.id)
                        FROM alert_notifications n WHERE n.alert_id = a.id), '[]'::json) AS notifications
       FROM alerts a
      WHERE a.status = 'firing' OR ($1 = 'all' AND a.resolved_at > now() - make_interval(hours => $2))
      ORDER BY a.status = 'firing' DESC, a.first_fired_at DESC, a.key
      LIMIT $3`,
    [opts.status, hours, opts.limit ?? 500],
  );
}

/** Keeps the last hour of a series' samples and returns the newest `keep` of them, oldest first. */
export async function recordSample(
  em: EntityManager,
  series: string,
  at: Date,
  value: number,
  keep: number,
): Promise<{ at: Date; value: number }[]> {
  await em.query(`INSERT INTO alert_samples (series, at, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
    series,
    at,
    value,
  ]);
  await em.query(`DELETE FROM alert_samples WHERE series = $1 AND at < $2::timestamptz - interval '1 hour'`, [
    series,
    at,
  ]);
  const rows = await em.query<{ at: Date; value: string }[]>(
    `SELECT at, value FROM alert_samples WHERE series = $1 ORDER BY at DESC LIMIT $2`,
    [series, keep],
  );
  return rows.reverse().map((r) => ({ at: r.at, value: Number(r.value) }));
}
