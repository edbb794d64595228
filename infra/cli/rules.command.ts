/**
 * `ledger rules payout|reward add|list`: what publishers earn and their users get
 * (docs/cli.md#payout-and-reward-rules). Values are checked by commands.ts with the same
 * parser the admin API uses; a rule is only ever added (audited under `cli:<operator>`), and a
 * refused one (unknown offer or publisher, a start in the past, a rule at that start) exits 1.
 */
import type { DataSource } from 'typeorm';
import {
  addPayoutRule,
  addRewardRule,
  listPayoutRules,
  listRewardRules,
  parsePayoutRule,
  type PayoutRuleInput,
  type PayoutRuleView,
  parseRewardRule,
  parseRuleTime,
  type RewardRuleInput,
  type RewardRuleView,
  RuleRefused,
} from '@app/money-rules';
import { writeAudit } from '@app/operators';
import { type ParsedCommand, UsageError } from './command-line';
import { out, outJson } from './output';
import { cliAuditor, operatorOf } from './read-models.command';
import { table } from './table';

/** The options of `rules ... add` by the API field they fill. */
export const PAYOUT_OPTIONS: Record<string, string> = {
  offer_id: 'offer',
  goal: 'goal',
  publisher_id: 'publisher',
  share_percent: 'share',
  amount: 'amount',
  effective_from: 'from',
  note: 'note',
};
export const REWARD_OPTIONS: Record<string, string> = {
  publisher_id: 'publisher',
  currency_name: 'currency-name',
  units_per_unit: 'per-unit',
  rounding: 'rounding',
  minimum: 'minimum',
  effective_from: 'from',
  note: 'note',
};

/** The field's option in a refusal: "share_percent must be ..." reads "--share must be ...". */
function asUsage(e: RuleRefused, options: Record<string, string>): UsageError {
  const opt = options[e.field] ?? e.field;
  return new UsageError(e.message.replace(new RegExp(`\\b${e.field}\\b`, 'g'), `--${opt}`));
}

export function payoutInput(opts: Map<string, string>): PayoutRuleInput {
  if (opts.has('share') === opts.has('amount'))
    throw new UsageError('give --share PERCENT or --amount AMOUNT');
  try {
    return parsePayoutRule({
      offer_id: opts.get('offer'),
      goal: opts.get('goal'),
      publisher_id: opts.get('publisher'),
      kind: opts.has('share') ? 'share' : 'fixed',
      share_percent: opts.get('share'),
      amount: opts.get('amount'),
      effective_from: opts.get('from'),
      note: opts.get('note'),
    });
  } catch (e) {
    throw e instanceof RuleRefused ? asUsage(e, PAYOUT_OPTIONS) : e;
  }
}

export function rewardInput(opts: Map<string, string>): RewardRuleInput {
  try {
    return parseRewardRule({
      publisher_id: opts.get('publisher'),
      currency_name: opts.get('currency-name'),
      units_per_unit: opts.get('per-unit'),
      rounding: opts.get('rounding'),
      minimum: opts.get('minimum'),
      effective_from: opts.get('from'),
      note: opts.get('note'),
    });
  } catch (e) {
    throw e instanceof RuleRefused ? asUsage(e, REWARD_OPTIONS) : e;
  }
}

export function atOption(opts: Map<string, string>): Date {
  const at = opts.get('at');
  if (at === undefined) return new Date();
  try {
    return parseRuleTime(at, 'at');
  } catch (e) {
    throw e instanceof RuleRefused ? asUsage(e, { at: 'at' }) : e;
  }
}

const when = (iso: string) => iso.replace('T', ' ').replace(/\.000Z$/, 'Z');
const payoutOf = (r: Pick<PayoutRuleView, 'kind' | 'share_percent' | 'amount' | 'currency'>) =>
  r.kind === 'share' ? `${r.share_percent} %` : `${r.amount} ${r.currency ?? ''}`.trim();

const payoutTable = (items: PayoutRuleView[]) =>
  table(
    ['rule', 'offer', 'goal', 'publisher', 'payout', 'from (UTC)', 'in force', 'note'],
    items.map((r) => [
      r.rule_id,
      r.offer_id,
      r.goal ?? '*',
      r.publisher_id ?? '*',
      payoutOf(r),
      when(r.effective_from),
      r.in_force ? 'yes' : '',
      r.note ?? '',
    ]),
  );

const rewardTable = (items: RewardRuleView[]) =>
  table(
    ['rule', 'publisher', 'reward per unit', 'rounding', 'minimum', 'from (UTC)', 'in force', 'note'],
    items.map((r) => [
      r.rule_id,
      r.publisher_id,
      `${r.units_per_unit} ${r.currency_name}`,
      r.rounding,
      String(r.minimum),
      when(r.effective_from),
      r.in_force ? 'yes' : '',
      r.note ?? '',
    ]),
  );

async function add(ds: DataSource, p: ParsedCommand, kind: 'payout' | 'reward'): Promise<number> {
  const operator = operatorOf(p.opts);
  const rule = await ds.transaction(async (em) => {
    const r =
      kind === 'payout'
        ? await addPayoutRule(em, payoutInput(p.opts), `cli:${operator}`)
        : await addRewardRule(em, rewardInput(p.opts), `cli:${operator}`);
    await writeAudit(em, cliAuditor(operator), {
      action: `${kind}_rule.create`,
      subject: `${kind}_rule:${r.rule_id}`,
      request: Object.fromEntries(p.opts),
      before: null,
      after: r,
    });
    return r;
  });
  if (p.json) outJson(rule);
  else out(kind === 'payout' ? payoutTable([rule as PayoutRuleView]) : rewardTable([rule as RewardRuleView]));
  return 0;
}

const footer = (n: number, at: string, truncated: boolean) =>
  `\n${n} rule(s), in force at ${when(at)}${truncated ? ' (more match: narrow the filters)' : ''}`;

async function list(ds: DataSource, p: ParsedCommand, kind: 'payout' | 'reward'): Promise<number> {
  const at = atOption(p.opts);
  const publisherId = p.opts.get('publisher');
  if (kind === 'reward') {
    const r = await listRewardRules(ds.manager, { publisherId, at });
    if (p.json) outJson(r);
    else out(`${rewardTable(r.items)}\n${footer(r.items.length, r.at, r.truncated)}`);
    return 0;
  }
  const r = await listPayoutRules(ds.manager, { offerId: p.opts.get('offer'), publisherId, at });
  if (p.json) {
    outJson(r);
    return 0;
  }
  out(`${payoutTable(r.items)}\n${footer(r.items.length, r.at, r.truncated)}`);
  if (r.applies?.length)
    out(
      `\n${table(
        ['goal', 'publisher', 'rule', 'payout'],
        r.applies.map((a) => [
          a.goal,
          a.publisher_id ?? '(others)',
          a.rule_id ?? '-',
          a.kind === null ? 'the whole revenue (no rule)' : payoutOf({ ...a, kind: a.kind, currency: null }),
        ]),
      )}`,
    );
  return 0;
}

export async function rules(ds: DataSource, p: ParsedCommand): Promise<number> {
  const [, kind, cmd] = p.spec.path as [string, 'payout' | 'reward', 'add' | 'list'];
  try {
    return cmd === 'add' ? await add(ds, p, kind) : await list(ds, p, kind);
  } catch (e) {
    if (!(e instanceof RuleRefused)) throw e;
    process.stderr.write(
      `ledger rules ${kind} ${cmd}: refused: ${asUsage(e, kind === 'payout' ? PAYOUT_OPTIONS : REWARD_OPTIONS).message}\n`,
    );
    if (p.json) outJson({ refused: { code: e.code, field: e.field, message: e.message } });
    return 1;
  }
}
