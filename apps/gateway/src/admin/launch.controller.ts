import { Body, Controller, Get, HttpCode, Inject, Param, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { DataSource } from 'typeorm';
import { type OperatorIdentity, writeAudit } from '@app/operators';
import { CRITERIA_FIELDS, launchCheck, reportQueryProblem } from '@app/read-models';
import { ApiError } from '../http/api-error';
import { AdminGuard, CurrentOperator } from './admin.guard';

const RATE = { message: 'rates are numbers from 0 to 1' };

/** Any field left out (or null) inherits the default row. */
export class LaunchCriteriaDto {
  @IsOptional() @IsInt() @Min(0) min_postbacks?: number | null;
  @IsOptional() @IsNumber({}, RATE) @Min(0, RATE) @Max(1, RATE) min_acceptance_rate?: number | null;
  @IsOptional() @IsNumber({}, RATE) @Min(0, RATE) @Max(1, RATE) max_duplicate_rate?: number | null;
  @IsOptional() @IsNumber({}, RATE) @Min(0, RATE) @Max(1, RATE) max_soft_reject_rate?: number | null;
  @IsOptional() @IsInt() @Min(1) max_latency_p99_seconds?: number | null;
  @IsOptional() @IsNumber({}, RATE) @Min(0, RATE) @Max(1, RATE) max_late_rate?: number | null;
}

export class LaunchCheckQuery {
  @IsString() from!: string;
  @IsString() to!: string;
  @IsOptional() @IsString() @Length(1, 64) partner_id?: string;
  @IsOptional() @IsString() @Length(1, 64) offer_id?: string;
}

/** Launch gates: acceptance criteria per partner and offer, and their check over a range of UTC days. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin')
export class LaunchAdminController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @ApiResponse({ status: 200, description: 'The default criteria and every override' })
  @Get('launch-criteria')
  @ApiOperation({ summary: 'The default criteria and every partner or offer override' })
  async list() {
    return this.ds.query<Record<string, unknown>[]>(
      `SELECT scope, subject, ${CRITERIA_FIELDS.join(', ')}, updated_at FROM launch_criteria ORDER BY scope, subject`,
    );
  }

  @ApiResponse({ status: 200, description: 'The default criteria as stored' })
  @Put('launch-criteria/default')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set the default criteria (every field)' })
  setDefault(@Body() dto: LaunchCriteriaDto, @CurrentOperator() op: OperatorIdentity) {
    return this.upsert('default', '', dto, op);
  }

  @ApiResponse({ status: 200, description: 'The override as stored, with the effective criteria' })
  @Put('launch-criteria/:scope/:subject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set a partner or offer override (fields left out inherit the default)' })
  set(
    @Param('scope') scope: string,
    @Param('subject') subject: string,
    @Body() dto: LaunchCriteriaDto,
    @CurrentOperator() op: OperatorIdentity,
  ) {
    if (scope !== 'partner' && scope !== 'offer')
      throw ApiError.badField('scope', 'scope must be partner or offer');
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(subject)) throw ApiError.badField('subject', `not a ${scope} id`);
    return this.upsert(scope, subject, dto, op);
  }

  private async upsert(scope: string, subj: string, dto: LaunchCriteriaDto, op: OperatorIdentity) {
    const values = CRITERIA_FIELDS.map((f) => dto[f] ?? null);
    if (scope === 'default' && values.some((v) => v === null))
      throw ApiError.badField(
        CRITERIA_FIELDS[values.findIndex((v) => v === null)]!,
        'the default criteria need every field',
      );
    const columns = `scope, subject, ${CRITERIA_FIELDS.join(', ')}, updated_at`;
    return this.ds.transaction(async (em) => {
      const [before] = await em.query<Record<string, unknown>[]>(
        `SELECT ${columns} FROM launch_criteria WHERE scope = $1 AND subject = $2 FOR UPDATE`,
        [scope, subj],
      );
      const [row] = await em.query<Record<string, unknown>[]>(
        `INSERT INTO launch_criteria (scope, subject, ${CRITERIA_FIELDS.join(', ')}, updated_at)
         VALUES ($1, $2, ${CRITERIA_FIELDS.map((_, i) => `$${i + 3}`).join(', ')}, now())
         ON CONFLICT (scope, subject) DO UPDATE SET ${CRITERIA_FIELDS.map((f) => `${f} = EXCLUDED.${f}`).join(', ')},
           updated_at = now()
         RETURNING ${columns}`,
        [scope, subj, ...values],
      );
      await writeAudit(em, op, {
        action: 'launch_criteria.set',
        subject: scope === 'default' ? 'launch_criteria:default' : `launch_criteria:${scope}:${subj}`,
        request: dto,
        before: before ?? null,
        after: row ?? null,
      });
      return row;
    });
  }

  @ApiResponse({
    status: 200,
    description:
      'Pass or fail per criterion with the measured value and the threshold, and the overall verdict',
  })
  @Get('launch-check')
  @ApiOperation({
    summary: 'Pass/fail per criterion with the measured value, for a partner and/or offer over UTC days',
  })
  async check(@Query() q: LaunchCheckQuery) {
    const problem = reportQueryProblem({ from: q.from, to: q.to });
    if (problem) throw ApiError.badField(problem.split(' ')[0]!, problem);
    return launchCheck(this.ds.manager, {
      from: q.from,
      to: q.to,
      partnerId: q.partner_id,
      offerId: q.offer_id,
    });
  }
}
