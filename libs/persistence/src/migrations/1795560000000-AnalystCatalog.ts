import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Comment of the table, then of each of its columns. */
type Catalog = Record<string, { table: string; columns: Record<string, string> }>;

const MICROS = 'integer micros (1 unit = 1,000,000)';
const SOURCE_TAGS = {
  sub1: "the publisher's sub id 1: the traffic source",
  sub2: "the publisher's sub id 2",
  sub3: "the publisher's sub id 3",
  sub4: "the publisher's sub id 4",
  sub5: "the publisher's sub id 5",
  placement: 'offerwall placement of the click',
  geo: "the click's country, ISO 3166-1 alpha-2",
  device: "the click's device: mobile, tablet, desktop, other",
};
const CELL = {
  day: 'UTC day',
  partner_id: "the partner ('' = unknown)",
  offer_id: "the offer ('' = unknown: click never found, or no offer we know)",
  publisher_id: "the publisher ('' = unknown)",
  source: "sub1, the publisher's traffic source ('' = none)",
  placement: "the placement ('' = none)",
  geo: "the click's country, ISO 3166-1 alpha-2 ('' = unknown)",
  currency: "ISO 4217; amounts in different currencies are never added ('' = unknown)",
};

/**
 * What analysts read (docs/tables.md): every table and column below, described where the
 * database keeps it (`\d+` in psql, any SQL client's catalog). Consistent with docs/tables.md,
 * docs/read-models.md and docs/ledger.md.
 */
const CATALOG: Catalog = {
  clicks: {
    table:
      'The click store: one row per click the gateway recorded, projected from clicks.recorded (idempotent on click_id).',
    columns: {
      click_id: 'ULID minted by the gateway; its first 10 characters encode the click time',
      event_id: 'the clicks.recorded event id',
      offer_id: 'the offer clicked (offers.id)',
      publisher_id: 'the publisher that sent the click (publishers.id)',
      ...SOURCE_TAGS,
      ip: "the clicker's address, as seen or as sent by the publisher's API call (personal data)",
      user_agent: "the clicker's user agent, as seen or as sent by the publisher's API call",
      clicked_at: 'when the gateway recorded the click',
      stored_at: 'when the projection stored it',
    },
  },
  postbacks: {
    table:
      'The postback inbox: every postback the gateway accepted, exactly once (keyed by its event id), with its position on Kafka; the raw evidence decisions and disputes trace back to.',
    columns: {
      event_id: 'the postbacks.received event id (also its correlation id in logs)',
      partner_id: 'who sent it (partners.id)',
      click_id: "the click id as sent, after the partner's key dictionary",
      transaction_id: "the partner's transaction id as sent, after its key dictionary",
      status: "pending, approved, rejected or reversed (after the partner's status map)",
      offer_id: "the offer named by the postback; null: the click's offer applies",
      payout_micros: `payout sent by the partner, ${MICROS}; null: the offer's payout applies`,
      currency: 'ISO 4217 currency of the payout; null: the offer currency',
      event: "the goal; null: the offer's default goal",
      reason: "the partner's reason text",
      source_ip: "the caller's address",
      received_at: 'when the gateway received it',
      extra: 'non-canonical parameters the partner sent (credentials removed), kept for audit only',
      kafka_partition: 'partition of postbacks.received the event sits on',
      kafka_offset: 'offset of the event on that partition',
      stored_at: 'when the worker stored it',
    },
  },
  postback_outcomes: {
    table:
      'One outcome per accepted postback (its event id), decided in the transaction that wrote its ledger entries. Counting outcomes by reason per partner and placement per day gives the soft-reject rates.',
    columns: {
      event_id: 'the postback (postbacks.event_id)',
      partner_id: 'who sent it',
      click_id: 'the click id it named',
      transaction_id: "the partner's transaction id",
      status: 'the partner status it asked for: pending, approved, rejected, reversed',
      conversion_id: 'the conversion it applied to (conversions.conversion_id); null when none',
      offer_id: 'segment: the offer (null: unknown)',
      publisher_id: 'segment: the publisher (null: unknown)',
      sub1: 'segment: the traffic source (sub1)',
      placement: 'segment: the placement',
      geo: "segment: the click's country, ISO 3166-1 alpha-2",
      outcome:
        'accepted, duplicate, rejected, held, or retry_scheduled (until a retry decides it); duplicates are counted, never paid',
      reason_bucket: 'hard, soft or manual; null when accepted',
      reason_code: 'why it was not accepted (docs/processing.md#reason-codes)',
      detail:
        'what happened in words: a refused status change, a scheduled retry, a spent retry budget (retry_exhausted), an operator replay',
      entry_id: 'the ledger entry it made (ledger_entries.entry_id); null when it made none',
      attempts:
        'retries and failed tries of its batch (dependency_unavailable, timeout) before the final decision',
      late: 'a first-time postback accepted or held long after its click (LATE_AFTER_MS, or the partner late_after_seconds)',
      postback_delay_ms: 'time from the click to this postback, in milliseconds; null without a click',
      received_at: 'when the gateway received the postback',
      decided_at: 'when this outcome was committed',
    },
  },
  conversions: {
    table:
      'Current state per conversion (offer + transaction + goal), updated in the same transaction as the ledger entries that change it; always equal to the fold of its ledger entries.',
    columns: {
      conversion_id: 'the conversion; every ledger entry of it carries this id (the conversions.ledger key)',
      offer_id: 'the offer converted',
      transaction_id: "the partner's transaction id",
      goal: "the offer goal converted (the offer's first goal when the postback named none)",
      partner_id: 'the partner reporting it; one partner per conversion',
      click_id: 'the click it is attributed to',
      publisher_id: 'the publisher of the click; null when the click is unknown',
      status: 'pending, approved, rejected, reversed or held',
      requested: 'the last partner status applied; a repeat of it is a duplicate',
      amount_micros: `approved: the revenue; held: the amount at stake; ${MICROS}`,
      currency: 'ISO 4217; one currency per conversion',
      reason_bucket: 'hard, soft or manual, when rejected or held',
      reason_code: 'why it is rejected or held (docs/processing.md#reason-codes)',
      ...SOURCE_TAGS,
      clicked_at: 'when its click was recorded; null without a click',
      first_received_at: 'when its first postback arrived',
      last_received_at: 'when its latest postback arrived',
      last_entry_id: 'its latest ledger entry (ledger_entries.entry_id)',
      entries: 'how many ledger entries it has',
      updated_at: 'when this row last changed',
    },
  },
  ledger_entries: {
    table:
      'The append-only ledger: every entry published on conversions.ledger, exactly once, in commit order (seq). UPDATE, DELETE and TRUNCATE are refused: corrections are new entries (docs/ledger.md).',
    columns: {
      entry_id: 'the entry id; consumers of conversions.ledger dedupe on it',
      seq: 'commit order: the order entries are published in',
      entry_type:
        'approved (+amount), reversed (-amount), pending, rejected, held (amount at stake), released (+amount, an operator approved a hold), adjusted (+/- amount)',
      conversion_id: 'the conversion (conversions.conversion_id)',
      conversion_status: "the conversion's status after this entry",
      click_id: 'the click the conversion is attributed to',
      transaction_id: "the partner's transaction id",
      offer_id: 'the offer',
      publisher_id: 'the publisher of the click; null when the click is unknown',
      partner_id: 'the partner',
      goal: 'the offer goal',
      amount_micros: `the amount this entry is about, ${MICROS}; net revenue = approved + released - reversed + adjusted`,
      currency: 'ISO 4217; every entry of a conversion has the same',
      reason_bucket: 'hard, soft or manual (rejected and held entries)',
      reason_code:
        'why it was rejected or held (docs/processing.md#reason-codes); operator_rejected for an operator reject',
      ...SOURCE_TAGS,
      clicked_at: 'when the click was recorded; null without a click',
      occurred_at: "when the postback (or the operator's decision) that caused it arrived",
      recorded_at: 'when the entry was written',
      late: 'late valid: a first-time postback long after its click, accepted and flagged',
      postback_delay_ms: 'time from the click to the postback, in milliseconds; null without a click',
      source_event_id: 'the postback event (postbacks.event_id) or operator decision that caused it',
      schema_version: 'version of the published entry schema (ledger.entry.v1)',
      payload: 'the exact JSON published on conversions.ledger',
      requested_status: "the partner status the entry applied; null for an operator's entry; not published",
    },
  },
  offers: {
    table:
      'The catalog: advertiser offers (admin API), never deleted; where clicks land, what a conversion pays, and its routing limits.',
    columns: {
      id: 'the offer id',
      name: 'display name',
      landing_url: 'where the click redirects, with macros ({click_id}, {pub}, {sub1}..{sub5}, ...)',
      payout_micros: `payout per conversion when the postback names none, ${MICROS}`,
      currency: 'ISO 4217 currency of its payouts',
      allowed_geos: 'countries allowed (ISO 3166-1 alpha-2); null: all; others are rejected blocked_geo',
      daily_cap: 'approvals per UTC day; beyond: cap_exceeded; null: no cap',
      payout_cap_micros: `payout approved per UTC day, ${MICROS}; beyond: cap_exceeded; null: no cap`,
      attribution_window_hours:
        'a postback later than this after its click is rejected click_expired (default 720)',
      goals: 'goals that convert; the first is the default when a postback names none',
      status: 'active or paused',
      created_at: 'when it was created',
      updated_at: 'when it last changed',
      min_conversion_seconds: 'a conversion faster than this after its click is held (fraud_suspected)',
      hold_payout_above_micros: `a payout above this is held (payout_above_threshold), ${MICROS}`,
      review_geos: 'clicks from these countries are held (compliance_review); null: none',
      burst_max_conversions:
        'more new conversions than this from one source within burst_window_seconds are held',
      burst_window_seconds: 'the window of burst_max_conversions',
      partner_ids: 'the partners allowed to report it; null: any (others: partner_not_allowed)',
      max_payout_micros: `approvals above this are rejected (payout_above_max), ${MICROS}; null: no maximum`,
    },
  },
  publishers: {
    table: 'The catalog: publishers (offerwalls, sites, apps) whose placements send clicks; never deleted.',
    columns: {
      id: 'the publisher id',
      name: 'display name',
      status: 'active or paused',
      created_at: 'when it was created',
      updated_at: 'when it last changed',
    },
  },
  partners: {
    table:
      'The catalog: advertisers and networks that send postbacks; never deleted. Holds credentials (hmac_secrets, token): analysts read analyst_partners instead.',
    columns: {
      id: 'the partner id (in the postback URL)',
      name: 'display name',
      auth_modes: 'hmac, token and/or ip: every listed mode must pass',
      hmac_secrets: 'CREDENTIAL: HMAC secrets, sealed; several during a rotation. Not in analyst_partners.',
      token: 'CREDENTIAL: the legacy shared token, sealed. Not in analyst_partners.',
      token_param: 'the query or body parameter that carries the legacy token',
      ip_allowlist: 'addresses or CIDR ranges allowed to call (mode ip)',
      key_map: 'its parameter names per canonical field, tried before the defaults',
      status_map: 'its status codes onto pending, approved, rejected, reversed',
      tolerance_seconds: 'how far a signed postback timestamp may be from our clock',
      rate_limit_per_second: 'postbacks per second accepted from it; beyond: 429 rate_limited',
      status: 'active or paused',
      created_at: 'when it was created',
      updated_at: 'when it last changed',
      preset: 'the platform preset its dictionary and format were filled from (docs/partners/platforms.md)',
      format:
        'how its postbacks differ beyond names and codes: default status, one conversion per click, decimal comma, reversal markers, ignored parameters',
      late_after_seconds:
        'a first-time postback later than this after its click is flagged late; null: LATE_AFTER_MS',
      retry_attempts: 'retries while its click is not visible yet; null: one per RETRY_DELAYS_MS entry',
    },
  },
  offer_daily_usage: {
    table: 'Conversions and payout approved or held per offer per UTC day: what the caps count.',
    columns: {
      offer_id: 'the offer',
      day: 'UTC day of the postback',
      conversions: 'conversions approved or held',
      payout_micros: `payout approved or held, ${MICROS}`,
    },
  },
  source_daily_stats: {
    table:
      'Decisions per traffic source (publisher + sub1, and publisher + placement) per UTC day: what the automatic routing controls judge.',
    columns: {
      kind: 'sub1 or placement',
      publisher_id: 'the publisher',
      value: 'the sub1 or placement value',
      day: 'UTC day',
      decided: 'new conversions decided',
      rejected: 'of which hard rejects (blocked_source and cap_exceeded do not count)',
      approved: "approvals and holds (what a source's reduced cap counts)",
    },
  },
  source_controls: {
    table:
      'Routing controls in force per source: block (rejected blocked_source), hold (held fraud_suspected) or cap (daily_cap approvals per UTC day).',
    columns: {
      kind: 'sub1 or placement',
      publisher_id: 'the publisher',
      value: 'the sub1 or placement value',
      since: 'when it was set',
      decided: "the day's new conversions when it was set automatically",
      rejected: "the day's hard rejects when it was set automatically",
      reason: 'why it was set',
      action: 'block, hold or cap',
      daily_cap: 'approvals per UTC day under a cap control',
      origin: 'auto (the policy) or operator',
    },
  },
  source_policy: {
    table:
      'The automatic routing policy (one row): past min_decisions new conversions in a UTC day with a hard-reject share of reject_rate, a source gets action.',
    columns: {
      id: 'always 1',
      min_decisions:
        'new conversions a source needs in a day before it is judged; 0 turns automatic controls off',
      reject_rate: 'hard-reject share (0..1) that triggers the action',
      action: 'block, hold or cap',
      daily_cap: 'approvals per UTC day when action is cap',
      updated_at: 'when it last changed',
    },
  },
  traffic_rules: {
    table:
      'Traffic-quality deny rules: a click from a matching address or user agent is rejected traffic_quality.',
    columns: {
      id: 'rule id',
      kind: 'ip (an address or CIDR range) or user_agent (a case-insensitive substring)',
      value: 'the address, range or substring',
      note: "the operator's note",
      created_at: 'when it was added',
    },
  },
  recon_daily: {
    table:
      'Reconciliation per UTC day x partner x offer x publisher x source x placement x geo x currency, projected from the ledger and the final postback outcomes; rebuildable (docs/read-models.md).',
    columns: {
      ...CELL,
      postbacks:
        'partner postbacks decided in the cell (final outcome; refused at the gateway are not here), by day received',
      accepted: 'of which accepted (made a pending, approved or reversed entry)',
      held_postbacks: 'of which held for review',
      duplicates: 'of which repeats of a status already applied: counted, never revenue',
      rejected_postbacks: 'of which rejected (hard reject, or a status change that is not allowed)',
      soft_retried: 'postbacks that waited for at least one retry (click not visible yet) before deciding',
      late: 'late-valid entries (first postback long after its click; accepted and flagged)',
      pending: 'pending entries, by day occurred',
      approved: 'approved entries',
      approved_micros: `revenue of the approved entries, ${MICROS}`,
      held: 'held entries',
      held_micros: `amount at stake in held entries, ${MICROS}`,
      released: 'holds an operator approved',
      released_micros: `revenue written when holds were released, ${MICROS}`,
      rejected: 'rejected entries (hard, or an operator reject)',
      reversed: 'reversals',
      reversed_micros: `revenue taken back by reversals, ${MICROS}`,
      adjusted: 'adjustments (e.g. resolved disputes)',
      adjusted_micros: `signed sum of adjustments, ${MICROS}; effective payout = approved + released - reversed + adjusted`,
    },
  },
  recon_daily_reasons: {
    table:
      'Rejections per reconciliation cell by reason: rejected ledger entries, plus rejected postbacks that made no entry (invalid_transition).',
    columns: {
      ...CELL,
      reason_bucket: 'hard, soft or manual',
      reason_code: 'the reason (docs/processing.md#reason-codes)',
      count: 'rejections with this reason in the cell',
    },
  },
  latency_daily: {
    table:
      'Latency histograms per UTC day x partner x offer x publisher x placement x geo x metric, projected from the ledger; rebuildable.',
    columns: {
      day: 'UTC day',
      partner_id: "the partner ('' = unknown)",
      offer_id: "the offer ('' = unknown)",
      publisher_id: "the publisher ('' = unknown)",
      placement: "the placement ('' = none)",
      geo: "the click's country ('' = unknown)",
      metric:
        'click_to_conversion (click to first postback) or postback_delay (first postback to a later one: approval, reversal)',
      le_ms: 'bucket upper bound in ms (1 s, 5 s, 15 s, 1 min ... 30 d); -1 = above 30 days',
      count: 'observations in the bucket',
      sum_ms: 'sum of the observations in the bucket, in milliseconds',
    },
  },
  review_queue: {
    table:
      'Held conversions (fraud_suspected, payout_above_threshold, compliance_review) waiting for an operator; a row leaves when a later entry of the conversion is projected.',
    columns: {
      conversion_id: 'the held conversion',
      held_entry_id: 'its held ledger entry',
      held_at: 'when it was held',
      reason_code: 'fraud_suspected, payout_above_threshold or compliance_review',
      amount_micros: `amount at stake, ${MICROS}`,
      currency: 'ISO 4217',
      partner_id: 'the partner',
      offer_id: 'the offer',
      publisher_id: 'the publisher of the click; null when unknown',
      transaction_id: "the partner's transaction id",
      click_id: 'the click',
      sub1: 'the traffic source (sub1)',
      placement: 'the placement',
      geo: "the click's country, ISO 3166-1 alpha-2",
      clicked_at: 'when the click was recorded',
      postback_delay_ms: 'click to postback, in milliseconds',
    },
  },
  disputes: {
    table:
      "A counterparty's own conversion file, diffed against the ledger per transaction (docs/runbooks/disputes.md).",
    columns: {
      id: 'the dispute id',
      counterparty_kind: 'partner or publisher',
      counterparty_id: 'the partner or publisher',
      file_name: 'the imported file',
      rows: 'rows read from the file',
      from_day: 'first UTC day compared',
      to_day: 'last UTC day compared',
      summary: 'counts per kind of difference',
      created_by: 'who imported it (the owner of the dispute)',
      created_at: 'when it was imported',
    },
  },
  dispute_rows: {
    table: "The counterparty file's rows as read (evidence), one per line.",
    columns: {
      dispute_id: 'the dispute',
      line: 'line number in the file',
      transaction_id: 'the transaction id as they wrote it',
      offer_id: 'the offer as they wrote it (null: not given)',
      status: 'their status',
      payout_micros: `their payout, ${MICROS}`,
      currency: 'their currency, ISO 4217',
      day: 'their UTC day',
    },
  },
  dispute_items: {
    table: 'One difference between a counterparty file and the ledger, and how it was resolved.',
    columns: {
      dispute_id: 'the dispute',
      item: 'number of the difference within the dispute',
      kind: 'missing_ours, missing_theirs, status_differs, amount_differs or duplicate_theirs',
      transaction_id: 'the transaction',
      offer_id: 'the offer (null: unknown)',
      conversion_id: 'our conversion (null: we have none)',
      ours: 'our side, as JSON',
      theirs: 'their side, as JSON',
      resolution: 'adjusted or dismissed; null: open',
      entry_id: 'the adjusted ledger entry that resolved it',
      resolved_by: 'the operator who resolved it',
      note: "the operator's note",
      resolved_at: 'when it was resolved',
    },
  },
  alerts: {
    table:
      'One row per firing episode of an alert rule for one subject (docs/alerts.md); firing again later is a new row.',
    columns: {
      id: 'episode id',
      key: '<rule>:<subject>; at most one firing row per key',
      rule: 'the rule: latency_p99, late_callbacks, soft_reject_rate, acceptance_drop, dead_letters, consumer_lag, source_blocked',
      subject: 'what it is about (an offer, a partner and placement, a group...)',
      severity: 'warning or critical',
      status: 'firing or resolved',
      summary: 'one line for people',
      evidence: 'the numbers, thresholds and window of the last evaluation that held the condition',
      first_fired_at: 'when it started firing',
      last_evaluated_at: 'when the condition was last evaluated',
      resolved_at: 'when it resolved; null while firing',
      notified_at: 'last webhook delivery the receiver accepted; null: none',
    },
  },
  launch_criteria: {
    table:
      'Launch gates: the default acceptance criteria (scope default) and per-partner or per-offer overrides; null inherits (docs/launch-gates.md).',
    columns: {
      scope: 'default, partner or offer',
      subject: "the partner or offer id ('' for default)",
      min_postbacks: 'postbacks decided in the range needed to judge',
      min_acceptance_rate: '(accepted + held) / postbacks at least',
      max_duplicate_rate: 'duplicates / postbacks at most',
      max_soft_reject_rate: 'postbacks that waited for a retry / postbacks at most',
      max_latency_p99_seconds: 'click-to-conversion p99 at most, seconds',
      max_late_rate: 'late-valid conversions / new conversions at most',
      updated_at: 'when it last changed',
    },
  },
  publisher_postbacks: {
    table:
      'Postback configuration per publisher (admin API) and its endpoint health (notifier). Holds credentials (secrets, legacy_hash_secret): analysts read analyst_publisher_postbacks instead.',
    columns: {
      publisher_id: 'the publisher',
      url: 'URL template for every status without its own',
      approved_url: 'URL template for approved and released entries',
      reversed_url: 'URL template for reversed entries',
      secrets:
        'CREDENTIAL: signing secrets (1, or 2 in a rotation), sealed. Not in analyst_publisher_postbacks.',
      legacy_hash_algorithm: 'legacy hash for walls: md5 or hmac-sha256',
      legacy_hash_param: 'the parameter that carries the legacy hash',
      legacy_hash_fields: 'the fields the legacy hash covers, in order',
      legacy_hash_secret: 'CREDENTIAL: the legacy hash secret, sealed. Not in analyst_publisher_postbacks.',
      delivery_state:
        'active, or paused: the endpoint kept failing; deliveries wait until an operator resumes it',
      paused_at: 'when it was paused',
      paused_reason: 'why it was paused',
      consecutive_failures: 'failed attempts in a row (a 2xx or a 4xx answer resets it)',
      failing_since: 'start of the current run of failures',
      created_at: 'when it was configured',
      updated_at: 'when it last changed',
    },
  },
  publisher_deliveries: {
    table:
      'One postback owed to a publisher per ledger entry (approved, released, reversed), delivered in ledger order per conversion.',
    columns: {
      entry_id: 'the ledger entry; also the Idempotency-Key sent',
      seq: 'intake order; a delivery waits while an earlier one of its conversion is pending or dead',
      publisher_id: 'the publisher',
      conversion_id: 'the conversion',
      entry_type: 'approved, released or reversed',
      entry: 'the ledger entry as published',
      status: 'pending, delivered, rejected_by_publisher (a 4xx) or dead (retry window over)',
      attempts: 'attempts started',
      next_attempt_at: 'when it is due (while a call is in flight: the end of its claim)',
      first_attempt_at: 'start of the retry window (reset by a resume or a replay)',
      last_status_code: 'the last HTTP answer',
      last_error: 'the last error',
      entry_recorded_at: 'when the ledger entry was recorded',
      created_at: 'when the notifier took it in',
      finished_at:
        'when it was delivered, rejected or dead; delivery delay = finished_at - entry_recorded_at',
    },
  },
  publisher_delivery_attempts: {
    table:
      'Every HTTP attempt to a publisher that finished (one cut short by a crash leaves a gap in attempt).',
    columns: {
      id: 'attempt row id',
      entry_id: 'the delivery (publisher_deliveries.entry_id)',
      attempt: 'attempt number, unique per entry',
      publisher_id: 'the publisher',
      url: 'the URL called, credential-like parameters redacted',
      status_code: 'the HTTP answer; null: none',
      latency_ms: 'request to answer (or timeout), in milliseconds',
      error: 'timeout after ... ms, network error: ..., HTTP 500',
      outcome: 'delivered, rejected_by_publisher, retry or dead',
      next_attempt_at: 'when the retry is due',
      attempted_at: 'when the attempt started',
    },
  },
};

/** Tables with credentials: analysts get a view of every other column instead of the table. */
const HIDDEN: Record<string, { view: string; secrets: string[]; comment: string }> = {
  partners: {
    view: 'analyst_partners',
    secrets: ['hmac_secrets', 'token'],
    comment: 'partners without their credentials (hmac_secrets, token): what ledger_analyst reads.',
  },
  publisher_postbacks: {
    view: 'analyst_publisher_postbacks',
    secrets: ['secrets', 'legacy_hash_secret'],
    comment:
      'publisher_postbacks without their credentials (secrets, legacy_hash_secret): what ledger_analyst reads.',
  },
};

const ROLE = 'ledger_analyst';
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * The analyst catalog (issue 19): a comment on every analyst table and column, and a read-only
 * role, `ledger_analyst` (NOLOGIN; analysts' own login roles are members of it), that may SELECT
 * the analyst tables and, instead of the two tables holding credentials, views without them.
 * Nothing else: no INSERT, UPDATE, DELETE, TRUNCATE, no sequence, no other table.
 * Later migrations keep it whole (docs/tables.md#analysts): a column added to an analyst table
 * gets its COMMENT ON; one added to partners or publisher_postbacks is appended to its view.
 * analyst-catalog.int-spec.ts fails when one is missing.
 */
export class AnalystCatalog1795560000000 implements MigrationInterface {
  name = 'AnalystCatalog1795560000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // One round trip for the few hundred comments (every test database runs this).
    await queryRunner.query(
      Object.entries(CATALOG)
        .flatMap(([table, c]) => [
          `COMMENT ON TABLE ${ident(table)} IS ${literal(c.table)}`,
          ...Object.entries(c.columns).map(
            ([column, text]) => `COMMENT ON COLUMN ${ident(table)}.${ident(column)} IS ${literal(text)}`,
          ),
        ])
        .join(';\n'),
    );

    // Roles are cluster-wide: another database (or a concurrent migration) may have made it.
    await queryRunner.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}') THEN CREATE ROLE ${ROLE} NOLOGIN; END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$`);
    await queryRunner.query(`GRANT USAGE ON SCHEMA public TO ${ROLE}`);

    for (const [table, h] of Object.entries(HIDDEN)) {
      // Every column but the credentials, in table order, as the table stands now.
      const columns = (
        (await queryRunner.query(
          `SELECT column_name FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
          [table],
        )) as { column_name: string }[]
      )
        .map((r) => r.column_name)
        .filter((c) => !h.secrets.includes(c));
      await queryRunner.query(
        `CREATE VIEW ${ident(h.view)} AS SELECT ${columns.map(ident).join(', ')} FROM ${ident(table)}`,
      );
      await queryRunner.query(`COMMENT ON VIEW ${ident(h.view)} IS ${literal(h.comment)}`);
      for (const column of columns) {
        const text = CATALOG[table]?.columns[column];
        if (text)
          await queryRunner.query(`COMMENT ON COLUMN ${ident(h.view)}.${ident(column)} IS ${literal(text)}`);
      }
      // Views are for reading: the apps' default grants on new relations do not apply to them.
      await queryRunner.query(`REVOKE ALL ON ${ident(h.view)} FROM ledger_app`);
      await queryRunner.query(`GRANT SELECT ON ${ident(h.view)} TO ${ROLE}`);
    }
    const readable = Object.keys(CATALOG).filter((t) => !HIDDEN[t]);
    await queryRunner.query(`GRANT SELECT ON ${readable.map(ident).join(', ')} TO ${ROLE}`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    const readable = Object.keys(CATALOG).filter((t) => !HIDDEN[t]);
    await queryRunner.query(`REVOKE ALL ON ${readable.map(ident).join(', ')} FROM ${ROLE}`);
    for (const h of Object.values(HIDDEN)) await queryRunner.query(`DROP VIEW ${ident(h.view)}`);
    await queryRunner.query(`REVOKE USAGE ON SCHEMA public FROM ${ROLE}`);
    // The role stays: other databases of the cluster may use it (like ledger_app).
    await queryRunner.query(
      Object.entries(CATALOG)
        .flatMap(([table, c]) => [
          `COMMENT ON TABLE ${ident(table)} IS NULL`,
          ...Object.keys(c.columns).map(
            (column) => `COMMENT ON COLUMN ${ident(table)}.${ident(column)} IS NULL`,
          ),
        ])
        .join(';\n'),
    );
  }
}
