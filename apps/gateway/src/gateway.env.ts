import { Transform } from 'class-transformer';
import { IsInt, IsIP, Max, Min } from 'class-validator';
import { CommonEnv, portField, toInt } from '@app/config';

export class GatewayEnv extends CommonEnv {
  @portField()
  PORT = 3000;

  @IsIP(undefined, { message: 'HOST must be an IP address to listen on' })
  HOST = '127.0.0.1';

  /** How long a produced message may wait for others to share its Kafka request. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  PRODUCE_LINGER_MS = 2;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10000)
  PRODUCE_MAX_BATCH = 500;

  /** A request whose event Kafka has not acknowledged by then is answered 503. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60000)
  PRODUCE_TIMEOUT_MS = 5000;

  /** Larger request bodies are refused with 413. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  BODY_LIMIT_BYTES = 64 * 1024;
}
