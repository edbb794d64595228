import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The money model (MONEY.md): payout rules and reward rules, each entry's payout and reward,
 * and double entry. Held by the database for every role:
 * - `ledger_postings` is append-only, and every statement's postings sum to zero per entry and
 *   currency (a set that does not balance is refused);
 * - rules are never edited or deleted, nor dated back over an entry already written for their
 *   offer (or publisher): a change is a new rule from a later time, so no entry already written
 *   can be priced differently afterwards. (A replay into a fresh database may date rules in its
 *   virtual past: nothing is written there yet.)
 * Entries written before this migration get payout = revenue (what their publisher postbacks
 * already carried) and their postings, so the trial balance covers the whole ledger.
 */
const COMMENTS: Record<string, string> = {
  'TABLE "payout_rules"':
    'What publishers earn per offer (and goal, and publisher override) from a time on: a share of revenue or a fixed amount; never edited; docs/tables.md#payout_rules.',
  'COLUMN "payout_rules"."rule_id"':
    'Rule id, recorded on the entries it priced (ledger_entries.payout_rule_id).',
  'COLUMN "payout_rules"."offer_id"': 'The offer.',
  'COLUMN "payout_rules"."goal"': 'The goal it applies to; null: every goal.',
  'COLUMN "payout_rules"."publisher_id"': 'The publisher it applies to (an override); null: every publisher.',
  'COLUMN "payout_rules"."kind"':
    'share (share_bp of revenue) or fixed (amount_micros in the offer currency).',
  'COLUMN "payout_rules"."share_bp"': 'kind share: basis points of a percent of revenue (7000 = 70 %).',
  'COLUMN "payout_rules"."amount_micros"': 'kind fixed: the payout in micros of the offer currency.',
  'COLUMN "payout_rules"."effective_from"':
    'Applies to conversions that arrive at or after this time (never before an entry already written).',
  'COLUMN "payout_rules"."note"': 'Why, as the operator wrote it.',
  'COLUMN "payout_rules"."created_by"': 'Operator who created it.',
  'COLUMN "payout_rules"."created_at"': 'When it was created.',
  'TABLE "reward_rules"':
    'User rewards per publisher app from a time on, in the app virtual currency; never edited; docs/tables.md#reward_rules.',
  'COLUMN "reward_rules"."rule_id"':
    'Rule id, recorded on the entries it priced (ledger_entries.reward_rule_id).',
  'COLUMN "reward_rules"."publisher_id"': 'The publisher (app).',
  'COLUMN "reward_rules"."currency_name"': 'The virtual currency name, e.g. coins.',
  'COLUMN "reward_rules"."units_per_unit_micros"':
    'Reward units per 1 unit of payout, in millionths (100 coins per USD = 100000000).',
  'COLUMN "reward_rules"."rounding"': 'floor, round (half even) or ceil, to whole units.',
  'COLUMN "reward_rules"."minimum"': 'Least reward for any payout above zero.',
  'COLUMN "reward_rules"."effective_from"':
    'Applies to conversions that arrive at or after this time (never before an entry already written).',
  'COLUMN "reward_rules"."note"': 'Why, as the operator wrote it.',
  'COLUMN "reward_rules"."created_by"': 'Operator who created it.',
  'COLUMN "reward_rules"."created_at"': 'When it was created.',
  'TABLE "ledger_postings"':
    'Double entry of every ledger entry: legs summing to zero per entry and currency (debit > 0, credit < 0); append-only; docs/tables.md#ledger_postings.',
  'COLUMN "ledger_postings"."posting_id"': 'entry_id:leg number (deterministic).',
  'COLUMN "ledger_postings"."entry_id"': 'The ledger entry.',
  'COLUMN "ledger_postings"."account"':
    'advertiser_receivable:<partner>, publisher_payable:<publisher> or platform_revenue.',
  'COLUMN "ledger_postings"."currency"': 'ISO 4217 code (the entry currency).',
  'COLUMN "ledger_postings"."amount_micros"': 'Micros: positive debit, negative credit; never 0.',
  'COLUMN "ledger_postings"."recorded_at"': 'When it was written.',
  'COLUMN "ledger_entries"."payout_micros"':
    'Publisher payout this entry moves, signed like amount_micros (a reversal: what it takes back); the margin is amount_micros - payout_micros.',
  'COLUMN "ledger_entries"."reward_amount"': 'User reward in whole units of reward_currency (not our money).',
  'COLUMN "ledger_entries"."reward_currency"': 'The publisher app virtual currency name.',
  'COLUMN "ledger_entries"."payout_rule_id"':
    'payout_rules.rule_id that priced it; null: no rule (payout = revenue).',
  'COLUMN "ledger_entries"."reward_rule_id"': 'reward_rules.rule_id that priced the reward.',
  'COLUMN "conversions"."payout_micros"': 'Publisher payout its approval (or hold) carries; 0 otherwise.',
  'COLUMN "conversions"."reward_amount"': 'User reward its approval (or hold) carries.',
  'COLUMN "conversions"."reward_currency"': 'The reward virtual currency name.',
  'COLUMN "conversions"."payout_rule_id"': 'payout_rules.rule_id of its approval.',
  'COLUMN "conversions"."reward_rule_id"': 'reward_rules.rule_id of its approval.',
};

export class MoneyModel1795563300000 implements MigrationInterface {
  name = 'MoneyModel1795563300000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`CREATE TABLE "payout_rules" (
      "rule_id" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      "offer_id" character varying(64) NOT NULL,
      "goal" character varying(64),
      "publisher_id" character varying(64),
      "kind" character varying(8) NOT NULL CONSTRAINT "payout_rules_kind" CHECK ("kind" IN ('share', 'fixed')),
      "share_bp" integer CONSTRAINT "payout_rules_share" CHECK ("share_bp" BETWEEN 0 AND 10000),
      "amount_micros" bigint CONSTRAINT "payout_rules_amount" CHECK ("amount_micros" >= 0),
      "effective_from" TIMESTAMP WITH TIME ZONE NOT NULL,
      "note" character varying(256),
      "created_by" character varying(64),
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "payout_rules_kind_amount" CHECK (
        ("kind" = 'share' AND "share_bp" IS NOT NULL AND "amount_micros" IS NULL)
        OR ("kind" = 'fixed' AND "amount_micros" IS NOT NULL AND "share_bp" IS NULL)))`);
    await q(`CREATE UNIQUE INDEX "payout_rules_key" ON "payout_rules"
      ("offer_id", COALESCE("goal", ''), COALESCE("publisher_id", ''), "effective_from")`);
    await q(`CREATE INDEX "payout_rules_offer_idx" ON "payout_rules" ("offer_id")`);
    await q(`CREATE TABLE "reward_rules" (
      "rule_id" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      "publisher_id" character varying(64) NOT NULL,
      "currency_name" character varying(32) NOT NULL CONSTRAINT "reward_rules_currency_name" CHECK (length(btrim("currency_name")) > 0),
      "units_per_unit_micros" bigint NOT NULL CONSTRAINT "reward_rules_rate" CHECK ("units_per_unit_micros" > 0),
      "rounding" character varying(8) NOT NULL CONSTRAINT "reward_rules_rounding" CHECK ("rounding" IN ('floor', 'round', 'ceil')),
      "minimum" bigint NOT NULL DEFAULT 0 CONSTRAINT "reward_rules_minimum" CHECK ("minimum" >= 0),
      "effective_from" TIMESTAMP WITH TIME ZONE NOT NULL,
      "note" character varying(256),
      "created_by" character varying(64),
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())`);
    await q(`CREATE UNIQUE INDEX "reward_rules_key" ON "reward_rules" ("publisher_id", "effective_from")`);
    // A rule may not reach back over an entry already written for its offer (reward rules: its
    // publisher): the trigger waits for the decisions pricing that offer right now (they hold the
    // same advisory lock, shared; libs/ledger money-rules.ts), then looks at what they wrote.
    await q(`CREATE FUNCTION money_rules_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE bad record;
      BEGIN
        IF TG_OP <> 'INSERT' THEN
          RAISE EXCEPTION '% is never edited: % refused (a change is a new rule from a later time)', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_TABLE_NAME = 'payout_rules' THEN
          PERFORM pg_advisory_xact_lock(7300, hashtext(NEW.offer_id));
          SELECT entry_id, occurred_at INTO bad FROM ledger_entries
           WHERE offer_id = NEW.offer_id AND occurred_at >= NEW.effective_from LIMIT 1;
        ELSE
          PERFORM pg_advisory_xact_lock(7301, hashtext(NEW.publisher_id));
          SELECT entry_id, occurred_at INTO bad FROM ledger_entries
           WHERE publisher_id = NEW.publisher_id AND occurred_at >= NEW.effective_from LIMIT 1;
        END IF;
        IF FOUND THEN
          RAISE EXCEPTION '%: effective_from % would reach back over entry % (occurred %), already priced; a rule applies only after the entries it could change',
            TG_TABLE_NAME, NEW.effective_from, bad.entry_id, bad.occurred_at USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    for (const t of ['payout_rules', 'reward_rules']) {
      await q(
        `CREATE TRIGGER ${t}_guard BEFORE INSERT OR UPDATE OR DELETE ON "${t}" FOR EACH ROW EXECUTE FUNCTION money_rules_guard()`,
      );
      await q(
        `CREATE TRIGGER ${t}_no_truncate BEFORE TRUNCATE ON "${t}" FOR EACH STATEMENT EXECUTE FUNCTION money_rules_guard()`,
      );
    }

    // Each entry's money besides revenue (amount_micros); the margin is what is left of the revenue.
    await q(`ALTER TABLE "ledger_entries" ADD "payout_micros" bigint`);
    await q(`ALTER TABLE "ledger_entries" ADD "reward_amount" bigint`);
    await q(`ALTER TABLE "ledger_entries" ADD "reward_currency" character varying(32)`);
    await q(`ALTER TABLE "ledger_entries" ADD "payout_rule_id" bigint`);
    await q(`ALTER TABLE "ledger_entries" ADD "reward_rule_id" bigint`);
    await q(`ALTER TABLE "conversions" ADD "payout_micros" bigint`);
    await q(`ALTER TABLE "conversions" ADD "reward_amount" bigint`);
    await q(`ALTER TABLE "conversions" ADD "reward_currency" character varying(32)`);
    await q(`ALTER TABLE "conversions" ADD "payout_rule_id" bigint`);
    await q(`ALTER TABLE "conversions" ADD "reward_rule_id" bigint`);

    await q(`CREATE TABLE "ledger_postings" (
      "posting_id" character varying(40) PRIMARY KEY,
      "entry_id" character varying(32) NOT NULL,
      "account" character varying(160) NOT NULL,
      "currency" character(3) NOT NULL,
      "amount_micros" bigint NOT NULL CONSTRAINT "ledger_postings_nonzero" CHECK ("amount_micros" <> 0),
      "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())`);
    await q(`CREATE INDEX "ledger_postings_entry_idx" ON "ledger_postings" ("entry_id")`);
    await q(`CREATE FUNCTION ledger_postings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger_postings is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q(
      `CREATE TRIGGER ledger_postings_no_update_delete BEFORE UPDATE OR DELETE ON "ledger_postings" FOR EACH ROW EXECUTE FUNCTION ledger_postings_append_only()`,
    );
    await q(
      `CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON "ledger_postings" FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_append_only()`,
    );
    await q(`CREATE FUNCTION ledger_postings_balance() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE bad record;
      BEGIN
        SELECT entry_id, currency, sum(amount_micros) AS off INTO bad
          FROM added GROUP BY entry_id, currency HAVING sum(amount_micros) <> 0 LIMIT 1;
        IF FOUND THEN
          RAISE EXCEPTION 'ledger: postings of entry % do not balance in % (off by % micros)', bad.entry_id, bad.currency, bad.off
            USING ERRCODE = 'check_violation';
        END IF;
        SELECT a.entry_id, a.currency INTO bad FROM added a
          LEFT JOIN ledger_entries e ON e.entry_id = a.entry_id
         WHERE e.entry_id IS NULL OR e.currency <> a.currency LIMIT 1;
        IF FOUND THEN
          RAISE EXCEPTION 'ledger: postings of entry % name no ledger entry in %', bad.entry_id, bad.currency
            USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await q(
      `CREATE TRIGGER ledger_postings_balanced AFTER INSERT ON "ledger_postings" REFERENCING NEW TABLE AS added
         FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_balance()`,
    );

    // Entries before rules: the publisher was told (and is owed) the whole revenue. The
    // append-only guard is lifted for this one statement, by the owner, inside this transaction.
    await q('ALTER TABLE "ledger_entries" DISABLE TRIGGER ledger_entries_no_update_delete');
    await q(`UPDATE ledger_entries SET payout_micros = CASE
               WHEN publisher_id IS NULL OR entry_type IN ('pending', 'rejected') THEN 0 ELSE amount_micros END`);
    await q('ALTER TABLE "ledger_entries" ENABLE TRIGGER ledger_entries_no_update_delete');
    await q(
      `UPDATE conversions SET payout_micros = CASE WHEN publisher_id IS NULL THEN 0 ELSE amount_micros END`,
    );
    await q(`INSERT INTO ledger_postings (posting_id, entry_id, account, currency, amount_micros)
      SELECT l.entry_id || ':' || row_number() OVER (PARTITION BY l.entry_id ORDER BY leg.n), l.entry_id, leg.account,
             l.currency, CASE WHEN l.entry_type = 'reversed' THEN -leg.amount ELSE leg.amount END
        FROM ledger_entries l
        CROSS JOIN LATERAL (VALUES
          (1, 'advertiser_receivable:' || l.partner_id, l.amount_micros),
          (2, CASE WHEN l.publisher_id IS NOT NULL THEN 'publisher_payable:' || l.publisher_id END, -l.payout_micros),
          (3, 'platform_revenue', -(l.amount_micros - l.payout_micros))) AS leg(n, account, amount)
       WHERE l.entry_type IN ('approved', 'released', 'reversed', 'adjusted') AND leg.account IS NOT NULL AND leg.amount <> 0`);

    for (const [target, text] of Object.entries(COMMENTS))
      await q(`COMMENT ON ${target} IS '${text.replace(/'/g, "''")}'`);
    await q(
      'REVOKE UPDATE, DELETE, TRUNCATE ON "ledger_postings", "payout_rules", "reward_rules" FROM ledger_app',
    );
    await q(`DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_analyst') THEN
        GRANT SELECT ON "ledger_postings", "payout_rules", "reward_rules" TO ledger_analyst;
      END IF;
    END $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q('DROP TABLE "ledger_postings"');
    await q('DROP FUNCTION ledger_postings_balance()');
    await q('DROP FUNCTION ledger_postings_append_only()');
    for (const c of ['payout_micros', 'reward_amount', 'reward_currency', 'payout_rule_id', 'reward_rule_id'])
      await q(`ALTER TABLE "conversions" DROP COLUMN "${c}"`);
    for (const c of ['payout_micros', 'reward_amount', 'reward_currency', 'payout_rule_id', 'reward_rule_id'])
      await q(`ALTER TABLE "ledger_entries" DROP COLUMN "${c}"`);
    await q('DROP TABLE "reward_rules"');
    await q('DROP TABLE "payout_rules"');
    await q('DROP FUNCTION money_rules_guard()');
  }
}
