import { Transform } from 'class-transformer';
import { IsInt, IsIP, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';
import { EdgeEnv, portField, toInt } from '@app/config';

export class GatewayEnv extends EdgeEnv {
  @portField()
  PORT = 3000;

  /**
   * Where reports and the dashboard read (a streaming replica of the primary, as the app's role):
   * analysts' queries never load the primary. Empty: they read DATABASE_URL.
   */
  @ValidateIf((e: GatewayEnv) => e.REPORTS_DATABASE_URL !== '')
  @Matches(/^postgres(ql)?:\/\/[^\s]+$/, { message: 'REPORTS_DATABASE_URL must be a postgres:// URL' })
  REPORTS_DATABASE_URL = '';

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

  /** Produce requests in flight at once; each carries every event queued when it leaves. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(16)
  PRODUCE_MAX_IN_FLIGHT = 4;

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

  /** Clicks per second one client address may record (burst: twice that); over it, 429. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  CLICK_RATE_PER_ADDRESS = 50;

  /**
   * Refused postbacks per second one client address may cause (burst: five times that); past it,
   * its postbacks are answered 429 before any work, until it slows down. Accepted ones never count.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  REFUSAL_RATE_PER_ADDRESS = 5;

  /** Refusals published to postbacks.refused per second and partner (`_unknown` for all others); the rest are only counted. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100_000)
  REFUSAL_SAMPLES_PER_SECOND = 5;

  /** Largest counterparty CSV accepted by POST /v1/admin/disputes (bigger files: the ledger CLI streams them). */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(1024 * 1024 * 1024)
  UPLOAD_LIMIT_BYTES = 64 * 1024 * 1024;

  /**
   * The bootstrap admin's bearer token (acts as `bootstrap-admin`, role admin). Operators get named
   * tokens with roles from `ledger tokens create`; unset, only those work.
   */
  @ValidateIf((e: GatewayEnv) => e.ADMIN_TOKEN !== '')
  @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters' })
  ADMIN_TOKEN = '';

  /** Request header trusted to carry the visitor's country (e.g. cf-ipcountry); empty: none. */
  @Matches(/^[a-z0-9-]{0,64}$/, { message: 'GEO_HEADER must be a lower-case header name' })
  GEO_HEADER = '';

  /**
   * Comma-separated CIDRs of reverse proxies in front of the gateway. Only when the direct peer
   * is one of them is X-Forwarded-For used to find the client address (partner IP allowlists).
   */
  @Matches(/^[0-9a-fA-F:.,/ ]*$/, { message: 'TRUSTED_PROXIES must be a comma-separated list of CIDRs' })
  TRUSTED_PROXIES = '';

  /** How often configuration changes made elsewhere are picked up. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60000)
  CATALOG_REFRESH_MS = 1000;

  /**
   * Staging replays only (docs/replay.md): when set, a request carrying `X-Replay-Token` equal to
   * it may stamp its event time with `X-Replay-Time`. Unset: every `X-Replay-Time` is refused (400).
   */
  @ValidateIf((e: GatewayEnv) => e.REPLAY_TOKEN !== '')
  @MinLength(16, { message: 'REPLAY_TOKEN must be at least 16 characters' })
  REPLAY_TOKEN = '';

  /**
   * Shortest partner HMAC secret or publisher signing secret accepted from now on (docs/secrets.md).
   * 32 by default; lower it (never under 8) only for a counterparty whose platform cannot hold more.
   */
  @Transform(toInt)
  @IsInt()
  @Min(8, { message: 'SECRET_MIN_LENGTH must be at least 8' })
  @Max(256)
  SECRET_MIN_LENGTH = 32;
}
