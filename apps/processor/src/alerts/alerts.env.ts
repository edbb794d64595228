import { Transform } from 'class-transformer';
import { IsInt, IsNumber, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';
import { CommonEnv, toInt } from '@app/config';
import type { AlertThresholds } from './alert-rules';

const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d*\.?\d+$/.test(value.trim()) ? Number(value) : value;

const rate = (name: string) => IsNumber({}, { message: `${name} must be a number between 0 and 1` });

/** The processor's alert evaluator and webhook (docs/alerts.md). */
export class AlertsEnv extends CommonEnv {
  /** How often the rules are evaluated; 0 turns the evaluator off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  ALERT_EVAL_MS = 15_000;

  /** latency_p99: an offer's click-to-conversion p99 today above this (ms)... */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  ALERT_LATENCY_P99_MS = 3_600_000;
  /** ...over at least this many conversions. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ALERT_LATENCY_MIN_CONVERSIONS = 20;

  /** late_callbacks: a partner's late entries over its entries today above this rate... */
  @Transform(toNumber)
  @rate('ALERT_LATE_RATE')
  @Min(0)
  @Max(1)
  ALERT_LATE_RATE = 0.05;
  /** ...over at least this many entries (approved + held + pending). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ALERT_LATE_MIN_ENTRIES = 20;

  /** soft_reject_rate: soft-retried postbacks per partner x placement today above this rate... */
  @Transform(toNumber)
  @rate('ALERT_SOFT_REJECT_RATE')
  @Min(0)
  @Max(1)
  ALERT_SOFT_REJECT_RATE = 0.2;
  /** ...over at least this many postbacks. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ALERT_SOFT_REJECT_MIN_POSTBACKS = 50;

  /** acceptance_drop: today's acceptance rate below the previous 7 days' by more than these points... */
  @Transform(toNumber)
  @IsNumber({}, { message: 'ALERT_ACCEPTANCE_DROP_POINTS must be percentage points (0-100)' })
  @Min(0)
  @Max(100)
  ALERT_ACCEPTANCE_DROP_POINTS = 20;
  /** ...with at least this many postbacks today and in the baseline. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  ALERT_ACCEPTANCE_MIN_POSTBACKS = 50;

  /** consumer_lag: the processor group's lag at least this many messages... */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  ALERT_LAG_FLOOR = 1000;
  /** ...and higher than it was this many evaluations ago. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  ALERT_LAG_EVALUATIONS = 4;

  /** Where alert events are POSTed (empty: no webhook; alerts are still listed by the admin API). */
  @ValidateIf((e: AlertsEnv) => e.ALERT_WEBHOOK_URL !== '')
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'ALERT_WEBHOOK_URL must be an http(s) URL' })
  ALERT_WEBHOOK_URL = '';

  /** HMAC-SHA256 key of the webhook signature; required with ALERT_WEBHOOK_URL. */
  @ValidateIf((e: AlertsEnv) => e.ALERT_WEBHOOK_URL !== '' || e.ALERT_WEBHOOK_SECRET !== '')
  @MinLength(16, {
    message: 'ALERT_WEBHOOK_SECRET must be at least 16 characters (required with ALERT_WEBHOOK_URL)',
  })
  ALERT_WEBHOOK_SECRET = '';

  /** One delivery attempt's time limit. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  ALERT_WEBHOOK_TIMEOUT_MS = 5000;

  /** Attempts per notification before it is recorded as failed. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(50)
  ALERT_WEBHOOK_MAX_ATTEMPTS = 10;

  /** First retry delay; doubled after each failure (capped at 10 min), jittered ±20%. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(600_000)
  ALERT_WEBHOOK_BACKOFF_MS = 2000;
}

export function alertThresholds(env: AlertsEnv): AlertThresholds {
  return {
    latencyP99Ms: env.ALERT_LATENCY_P99_MS,
    latencyMinCount: env.ALERT_LATENCY_MIN_CONVERSIONS,
    lateRate: env.ALERT_LATE_RATE,
    lateMinEntries: env.ALERT_LATE_MIN_ENTRIES,
    softRejectRate: env.ALERT_SOFT_REJECT_RATE,
    softRejectMinPostbacks: env.ALERT_SOFT_REJECT_MIN_POSTBACKS,
    acceptanceDropPoints: env.ALERT_ACCEPTANCE_DROP_POINTS,
    acceptanceMinPostbacks: env.ALERT_ACCEPTANCE_MIN_POSTBACKS,
    lagFloor: env.ALERT_LAG_FLOOR,
    lagEvaluations: env.ALERT_LAG_EVALUATIONS,
  };
}
