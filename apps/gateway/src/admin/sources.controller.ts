import { Body, Controller, Get, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IsIn, IsString, Length } from 'class-validator';
import { DataSource } from 'typeorm';
import { ApiError } from '../http/api-error';
import { AdminGuard } from './admin.guard';

export class UnblockSourceDto {
  @IsIn(['sub1', 'placement'], { message: 'kind must be sub1 or placement' }) kind!: 'sub1' | 'placement';
  @IsString() @Length(1, 64) publisher_id!: string;
  @IsString() @Length(1, 256) value!: string;
}

/** Routing controls: sources blocked for their rejection rate, and today's counts per source. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/sources')
export class SourcesAdminController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @Get()
  @ApiOperation({ summary: "Every source's counts for today (UTC) and whether it is blocked" })
  async list() {
    return this.ds.query<Record<string, unknown>[]>(
      `SELECT s.kind, s.publisher_id, s.value, s.decided, s.rejected,
              round(s.rejected::numeric / greatest(s.decided, 1), 4)::float AS rejection_rate,
              b.blocked_at IS NOT NULL AS blocked, b.blocked_at, b.reason
         FROM source_daily_stats s
         LEFT JOIN source_blocks b USING (kind, publisher_id, value)
        WHERE s.day = (now() AT TIME ZONE 'UTC')::date
        ORDER BY rejection_rate DESC, s.decided DESC LIMIT 1000`,
    );
  }

  @Get('blocks')
  @ApiOperation({ summary: 'Blocked sources: their new conversions are rejected blocked_source' })
  async blocks() {
    return this.ds.query<Record<string, unknown>[]>(
      `SELECT kind, publisher_id, value, blocked_at, decided, rejected, reason FROM source_blocks ORDER BY blocked_at DESC`,
    );
  }

  @Post('unblock')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Let a blocked source convert again (it is blocked again if it crosses the threshold again)',
  })
  async unblock(@Body() dto: UnblockSourceDto) {
    const res = await this.ds.query<[unknown[], number]>(
      `DELETE FROM source_blocks WHERE kind = $1 AND publisher_id = $2 AND value = $3 RETURNING kind`,
      [dto.kind, dto.publisher_id, dto.value],
    );
    if (res[1] === 0) throw new ApiError(404, 'not_blocked', 'that source is not blocked');
    // Today's counts restart, so it is judged on what it sends from now on.
    await this.ds.query(
      `DELETE FROM source_daily_stats WHERE kind = $1 AND publisher_id = $2 AND value = $3 AND day = (now() AT TIME ZONE 'UTC')::date`,
      [dto.kind, dto.publisher_id, dto.value],
    );
    return { status: 'unblocked', ...dto };
  }
}
