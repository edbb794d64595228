import { Transform } from 'class-transformer';
import { IsInt, IsIP, Max, Min } from 'class-validator';
import { EdgeEnv, portField, toInt } from '@app/config';

const HOUR_MS = 3_600_000;

export class NotifierEnv extends EdgeEnv {
  /** Health and metrics endpoint of this worker. */
  @portField()
  HEALTH_PORT = 3002;

  @IsIP(undefined, { message: 'HOST must be an IP address to listen on' })
  HOST = '127.0.0.1';

  /** Ledger partitions handled in parallel by one instance. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  PARTITIONS_CONCURRENCY = 2;

  /** HTTP calls to publishers in flight at once, per instance. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  DELIVERY_CONCURRENCY = 16;

  /**
   * Calls to one publisher in flight at once, per instance: a publisher that answers slowly (or
   * never) holds at most this many of the DELIVERY_CONCURRENCY slots; the others keep flowing.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  PUBLISHER_CONCURRENCY = 4;

  /** A publisher's answer body is read up to this many bytes (then the connection is dropped). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(16 * 1024 * 1024)
  DELIVERY_MAX_ANSWER_BYTES = 64 * 1024;

  /** A publisher that has not answered (headers and body) by then is a failed attempt (retried). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  DELIVERY_TIMEOUT_MS = 10_000;

  /** First retry delay; doubles per attempt up to DELIVERY_BACKOFF_MAX_MS, jittered ±20 %. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  DELIVERY_BACKOFF_BASE_MS = 10_000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  DELIVERY_BACKOFF_MAX_MS = HOUR_MS;

  /** Retry window from the first attempt; a delivery still failing after it is dead-lettered. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  DELIVERY_MAX_AGE_MS = 72 * HOUR_MS;

  /** How often due deliveries are looked for (new ledger entries also wake the loop at once). */
  @Transform(toInt)
  @IsInt()
  @Min(20)
  @Max(60_000)
  DELIVERY_POLL_MS = 500;

  /**
   * How long past the request timeout a claimed delivery stays claimed: an instance killed
   * mid-request leaves it to be sent again after DELIVERY_TIMEOUT_MS + this.
   */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  DELIVERY_LEASE_MARGIN_MS = 30_000;

  /** An endpoint is paused after this many failed attempts in a row... */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  PUBLISHER_PAUSE_AFTER_FAILURES = 50;

  /** ...that span at least this long (every attempt failing for this long). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  PUBLISHER_PAUSE_AFTER_MS = 15 * 60_000;
}
