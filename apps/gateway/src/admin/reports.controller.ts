import { Controller, Get, Inject, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import {
  DEFAULT_GROUP_BY,
  latencyReport,
  reconciliationReport,
  reconCsv,
  type ReportDimension,
  reportQueryProblem,
  type ReportQuery,
  ReportRatesMissing,
} from '@app/read-models';
import { ApiError } from '../http/api-error';
import { AdminGuard } from './admin.guard';
import { ReportsDatabase, type ReportSource } from './reports-database';

export class ReportQueryDto {
  /** First UTC day (YYYY-MM-DD), inclusive. */
  @IsString() from!: string;
  /** Last UTC day (YYYY-MM-DD), inclusive. */
  @IsString() to!: string;
  /** Comma-separated: day, partner, offer, publisher, source, placement, geo. */
  @IsOptional() @IsString() @Length(0, 200) group_by?: string;
  @IsOptional() @IsString() @Length(1, 64) partner_id?: string;
  @IsOptional() @IsString() @Length(1, 64) offer_id?: string;
  @IsOptional() @IsString() @Length(1, 64) publisher_id?: string;
  /** sub1 of the click (reconciliation only: latency is not split by source). */
  @IsOptional() @IsString() @Length(1, 256) source?: string;
  @IsOptional() @IsString() @Length(1, 128) placement?: string;
  @IsOptional() @IsString() @Length(1, 2) geo?: string;
  @IsOptional() @IsIn(['json', 'csv'], { message: 'format must be json or csv' }) format?: 'json' | 'csv';
  /** Reconciliation: every amount in this currency, each day at that day's rate (409 rates_missing without one). */
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be a 3-letter upper-case code' })
  currency?: string;
}

function toQuery(dto: ReportQueryDto, defaults: ReportDimension[]): ReportQuery {
  const groupBy =
    dto.group_by === undefined
      ? defaults
      : dto.group_by
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  const problem = reportQueryProblem({ from: dto.from, to: dto.to, groupBy });
  if (problem) throw ApiError.badField(problem.split(' ')[0]!.replace(':', ''), problem);
  return {
    from: dto.from,
    to: dto.to,
    groupBy: [...new Set(groupBy)] as ReportDimension[],
    partnerId: dto.partner_id,
    offerId: dto.offer_id,
    publisherId: dto.publisher_id,
    source: dto.source,
    placement: dto.placement,
    geo: dto.geo,
    currency: dto.currency,
  };
}

/**
 * Reports over the read models. Days are UTC. They read REPORTS_DATABASE_URL when set (a
 * replica); each answer says where it was read and how far that replica is behind (`source`
 * in JSON, `X-Report-Source` and `X-Replica-Lag-Seconds` headers with CSV too).
 */
@ApiTags('reports')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/reports')
export class ReportsController {
  constructor(@Inject(ReportsDatabase) private readonly db: ReportsDatabase) {}

  private async source(reply: FastifyReply): Promise<ReportSource> {
    const source = await this.db.source();
    void reply
      .header('x-report-source', source.database)
      .header('x-replica-lag-seconds', String(source.replica_lag_seconds ?? ''));
    return source;
  }

  @ApiResponse({
    status: 200,
    description: 'Rows per group and totals (JSON, or CSV with format=csv or Accept: text/csv)',
  })
  @Get('reconciliation')
  @ApiOperation({
    summary:
      'Reconciliation per group (JSON, or CSV with format=csv or Accept: text/csv); totals equal the ledger',
  })
  async reconciliation(@Query() dto: ReportQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const query = toQuery(dto, DEFAULT_GROUP_BY);
    const source = await this.source(reply);
    const report = await reconciliationReport(await this.db.manager(), query).catch((e: unknown) => {
      if (e instanceof ReportRatesMissing) throw new ApiError(409, 'rates_missing', e.message, 'currency');
      throw e;
    });
    const accept = String(reply.request.headers.accept ?? '');
    if (dto.format === 'csv' || (dto.format === undefined && accept.includes('text/csv'))) {
      void reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="reconciliation_${dto.from}_${dto.to}.csv"`);
      return reconCsv(report);
    }
    return { ...report, source };
  }

  @ApiResponse({
    status: 200,
    description: 'Histograms and p50/p90/p99 per group (JSON, or CSV with format=csv)',
  })
  @Get('latency')
  @ApiOperation({ summary: 'Click-to-conversion and postback-delay histograms with p50/p90/p99 per group' })
  async latency(@Query() dto: ReportQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    if (dto.source !== undefined)
      throw ApiError.badField('source', 'source: latency histograms are not split by source');
    const query = toQuery(dto, ['offer', 'publisher']);
    const source = await this.source(reply);
    return { ...(await latencyReport(await this.db.manager(), query)), source };
  }

  @ApiResponse({
    status: 200,
    description: 'Rates per partner, placement and UTC day (JSON, or CSV with format=csv)',
  })
  @Get('soft-rejects')
  @ApiOperation({ summary: 'Soft-reject and reject rates per partner and placement per day (UTC)' })
  async softRejects(@Query() dto: ReportQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const query = toQuery(dto, ['day', 'partner', 'placement']);
    const source = await this.source(reply);
    const report = await reconciliationReport(await this.db.manager(), query).catch((e: unknown) => {
      if (e instanceof ReportRatesMissing) throw new ApiError(409, 'rates_missing', e.message, 'currency');
      throw e;
    });
    return {
      ...report,
      source,
      rows: report.rows.map((r) => ({
        day: r.day,
        partner_id: r.partner_id,
        placement: r.placement,
        currency: r.currency,
        postbacks: r.postbacks,
        soft_retried: r.soft_retried,
        soft_reject_rate: r.soft_reject_rate,
        rejected_postbacks: r.rejected_postbacks,
        duplicates: r.duplicates,
        rejected_by_reason: r.rejected_by_reason,
      })),
    };
  }
}
