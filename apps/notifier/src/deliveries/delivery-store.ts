import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { SecretBox } from '@app/config';
import type { LedgerEntryV1 } from '@app/contracts';
import {
  isMacroName,
  LEGACY_HASH_ALGORITHMS,
  type LegacyHash,
  type PublisherPostbackConfig,
} from '@app/domain';
import { secretContext } from '@app/persistence';
import { NotifierEnv } from '../notifier.env';

/** A delivery claimed for one attempt, with its publisher's configuration as of the claim. */
export interface ClaimedDelivery {
  entryId: string;
  publisherId: string;
  conversionId: string;
  entryType: string;
  entry: LedgerEntryV1;
  /** This attempt's number (1-based). */
  attempt: number;
  firstAttemptAt: Date;
  entryRecordedAt: Date;
  /** The request id of the gateway answer to the postback the entry came from (logs only); null for other sources. */
  requestId: string | null;
  /** Secrets opened (they are stored sealed); empty when they did not open (see sealError). */
  config: PublisherPostbackConfig;
  /** Why the publisher's stored secrets did not open (a key missing from the key ring). */
  sealError?: string;
}

export type AttemptOutcome = 'delivered' | 'rejected_by_publisher' | 'retry' | 'dead';

export interface AttemptRecord {
  delivery: ClaimedDelivery;
  url: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  outcome: AttemptOutcome;
  /** retry: when the next attempt is due. */
  nextAttemptAt: Date | null;
  attemptedAt: Date;
}

interface ClaimRow {
  entry_id: string;
  publisher_id: string;
  conversion_id: string;
  entry_type: string;
  entry: LedgerEntryV1;
  attempts: number;
  first_attempt_at: Date;
  entry_recorded_at: Date;
  request_id: string | null;
  url: string | null;
  approved_url: string | null;
  reversed_url: string | null;
  secrets: string[];
  legacy_hash_algorithm: string | null;
  legacy_hash_param: string | null;
  legacy_hash_fields: string[] | null;
  legacy_hash_secret: string | null;
  legacy_hash_separator: string | null;
}

/** An attempt's fields as the log columns hold them (varchar(4096) url, varchar(512) error, whole ms). */
function loggedFields(a: AttemptRecord): { url: string; latencyMs: number; error: string | null } {
  return {
    url: a.url.slice(0, 4096),
    latencyMs: Math.round(a.latencyMs),
    error: a.error?.slice(0, 512) ?? null,
  };
}

/** The stored legacy hash (whole, by the table's check), or null when there is none. */
function legacyHashOf(r: ClaimRow, open: (sealed: string) => string): LegacyHash | null {
  const algorithm = LEGACY_HASH_ALGORITHMS.find((a) => a === r.legacy_hash_algorithm);
  if (!algorithm || !r.legacy_hash_param || !r.legacy_hash_secret) return null;
  return {
    algorithm,
    param: r.legacy_hash_param,
    fields: (r.legacy_hash_fields ?? []).filter(isMacroName),
    separator: r.legacy_hash_separator ?? '',
    secret: open(r.legacy_hash_secret),
  };
}

/** The SQL of the delivery loop: claims with a lease, results, and the endpoint's health. */
@Injectable()
export class DeliveryStore {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(NotifierEnv) private readonly env: NotifierEnv,
    @Inject(SecretBox) private readonly box: SecretBox,
  ) {}

  /**
   * Claims up to `limit` due deliveries of active endpoints, at most PUBLISHER_CONCURRENCY per
   * publisher counting `busy` (this instance's calls in flight per publisher), so one slow
   * publisher never holds every slot. A delivery waits while an earlier one of its conversion is
   * pending or dead (a reversal never overtakes its approval). SKIP LOCKED lets instances share
   * the work; the claim moves next_attempt_at to the end of a lease, so a delivery whose instance
   * died mid-request is sent again once the lease is over.
   */
  async claim(limit: number, busy: ReadonlyMap<string, number> = new Map()): Promise<ClaimedDelivery[]> {
    const leaseMs = this.env.DELIVERY_TIMEOUT_MS + this.env.DELIVERY_LEASE_MARGIN_MS;
    // One index probe per configured publisher (publisher_deliveries_publisher_due_idx).
    const [rows] = await this.ds.query<[ClaimRow[], number]>(
      `WITH due AS (
         SELECT x.entry_id FROM publisher_postbacks p
           LEFT JOIN unnest($3::varchar[], $4::int[]) AS b(publisher_id, n) ON b.publisher_id = p.publisher_id
          CROSS JOIN LATERAL (
            SELECT d.entry_id, d.next_attempt_at FROM publisher_deliveries d
             WHERE d.publisher_id = p.publisher_id AND d.status = 'pending' AND d.next_attempt_at <= now()
               AND NOT EXISTS (SELECT 1 FROM publisher_deliveries e
                                WHERE e.conversion_id = d.conversion_id AND e.seq < d.seq
                                  AND e.status IN ('pending', 'dead'))
             ORDER BY d.next_attempt_at
             LIMIT greatest(0, $5 - coalesce(b.n, 0))
             FOR UPDATE OF d SKIP LOCKED) x
          WHERE p.delivery_state = 'active'
          ORDER BY x.next_attempt_at
          LIMIT $1)
       UPDATE publisher_deliveries d
          SET attempts = d.attempts + 1, next_attempt_at = now() + $2 * interval '1 millisecond',
              first_attempt_at = coalesce(d.first_attempt_at, now())
         FROM due, publisher_postbacks p
        WHERE d.entry_id = due.entry_id AND p.publisher_id = d.publisher_id
       RETURNING d.entry_id, d.publisher_id, d.conversion_id, d.entry_type, d.entry, d.attempts,
                 d.first_attempt_at, d.entry_recorded_at, p.url, p.approved_url, p.reversed_url, p.secrets,
                 p.legacy_hash_algorithm, p.legacy_hash_param, p.legacy_hash_fields, p.legacy_hash_secret,
                 p.legacy_hash_separator,
                 (SELECT pb.request_id FROM postbacks pb WHERE pb.event_id = d.entry->>'source_event_id') AS request_id`,
      [limit, leaseMs, [...busy.keys()], [...busy.values()], this.env.PUBLISHER_CONCURRENCY],
    );
    return rows.map((r) => {
      const claimed: ClaimedDelivery = {
        entryId: r.entry_id,
        publisherId: r.publisher_id,
        conversionId: r.conversion_id,
        entryType: r.entry_type,
        entry: r.entry,
        attempt: r.attempts,
        firstAttemptAt: r.first_attempt_at,
        entryRecordedAt: r.entry_recorded_at,
        requestId: r.request_id,
        config: {
          url: r.url,
          approvedUrl: r.approved_url,
          reversedUrl: r.reversed_url,
          secrets: [],
          legacyHash: null,
        },
      };
      try {
        claimed.config.secrets = r.secrets.map((x) =>
          this.box.open(x, secretContext.publisherSigning(r.publisher_id)),
        );
        claimed.config.legacyHash = legacyHashOf(r, (x) =>
          this.box.open(x, secretContext.publisherLegacyHash(r.publisher_id)),
        );
      } catch (e) {
        claimed.config.secrets = [];
        claimed.sealError = (e as Error).message;
      }
      return claimed;
    });
  }

  /**
   * Writes one attempt: its log row, the delivery's new state (only while this attempt still owns
   * the claim), and the endpoint's health. Returns whether this attempt paused the endpoint.
   */
  async record(a: AttemptRecord): Promise<{ paused: boolean }> {
    if (a.outcome === 'delivered') {
      await this.recordDelivered(a);
      return { paused: false };
    }
    const log = loggedFields(a);
    return this.ds.transaction(async (em) => {
      const d = a.delivery;
      await em.query(
        `INSERT INTO publisher_delivery_attempts
           (entry_id, attempt, publisher_id, url, status_code, latency_ms, error, outcome, next_attempt_at, attempted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (entry_id, attempt) DO NOTHING`,
        [
          d.entryId,
          d.attempt,
          d.publisherId,
          log.url,
          a.statusCode,
          log.latencyMs,
          log.error,
          a.outcome,
          a.nextAttemptAt,
          a.attemptedAt,
        ],
      );
      const done = a.outcome !== 'retry';
      await em.query(
        `UPDATE publisher_deliveries
            SET status = $3, next_attempt_at = coalesce($4, next_attempt_at), last_status_code = $5,
                last_error = $6, finished_at = CASE WHEN $7 THEN now() END
          WHERE entry_id = $1 AND attempts = $2 AND status = 'pending'`,
        [
          d.entryId,
          d.attempt,
          a.outcome === 'retry' ? 'pending' : a.outcome,
          a.nextAttemptAt,
          a.statusCode,
          log.error,
          done,
        ],
      );
      return this.endpointHealth(em, d.publisherId, a);
    });
  }

  /**
   * The common case in one statement (one round trip, atomic): the log row, the finished delivery,
   * and the endpoint's failure count restarted (a 2xx means the endpoint works).
   */
  private async recordDelivered(a: AttemptRecord): Promise<void> {
    const d = a.delivery;
    const log = loggedFields(a);
    await this.ds.query(
      `WITH attempt AS (
         INSERT INTO publisher_delivery_attempts
           (entry_id, attempt, publisher_id, url, status_code, latency_ms, error, outcome, attempted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (entry_id, attempt) DO NOTHING),
       delivery AS (
         UPDATE publisher_deliveries SET status = $8, last_status_code = $5, last_error = $7, finished_at = now()
          WHERE entry_id = $1 AND attempts = $2 AND status = 'pending')
       UPDATE publisher_postbacks SET consecutive_failures = 0, failing_since = NULL
        WHERE publisher_id = $3 AND (consecutive_failures <> 0 OR failing_since IS NOT NULL)`,
      [
        d.entryId,
        d.attempt,
        d.publisherId,
        log.url,
        a.statusCode,
        log.latencyMs,
        log.error,
        a.outcome,
        a.attemptedAt,
      ],
    );
  }

  /**
   * Only a 2xx means the endpoint works (the failure count restarts, recordDelivered). Every other
   * attempt counts one more failure: no answer, 5xx, and a 4xx too (the delivery ends
   * rejected_by_publisher, but an endpoint answering 404 to everything is broken, not choosy);
   * the endpoint is paused once failures in a row reach the threshold and have lasted long
   * enough, which raises the publisher_paused alert. Paused endpoints get no attempts until an
   * operator resumes them. A delivery ended without a call (no template for its status) leaves
   * the endpoint's health alone.
   */
  private async endpointHealth(em: EntityManager, publisherId: string, a: AttemptRecord) {
    if (a.outcome === 'delivered' || (a.outcome === 'rejected_by_publisher' && a.statusCode === null))
      return { paused: false };
    const [rows] = await em.query<[{ paused: boolean }[], number]>(
      `UPDATE publisher_postbacks p
          SET consecutive_failures = p.consecutive_failures + 1,
              failing_since = coalesce(p.failing_since, now()),
              delivery_state = CASE WHEN c.pause THEN 'paused' ELSE p.delivery_state END,
              paused_at = CASE WHEN c.pause THEN now() ELSE p.paused_at END,
              paused_reason = CASE WHEN c.pause
                THEN (p.consecutive_failures + 1) || ' failed attempts in a row since ' ||
                     to_char(coalesce(p.failing_since, now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') ||
                     '; last: ' || $4 ELSE p.paused_reason END
         FROM (SELECT delivery_state = 'active'
                      AND consecutive_failures + 1 >= $2
                      AND now() - coalesce(failing_since, now()) >= $3 * interval '1 millisecond' AS pause
                 FROM publisher_postbacks WHERE publisher_id = $1 FOR UPDATE) c
        WHERE p.publisher_id = $1
       RETURNING c.pause AS paused`,
      [
        publisherId,
        this.env.PUBLISHER_PAUSE_AFTER_FAILURES,
        this.env.PUBLISHER_PAUSE_AFTER_MS,
        (a.statusCode !== null ? `HTTP ${a.statusCode}` : (a.error ?? 'no answer')).slice(0, 300),
      ],
    );
    return { paused: rows[0]?.paused === true };
  }
}
