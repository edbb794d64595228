import { Inject, Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { CommonEnv } from '@app/config';
import { PeriodicGauges } from '@app/metrics';
import { ALERT_RULES } from '@app/alerts';

/**
 * The in-app alerts as Prometheus gauges, so users who route alerts through Prometheus also get
 * the rules that need read-model data (latency p99, late callbacks...): `alerts_firing` per rule
 * and severity, and webhook notifications waiting or given up. Refreshed every
 * METRICS_REFRESH_MS from the alerts tables by every instance (aggregate with max).
 */
@Injectable()
export class AlertGauges extends PeriodicGauges {
  private readonly firing: Gauge<'rule' | 'severity'>;
  private readonly notifications: Gauge<'status'>;

  constructor(
    @Inject(Registry) registry: Registry,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(CommonEnv) env: CommonEnv,
  ) {
    super(registry, env.METRICS_REFRESH_MS, {
      name: 'alert_gauges',
      label: 'alert gauges',
      help: 'Alert gauge refreshes that failed (the gauges keep their last values)',
    });
    const registers = [registry];
    this.firing = new Gauge({
      name: 'alerts_firing',
      help: 'Alerts the processor evaluates that are firing now, by rule and severity (docs/alerts.md)',
      labelNames: ['rule', 'severity'],
      registers,
    });
    this.notifications = new Gauge({
      name: 'alert_notifications',
      help: 'Alert webhook notifications waiting for delivery (pending) or given up (failed)',
      labelNames: ['status'],
      registers,
    });
  }

  protected async refresh(): Promise<void> {
    if (!this.ds.isInitialized) return;
    const firing = await this.ds.query<{ rule: string; severity: string; n: number }[]>(
      `SELECT rule, severity, count(*)::int AS n FROM alerts WHERE status = 'firing' GROUP BY 1, 2`,
    );
    const counts = new Map(firing.map((f) => [`${f.rule}/${f.severity}`, f.n]));
    // Every rule and severity is present (0 when quiet), so `alerts_firing > 0` rules see them resolve.
    for (const rule of ALERT_RULES)
      for (const severity of ['warning', 'critical'])
        this.firing.labels(rule, severity).set(counts.get(`${rule}/${severity}`) ?? 0);
    const [n] = await this.ds.query<[{ pending: number; failed: number }]>(
      `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
              count(*) FILTER (WHERE status = 'failed')::int AS failed FROM alert_notifications`,
    );
    this.notifications.labels('pending').set(n.pending);
    this.notifications.labels('failed').set(n.failed);
  }
}
