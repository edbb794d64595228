import { Transform } from 'class-transformer';
import { IsInt, IsIP, Matches, Max, Min } from 'class-validator';
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
}
