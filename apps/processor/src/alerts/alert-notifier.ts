import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ProcessorEnv } from '../processor.env';
import { type AttemptOutcome, backoffMs, classifyStatus, webhookHeaders } from './alert-webhook';

const BATCH = 20;
const TICK_MS = 500;

interface Claimed {
  id: string;
  alert_id: string;
  idempotency_key: string;
  payload: Record<string, unknown>;
  attempts: number;
}

/**
 * Delivers queued alert events to ALERT_WEBHOOK_URL. Rows are claimed with a lease (their next
 * attempt pushed past the delivery timeout) so instances never send one at the same time, and
 * a crash mid-delivery only means a later retry with the same Idempotency-Key. Per alert, an
 * event is sent only after the earlier ones are done (a `resolved` never overtakes its `firing`).
 * Runs apart from the evaluator: a slow receiver never delays evaluation.
 */
@Injectable()
export class AlertNotifier implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(AlertNotifier.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastError: string | undefined;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(ProcessorEnv) private readonly env: ProcessorEnv,
  ) {}

  onApplicationBootstrap(): void {
    if (this.env.ALERT_WEBHOOK_URL === '') return;
    this.timer = setInterval(() => this.kick(), TICK_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  kick(): void {
    if (this.running) return;
    this.running = this.deliverDue()
      .then(() => (this.lastError = undefined))
      .catch((e: unknown) => {
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== this.lastError) this.log.warn(`alert notifier: ${msg}`);
        this.lastError = msg;
      })
      .finally(() => (this.running = undefined));
  }

  private async deliverDue(): Promise<void> {
    const leaseMs = this.env.ALERT_WEBHOOK_TIMEOUT_MS * 2 + 1000;
    // UPDATE ... RETURNING answers [rows, affected count].
    const [claimed] = await this.ds.query<[Claimed[], number]>(
      `UPDATE alert_notifications SET next_attempt_at = now() + make_interval(secs => $2::float8 / 1000)
        WHERE id IN (
          SELECT n.id FROM alert_notifications n
           WHERE n.status = 'pending' AND n.next_attempt_at <= now()
             AND NOT EXISTS (SELECT 1 FROM alert_notifications p
                              WHERE p.alert_id = n.alert_id AND p.id < n.id AND p.status = 'pending')
           ORDER BY n.id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING id, alert_id, idempotency_key, payload, attempts`,
      [BATCH, leaseMs],
    );
    await Promise.all(claimed.map((n) => this.deliver(n)));
  }

  private async attempt(n: Claimed): Promise<AttemptOutcome> {
    const body = JSON.stringify(n.payload);
    const headers = webhookHeaders(
      this.env.ALERT_WEBHOOK_SECRET,
      body,
      n.idempotency_key,
      Math.floor(Date.now() / 1000),
    );
    try {
      const res = await fetch(this.env.ALERT_WEBHOOK_URL, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.env.ALERT_WEBHOOK_TIMEOUT_MS),
      });
      await res.arrayBuffer().catch(() => undefined);
      return classifyStatus(res.status);
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      const why =
        err.name === 'TimeoutError'
          ? `timeout after ${this.env.ALERT_WEBHOOK_TIMEOUT_MS} ms`
          : (err.cause?.code ?? err.message);
      return { kind: 'retry', error: why };
    }
  }

  private async deliver(n: Claimed): Promise<void> {
    const started = Date.now();
    const outcome = await this.attempt(n);
    const attempts = n.attempts + 1;
    const record = {
      at: new Date(started).toISOString(),
      ms: Date.now() - started,
      ...('status' in outcome && outcome.status !== undefined ? { status: outcome.status } : {}),
      ...('error' in outcome ? { error: outcome.error } : {}),
    };
    const exhausted = attempts >= this.env.ALERT_WEBHOOK_MAX_ATTEMPTS;
    let status: 'delivered' | 'pending' | 'failed';
    switch (outcome.kind) {
      case 'delivered':
        status = 'delivered';
        break;
      case 'retry':
        status = exhausted ? 'failed' : 'pending';
        break;
      case 'refused':
        status = 'failed';
        break;
    }
    const delay = backoffMs(attempts, this.env.ALERT_WEBHOOK_BACKOFF_MS);
    await this.ds.transaction(async (em) => {
      await em.query(
        `UPDATE alert_notifications
            SET status = $2::varchar, attempts = $3, attempt_log = attempt_log || $4::jsonb,
                next_attempt_at = CASE WHEN $2::varchar = 'pending' THEN now() + make_interval(secs => $5::float8 / 1000) ELSE next_attempt_at END,
                delivered_at = CASE WHEN $2::varchar = 'delivered' THEN now() END
          WHERE id = $1`,
        [n.id, status, attempts, JSON.stringify([record]), delay],
      );
      if (status === 'delivered')
        await em.query(`UPDATE alerts SET notified_at = now() WHERE id = $1`, [n.alert_id]);
    });
    if (status === 'failed')
      this.log.warn(
        `alert webhook gave up on ${n.idempotency_key} after ${attempts} attempt(s): ${'error' in outcome ? outcome.error : ''}`,
      );
    else if (status === 'pending')
      this.log.debug(`alert webhook ${n.idempotency_key}: ${record.error ?? ''}; retry in ${delay} ms`);
  }
}
