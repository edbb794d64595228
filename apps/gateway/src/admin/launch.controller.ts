import { Body, Controller, Get, HttpCode, Inject, Param, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { DataSource } from 'typeorm';
import { CRITERIA_FIELDS, launchCheck, reportQueryProblem } from '@app/persistence';
import { ApiError } from '../http/api-error';
import { AdminGuard } from './admin.guard';

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

  @Get('launch-criteria')
  @ApiOperation({ summary: 'The default criteria and every partner or offer override' })
  async list() {
    return this.ds.query<Record<string, unknown>[]>(
      `SELECT scope, subject, ${CRITERIA_FIELDS.join(', ')}, updated_at FROM launch_criteria ORDER BY scope, subject`,
    );
  }

  @Put('launch-criteria/default')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set the default criteria (every field)' })
  setDefault(@Body() dto: LaunchCriteriaDto) {
    return this.upsert('default', '', dto);
  }

  @Put('launch-criteria/:scope/:subject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set a partner or offer override (fields left out inherit the default)' })
  set(@Param('scope') scope: string, @Param('subject') subject: string, @Body() dto: LaunchCriteriaDto) {
    if (scope !== 'partner' && scope !== 'offer')
      throw ApiError.badField('scope', 'scope must be partner or offer');
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(subject)) throw ApiError.badField('subject', `not a ${scope} id`);
    return this.upsert(scope, subject, dto);
  }

  private async upsert(scope: string, subj: string, dto: LaunchCriteriaDto) {
    const values = CRITERIA_FIELDS.map((f) => dto[f] ?? null);
    if (scope === 'default' && values.some((v) => v === null))
      throw ApiError.badField(
        CRITERIA_FIELDS[values.findIndex((v) => v === null)]!,
        'the default criteria need every field',
      );
    const [row] = await this.ds.query<Record<string, unknown>[]>(
      `INSERT INTO launch_criteria (scope, subject, ${CRITERIA_FIELDS.join(', ')}, updated_at)
       VALUES ($1, $2, ${CRITERIA_FIELDS.map((_, i) => `$${i + 3}`).join(', ')}, now())
       ON CONFLICT (scope, subject) DO UPDATE SET ${CRITERIA_FIELDS.map((f) => `${f} = EXCLUDED.${f}`).join(', ')},
         updated_at = now()
       RETURNING scope, subject, ${CRITERIA_FIELDS.join(', ')}, updated_at`,
      [scope, subj, ...values],
    );
    return row;
  }

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
