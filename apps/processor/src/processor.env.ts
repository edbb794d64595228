import { Transform } from 'class-transformer';
import { IsInt, IsIP, IsNumber, Matches, Max, Min } from 'class-validator';
import { CommonEnv, portField, toInt } from '@app/config';

export class ProcessorEnv extends CommonEnv {
  /** Health and metrics endpoint of this worker. */
  @portField()
  HEALTH_PORT = 3001;

  @IsIP(undefined, { message: 'HOST must be an IP address to listen on' })
  HOST = '127.0.0.1';

  /** Partitions handled in parallel by one worker instance. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  PARTITIONS_CONCURRENCY = 2;

  /** Retry delays for soft rejects (click not visible yet), in ms, comma-separated; jittered ±20%. */
  @Matches(/^\d{1,9}(,\d{1,9}){0,19}$/, { message: 'RETRY_DELAYS_MS must be comma-separated milliseconds' })
  RETRY_DELAYS_MS = '2000,10000,60000,600000,3600000';

  /** A first-time postback later than this after its click is flagged late (still valid). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  LATE_AFTER_MS = 3_600_000;

  /**
   * How far behind "caught up" the click store's watermark is kept: longer than a click can
   * take from being minted to being acknowledged by Kafka (the gateway's PRODUCE_TIMEOUT_MS).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  CLICK_WATERMARK_MARGIN_MS = 10_000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60000)
  CATALOG_REFRESH_MS = 1000;

  /**
   * Routing controls: a source (publisher + sub1, publisher + placement) with at least this many
   * new conversions decided in a UTC day, of which SOURCE_BLOCK_REJECT_RATE or more were hard
   * rejects, is blocked: its new conversions are refused as blocked_source until an operator
   * unblocks it. 0 turns blocking off.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SOURCE_MIN_DECISIONS = 50;

  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d*\.?\d+$/.test(value) ? Number(value) : value,
  )
  @IsNumber({}, { message: 'SOURCE_BLOCK_REJECT_RATE must be a number between 0 and 1' })
  @Min(0.01)
  @Max(1)
  SOURCE_BLOCK_REJECT_RATE = 0.5;
}
