import { Transform } from 'class-transformer';
import { IsInt, IsIP, Max, Min } from 'class-validator';
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
}
