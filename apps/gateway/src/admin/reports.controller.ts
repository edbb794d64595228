import { Controller, Get, Inject, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { DataSource } from 'typeorm';
import {
  DEFAULT_GROUP_BY,
  latencyReport,
  reconciliationReport,
  reconCsv,
  type ReportDimension,
  reportQueryProblem,
  type ReportQuery,
} from '@app/read-models';
import { ApiError } from '../http/api-error';
import { AdminGuard } from './admin.guard';

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
  };
}

/** Reports over the read models. Days are UTC. */
@ApiTags('reports')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/reports')
export class ReportsController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @Get('reconciliation')
  @ApiOperation({
    summary:
      'Reconciliation per group (JSON, or CSV with format=csv or Accept: text/csv); totals equal the ledger',
  })
  async reconciliation(@Query() dto: ReportQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const report = await reconciliationReport(this.ds.manager, toQuery(dto, DEFAULT_GROUP_BY));
    const accept = String(reply.request.headers.accept ?? '');
    if (dto.format === 'csv' || (dto.format === undefined && accept.includes('text/csv'))) {
      void reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="reconciliation_${dto.from}_${dto.to}.csv"`);
      return reconCsv(report);
    }
    return report;
  }

  @Get('latency')
  @ApiOperation({ summary: 'Click-to-conversion and postback-delay histograms with p50/p90/p99 per group' })
  async latency(@Query() dto: ReportQueryDto) {
    if (dto.source !== undefined)
      throw ApiError.badField('source', 'source: latency histograms are not split by source');
    return latencyReport(this.ds.manager, toQuery(dto, ['offer', 'publisher']));
  }

  @Get('soft-rejects')
  @ApiOperation({ summary: 'Soft-reject and reject rates per partner and placement per day (UTC)' })
  async softRejects(@Query() dto: ReportQueryDto) {
    const report = await reconciliationReport(this.ds.manager, toQuery(dto, ['day', 'partner', 'placement']));
    return {
      ...report,
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
