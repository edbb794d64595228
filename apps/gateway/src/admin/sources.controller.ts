import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Length, Max, Min, ValidateIf } from 'class-validator';
import { DataSource, type EntityManager } from 'typeorm';
import { parseCidrList } from '@app/domain';
import { type OperatorIdentity, writeAudit } from '@app/operators';
import { ApiError } from '../http/api-error';
import { AdminGuard, CurrentOperator } from './admin.guard';

const ACTIONS = ['block', 'hold', 'cap'] as const;
const ACTION_MESSAGE = 'action must be block, hold or cap';
const CAP_MESSAGE = 'daily_cap (a whole number >= 1) is required with action cap';

export class SourceDto {
  @IsIn(['sub1', 'placement'], { message: 'kind must be sub1 or placement' }) kind!: 'sub1' | 'placement';
  @IsString() @Length(1, 64) publisher_id!: string;
  @IsString() @Length(1, 256) value!: string;
}

export class SourceControlDto extends SourceDto {
  @IsIn(ACTIONS, { message: ACTION_MESSAGE }) action!: (typeof ACTIONS)[number];
  @ValidateIf((o: SourceControlDto) => o.action === 'cap' || o.daily_cap !== undefined)
  @IsInt({ message: CAP_MESSAGE })
  @Min(1, { message: CAP_MESSAGE })
  daily_cap?: number;
  @IsOptional() @IsString() @Length(1, 256) note?: string;
}

export class SourcePolicyDto {
  /** 0 turns automatic controls off. */
  @IsInt() @Min(0) @Max(1_000_000) min_decisions!: number;
  @IsNumber({}, { message: 'reject_rate must be a number from 0.01 to 1' })
  @Min(0.01, { message: 'reject_rate must be a number from 0.01 to 1' })
  @Max(1, { message: 'reject_rate must be a number from 0.01 to 1' })
  reject_rate!: number;
  @IsIn(ACTIONS, { message: ACTION_MESSAGE }) action!: (typeof ACTIONS)[number];
  @ValidateIf((o: SourcePolicyDto) => o.action === 'cap' || o.daily_cap !== undefined)
  @IsInt({ message: CAP_MESSAGE })
  @Min(1, { message: CAP_MESSAGE })
  daily_cap?: number;
}

export class TrafficRuleDto {
  @IsIn(['ip', 'user_agent'], { message: 'kind must be ip or user_agent' }) kind!: 'ip' | 'user_agent';
  /** ip: an address or CIDR range; user_agent: a case-insensitive substring (3+ characters). */
  @IsString() @Length(1, 256) value!: string;
  @IsOptional() @IsString() @Length(1, 256) note?: string;
}

const TODAY = `(now() AT TIME ZONE 'UTC')::date`;

const CONTROL_COLUMNS = 'kind, publisher_id, value, action, daily_cap, origin, since, reason';
const POLICY_COLUMNS = 'min_decisions, reject_rate, action, daily_cap, updated_at';

async function controlOf(em: EntityManager, s: SourceDto): Promise<Record<string, unknown> | null> {
  const [row] = await em.query<Record<string, unknown>[]>(
    `SELECT ${CONTROL_COLUMNS} FROM source_controls WHERE kind = $1 AND publisher_id = $2 AND value = $3 FOR UPDATE`,
    [s.kind, s.publisher_id, s.value],
  );
  return row ?? null;
}

/**
 * Routing controls: each source's counts today and the control in force on it (block, hold for
 * review, reduced daily cap), set automatically by the policy or by an operator; the policy
 * itself; and traffic-quality deny rules.
 */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin')
export class SourcesAdminController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @ApiResponse({ status: 200, description: "Every source's counts for today and its control" })
  @Get('sources')
  @ApiOperation({ summary: "Every source's counts for today (UTC) and the control in force on it, if any" })
  async list() {
    return this.ds.query<Record<string, unknown>[]>(
      `SELECT s.kind, s.publisher_id, s.value, s.decided, s.rejected, s.approved,
              round(s.rejected::numeric / greatest(s.decided, 1), 4)::float AS rejection_rate,
              c.action AS control, c.daily_cap, c.origin, c.since, c.reason
         FROM source_daily_stats s
         LEFT JOIN source_controls c USING (kind, publisher_id, value)
        WHERE s.day = ${TODAY}
        ORDER BY rejection_rate DESC, s.decided DESC LIMIT 1000`,
    );
  }

  @ApiResponse({ status: 200, description: 'The controls in force' })
  @Get('sources/controls')
  @ApiOperation({
    summary: 'Controls in force: block (blocked_source), hold (fraud_suspected), cap (cap_exceeded)',
  })
  async controls() {
    return this.ds.query<Record<string, unknown>[]>(
      `SELECT kind, publisher_id, value, action, daily_cap, origin, since, decided, rejected, reason
         FROM source_controls ORDER BY since DESC`,
    );
  }

  @ApiResponse({ status: 200, description: 'The control as stored' })
  @Put('sources/controls')
  @HttpCode(200)
  @ApiOperation({ summary: "Set an operator's control on a source (replaces any control in force)" })
  async setControl(@Body() dto: SourceControlDto, @CurrentOperator() op: OperatorIdentity) {
    const reason = dto.note ?? `set by ${op.name}`;
    return this.ds.transaction(async (em) => {
      const before = await controlOf(em, dto);
      const [row] = await em.query<Record<string, unknown>[]>(
        `INSERT INTO source_controls (kind, publisher_id, value, action, daily_cap, origin, since, reason)
         VALUES ($1, $2, $3, $4, $5, 'operator', now(), $6)
         ON CONFLICT (kind, publisher_id, value) DO UPDATE SET action = EXCLUDED.action, daily_cap = EXCLUDED.daily_cap,
           origin = 'operator', since = now(), decided = NULL, rejected = NULL, reason = EXCLUDED.reason
         RETURNING ${CONTROL_COLUMNS}`,
        [
          dto.kind,
          dto.publisher_id,
          dto.value,
          dto.action,
          dto.action === 'cap' ? dto.daily_cap : null,
          reason,
        ],
      );
      await writeAudit(em, op, {
        action: 'source_control.set',
        subject: `source:${dto.publisher_id}:${dto.kind}:${dto.value}`,
        request: dto,
        before,
        after: row ?? null,
      });
      return row;
    });
  }

  @ApiResponse({ status: 200, description: '{"status": "unblocked", ...}: the control lifted' })
  @Post('sources/unblock')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Lift the control on a source (the policy controls it again if it crosses the threshold again)',
  })
  async unblock(@Body() dto: SourceDto, @CurrentOperator() op: OperatorIdentity) {
    return this.ds.transaction(async (em) => {
      const before = await controlOf(em, dto);
      if (!before) throw new ApiError(404, 'not_controlled', 'no control is in force on that source');
      await em.query(`DELETE FROM source_controls WHERE kind = $1 AND publisher_id = $2 AND value = $3`, [
        dto.kind,
        dto.publisher_id,
        dto.value,
      ]);
      // Today's counts restart, so it is judged on what it sends from now on.
      await em.query(
        `DELETE FROM source_daily_stats WHERE kind = $1 AND publisher_id = $2 AND value = $3 AND day = ${TODAY}`,
        [dto.kind, dto.publisher_id, dto.value],
      );
      await writeAudit(em, op, {
        action: 'source_control.lift',
        subject: `source:${dto.publisher_id}:${dto.kind}:${dto.value}`,
        request: dto,
        before,
        after: null,
      });
      return { status: 'unblocked', ...dto };
    });
  }

  @ApiResponse({ status: 200, description: 'The policy in force' })
  @Get('sources/policy')
  @ApiOperation({ summary: 'The automatic policy: thresholds and the control it applies' })
  async policy() {
    const [row] = await this.ds.query<Record<string, unknown>[]>(
      `SELECT min_decisions, reject_rate, action, daily_cap, updated_at FROM source_policy WHERE id = 1`,
    );
    return row;
  }

  @ApiResponse({ status: 200, description: 'The policy as stored' })
  @Put('sources/policy')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Set the policy: past min_decisions new conversions in a UTC day with reject_rate hard rejects, a source gets action',
  })
  async setPolicy(@Body() dto: SourcePolicyDto, @CurrentOperator() op: OperatorIdentity) {
    return this.ds.transaction(async (em) => {
      const [before] = await em.query<Record<string, unknown>[]>(
        `SELECT ${POLICY_COLUMNS} FROM source_policy WHERE id = 1 FOR UPDATE`,
      );
      const [row] = await em.query<Record<string, unknown>[]>(
        `INSERT INTO source_policy (id, min_decisions, reject_rate, action, daily_cap, updated_at)
         VALUES (1, $1, $2, $3, $4, now())
         ON CONFLICT (id) DO UPDATE SET min_decisions = EXCLUDED.min_decisions, reject_rate = EXCLUDED.reject_rate,
           action = EXCLUDED.action, daily_cap = EXCLUDED.daily_cap, updated_at = now()
         RETURNING ${POLICY_COLUMNS}`,
        [dto.min_decisions, dto.reject_rate, dto.action, dto.action === 'cap' ? dto.daily_cap : null],
      );
      await writeAudit(em, op, {
        action: 'source_policy.set',
        subject: 'source_policy',
        request: dto,
        before: before ?? null,
        after: row ?? null,
      });
      return row;
    });
  }

  @ApiResponse({ status: 200, description: 'Every deny rule' })
  @Get('traffic-rules')
  @ApiOperation({
    summary: 'Traffic-quality deny rules: clicks matching them convert as traffic_quality rejects',
  })
  async rules() {
    return this.ds.query<Record<string, unknown>[]>(
      `SELECT id, kind, value, note, created_at FROM traffic_rules ORDER BY id`,
    );
  }

  @ApiResponse({ status: 201, description: 'The rule as stored, with its id' })
  @Post('traffic-rules')
  @ApiOperation({ summary: 'Add a deny rule: an IP address or CIDR range, or a user-agent substring' })
  async addRule(@Body() dto: TrafficRuleDto, @CurrentOperator() op: OperatorIdentity) {
    const value = dto.value.trim();
    if (dto.kind === 'ip') {
      const parsed = parseCidrList([value]);
      if (!parsed.ok) throw ApiError.badField('value', `not an IP address or CIDR range: ${parsed.message}`);
    } else if (value.length < 3) {
      throw ApiError.badField('value', 'a user-agent pattern needs at least 3 characters');
    }
    return this.ds.transaction(async (em) => {
      const rows = await em.query<Record<string, unknown>[]>(
        `INSERT INTO traffic_rules (kind, value, note) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
         RETURNING id, kind, value, note, created_at`,
        [dto.kind, value, dto.note ?? null],
      );
      if (rows.length === 0) throw new ApiError(409, 'conflict', `that ${dto.kind} rule exists already`);
      await writeAudit(em, op, {
        action: 'traffic_rule.add',
        subject: `traffic_rule:${String(rows[0]!.id)}`,
        request: dto,
        before: null,
        after: rows[0],
      });
      return rows[0];
    });
  }

  @ApiResponse({ status: 200, description: '{"status": "removed", "id"}' })
  @Delete('traffic-rules/:id')
  @ApiOperation({ summary: 'Remove a deny rule' })
  async removeRule(@Param('id') id: string, @CurrentOperator() op: OperatorIdentity) {
    if (!/^\d{1,9}$/.test(id)) throw ApiError.badField('id', 'id must be a rule number');
    return this.ds.transaction(async (em) => {
      const [rows] = await em.query<[Record<string, unknown>[], number]>(
        `DELETE FROM traffic_rules WHERE id = $1 RETURNING id, kind, value, note, created_at`,
        [Number(id)],
      );
      if (!rows[0]) throw new ApiError(404, 'not_found', `no traffic rule ${id}`);
      await writeAudit(em, op, {
        action: 'traffic_rule.remove',
        subject: `traffic_rule:${id}`,
        before: rows[0],
        after: null,
      });
      return { status: 'removed', id: Number(id) };
    });
  }
}
