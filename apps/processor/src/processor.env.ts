import { Transform } from 'class-transformer';
import { DEFAULT_CLICK_ID_MAX_SKEW_MS } from '@app/domain';
import { IsInt, IsIP, Matches, Max, Min } from 'class-validator';
import { portField, toInt } from '@app/config';
import { AlertsEnv } from './alerts/alerts.env';

export class ProcessorEnv extends AlertsEnv {
  /** Health and metrics endpoint of this worker. */
  @portField()
  HEALTH_PORT = 3001;

  @IsIP(undefined, { message: 'HOST must be an IP address to listen on' })
  HOST = '127.0.0.1';

  /**
   * Partitions decided in parallel by one worker instance, each batch in its own transaction.
   * One per partition of postbacks.received (6): with 2, a batch waited for the batches of
   * other partitions fetched with it, and at an offered 3,000/s the pipeline bench's p99 was
   * 6.6 s against 1.6 s with 6. Keep DB_POOL_SIZE above it (the relay, the projector and the
   * health checks need connections too).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  PARTITIONS_CONCURRENCY = 6;

  /**
   * Most postbacks decided in one transaction; a larger Kafka batch (about 1,800 postbacks at
   * kafkajs's 1 MB per partition) is decided in several, in order. Larger transactions decide a
   * backlog faster (2,000 against 500: about a fifth more decisions/s), but six of them commit
   * together every second or two and the ledger topic falls seconds behind the table; the relay's
   * backpressure (RELAY_MAX_BEHIND_MS) acts between transactions, so 500 keeps the topic within a
   * second (docs/processing.md, "Backpressure"). Each postback holds one advisory lock until its
   * transaction ends (the ledger's lock, by transaction id), and Postgres keeps every
   * transaction's locks in one shared table of max_locks_per_transaction x max_connections slots
   * (6,400 by default): keep instances x PARTITIONS_CONCURRENCY x this below it, or raise
   * max_locks_per_transaction (docs/deployment.md). An overflow fails the batch ("out of shared
   * memory"), which is then decided again, never lost.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(5000)
  DECISIONS_PER_TRANSACTION = 500;

  /**
   * How long one decision transaction should take: the next one takes as many decisions (at
   * most DECISIONS_PER_TRANSACTION, at least 50) as were decided in about this long lately
   * (conversions/transaction-sizer.ts). The relay's backpressure acts between transactions, so
   * their length bounds how far the ledger topic can trail the table, and decisions slow down
   * as the stores grow. 0: always DECISIONS_PER_TRANSACTION.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  DECISION_TRANSACTION_TARGET_MS = 300;

  /**
   * How far the ledger topic may fall behind the table before decisions wait for the relay
   * (docs/processing.md, "Backpressure"): after a batch, while this instance relays, its oldest
   * entry written but not yet published is older than this, and the relay is not failing, the
   * next batch waits for the relay, at most RELAY_MAX_WAIT_MS. 0: never wait.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600_000)
  RELAY_MAX_BEHIND_MS = 100;

  /** The longest one batch waits for the relay (RELAY_MAX_BEHIND_MS); then it goes on regardless. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  RELAY_MAX_WAIT_MS = 2000;

  /**
   * More than the shared default (10): each of the PARTITIONS_CONCURRENCY decision transactions
   * may take a second connection while it holds its own (the click watermark, a catalog
   * refresh), and the retry loop, relay, projector, alert evaluator and health checks need
   * theirs. A pool too small makes a batch wait past the 3 s connect timeout and fail.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  override DB_POOL_SIZE = 20;

  /**
   * Which versions of the ledger topic the relay publishes: 1 on conversions.ledger, 2 on
   * conversions.ledger.v2 (docs/ledger.md#schema-version-2). Both by default; drop 1 once every
   * billing consumer reads version 2. Version 2 is always published: the notifier reads it.
   */
  @Matches(/^(2|1,2|2,1)$/, {
    message: 'LEDGER_TOPIC_VERSIONS must be 1,2 or 2 (the notifier reads version 2)',
  })
  LEDGER_TOPIC_VERSIONS = '1,2';

  /** Retry delays for soft rejects (click not visible yet, no exchange rate yet), in ms, comma-separated; jittered ±20%. */
  @Matches(/^\d{1,9}(,\d{1,9}){0,19}$/, { message: 'RETRY_DELAYS_MS must be comma-separated milliseconds' })
  RETRY_DELAYS_MS = '2000,10000,60000,600000,3600000';

  /**
   * Back-off for a batch that failed on a dependency (Postgres or Kafka unavailable, a timeout),
   * in ms per consecutive failure, comma-separated, the last one repeating; jittered ±20%.
   */
  @Matches(/^[1-9]\d{0,8}(,[1-9]\d{0,8}){0,19}$/, {
    message: 'DEPENDENCY_RETRY_DELAYS_MS must be comma-separated milliseconds, each at least 1',
  })
  DEPENDENCY_RETRY_DELAYS_MS = '500,2000,5000,10000';

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

  /**
   * A well-formed click id minted more than this ahead of the processor's clock could not have
   * been minted by us yet (clock skew between hosts is smaller): unknown_click at once, instead
   * of waiting out the retry budget, so forged ids cannot fill the retry queue.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  CLICK_ID_MAX_SKEW_MS = DEFAULT_CLICK_ID_MAX_SKEW_MS;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60000)
  CATALOG_REFRESH_MS = 1000;

  /**
   * Months of the click store that ended more than this many days ago are dropped; never fewer
   * than the longest attribution window of any offer plus a month.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  CLICK_RETENTION_DAYS = 120;

  /**
   * How often an instance that does not hold a background role (relay, projector, retry
   * scheduler, alert evaluator, retention) tries to take it, and how often the holder checks its
   * lock connection: a dead holder's roles are taken over within about this much
   * (docs/deployment.md#background-roles).
   */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60000)
  LEADER_POLL_MS = 1000;

  /**
   * TCP keepalive of the lock connection, both ends (seconds idle before the first probe; probes
   * then every LEADER_KEEPALIVE_S / 2 s, 3 of them): bounds how long Postgres keeps the roles of
   * a holder whose host vanished without closing its connection.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  LEADER_KEEPALIVE_S = 10;

  /** Refused postbacks (the postback log) older than this many days are deleted. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  REFUSED_RETENTION_DAYS = 14;
}
