import { Body, Controller, Get, Inject, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { trialBalance } from '@app/ledger';
import {
  addPayoutRule,
  addRewardRule,
  listPayoutRules,
  listRewardRules,
  parsePayoutRule,
  parseRewardRule,
  parseRuleTime,
  RuleRefused,
} from '@app/money-rules';
import { type OperatorIdentity, writeAudit } from '@app/operators';
import { ApiError } from '../http/api-error';
import { AdminGuard, CurrentOperator } from './admin.guard';
import {
  CreatePayoutRuleDto,
  CreateRewardRuleDto,
  PayoutRulesQuery,
  RewardRulesQuery,
} from './money-rules.dto';

const STATUS = { invalid: 400, unknown: 404, conflict: 409 } as const;

/** A refused rule as the API's error: 400 a bad field, 404 an unknown offer or publisher, 409 a rule at that start. */
async function answering<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof RuleRefused) throw new ApiError(STATUS[e.reason], e.code, e.message, e.field);
    throw e;
  }
}

const atOf = (at: string | undefined) => (at === undefined ? new Date() : parseRuleTime(at, 'at'));

/**
 * What publishers earn per offer (docs/admin-api.md#payout-and-reward-rules). Rules are only
 * added: a change is a new rule from a later time, so entries already written keep their price.
 */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/payout-rules')
export class PayoutRulesAdminController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @ApiResponse({ status: 201, description: 'The rule as stored (effective_from set)' })
  @ApiResponse({ status: 404, description: 'unknown_offer or unknown_publisher' })
  @ApiResponse({
    status: 409,
    description: 'rule_exists: that offer, goal and publisher have a rule at that start',
  })
  @Post()
  @ApiOperation({
    summary:
      "Add a payout rule from a time on: a share of the revenue or a fixed amount in the offer's currency, for every publisher or one (an override)",
  })
  async create(@Body() dto: CreatePayoutRuleDto, @CurrentOperator() op: OperatorIdentity) {
    return answering(() =>
      this.ds.transaction(async (em) => {
        const rule = await addPayoutRule(em, parsePayoutRule(dto), op.name);
        await writeAudit(em, op, {
          action: 'payout_rule.create',
          subject: `payout_rule:${rule.rule_id}`,
          request: dto,
          before: null,
          after: rule,
        });
        return rule;
      }),
    );
  }

  @ApiResponse({
    status: 200,
    description:
      '{"at", "items": [rule + in_force], "applies"?: [{goal, publisher_id, rule_id, kind, share_percent, amount}], "truncated"}',
  })
  @Get()
  @ApiOperation({ summary: 'Payout rules, newest start first, each marked when it is in force at `at`' })
  async list(@Query() q: PayoutRulesQuery) {
    return answering(() =>
      listPayoutRules(this.ds.manager, { offerId: q.offer_id, publisherId: q.publisher_id, at: atOf(q.at) }),
    );
  }
}

/** What a publisher app's users get, in its virtual currency, per unit of its payout. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/reward-rules')
export class RewardRulesAdminController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @ApiResponse({ status: 201, description: 'The rule as stored (effective_from set)' })
  @ApiResponse({ status: 404, description: 'unknown_publisher' })
  @ApiResponse({ status: 409, description: 'rule_exists: the publisher has a rule at that start' })
  @Post()
  @ApiOperation({ summary: "Add a reward rule from a time on for a publisher app's virtual currency" })
  async create(@Body() dto: CreateRewardRuleDto, @CurrentOperator() op: OperatorIdentity) {
    return answering(() =>
      this.ds.transaction(async (em) => {
        const rule = await addRewardRule(em, parseRewardRule(dto), op.name);
        await writeAudit(em, op, {
          action: 'reward_rule.create',
          subject: `reward_rule:${rule.rule_id}`,
          request: dto,
          before: null,
          after: rule,
        });
        return rule;
      }),
    );
  }

  @ApiResponse({ status: 200, description: '{"at", "items": [rule + in_force], "truncated"}' })
  @Get()
  @ApiOperation({ summary: 'Reward rules, newest start first, each marked when it is in force at `at`' })
  async list(@Query() q: RewardRulesQuery) {
    return answering(() => listRewardRules(this.ds.manager, { publisherId: q.publisher_id, at: atOf(q.at) }));
  }
}

/** The ledger's double entry summed (docs/admin-api.md#trial-balance). */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/trial-balance')
export class TrialBalanceAdminController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @ApiResponse({
    status: 200,
    description:
      '{"accounts": [{account, currency, debit_micros, credit_micros, balance_micros}], "totals": [{currency, debit_micros, credit_micros, difference_micros}], "entries_without_postings", "balanced"}: 200 even when balanced is false',
  })
  @Get()
  @ApiOperation({
    summary:
      'Debits and credits per account and currency; balanced: false on any imbalance or unposted money entry',
  })
  async get() {
    return trialBalance(this.ds.manager);
  }
}
