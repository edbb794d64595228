import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { DataSource } from 'typeorm';
import { decideHeldConversion, listReviewQueue, type ReviewDecision, ReviewRefused } from '@app/persistence';
import { ApiError } from '../http/api-error';
import { AdminGuard } from './admin.guard';

export class ReviewDecisionDto {
  /** Who decides: written on the ledger entry. */
  @IsString()
  @Length(1, 64)
  @Matches(/^\S(.*\S)?$/, { message: 'operator must not start or end with spaces' })
  operator!: string;
  @IsString() @Length(1, 1000) note!: string;
}

export class ReviewListQuery {
  @IsOptional() @IsString() @Length(1, 64) partner_id?: string;
  @IsOptional() @IsString() @Length(1, 64) offer_id?: string;
  @IsOptional() @IsString() @Length(1, 32) reason?: string;
  @IsOptional() @Matches(/^\d{1,4}$/, { message: 'limit must be a number from 1 to 1000' }) limit?: string;
  @IsOptional() @Matches(/^\d{1,9}$/, { message: 'offset must be a non-negative number' }) offset?: string;
}

const CONVERSION_ID = /^cv_[A-Za-z0-9_-]{26}$/;

/** The manual review queue: held conversions with their evidence, and the operator's decision. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/reviews')
export class ReviewsAdminController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @Get()
  @ApiOperation({ summary: 'Held conversions waiting for an operator, oldest first, with evidence' })
  async list(@Query() q: ReviewListQuery) {
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (limit < 1 || limit > 1000) throw ApiError.badField('limit', 'limit must be a number from 1 to 1000');
    const items = await listReviewQueue(this.ds.manager, {
      partnerId: q.partner_id,
      offerId: q.offer_id,
      reason: q.reason,
      limit,
      offset: q.offset === undefined ? 0 : Number(q.offset),
    });
    return { items, count: items.length };
  }

  @Get(':conversionId')
  @ApiOperation({ summary: 'One conversion: its review item (if held) and every ledger entry it has' })
  async show(@Param('conversionId') id: string) {
    this.checkId(id);
    const [item] = await listReviewQueue(this.ds.manager, { conversionId: id, limit: 1 });
    const entries = await this.ds.query<Record<string, unknown>[]>(
      `SELECT payload FROM ledger_entries WHERE conversion_id = $1 ORDER BY seq`,
      [id],
    );
    if (!item && entries.length === 0) throw new ApiError(404, 'not_found', `no conversion ${id}`);
    return { held: item ?? null, entries: entries.map((e) => e.payload) };
  }

  @Post(':conversionId/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Release a held conversion: a `released` ledger entry naming the operator' })
  approve(@Param('conversionId') id: string, @Body() dto: ReviewDecisionDto) {
    return this.decide(id, 'approve', dto);
  }

  @Post(':conversionId/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject a held conversion: a `rejected` (operator_rejected) ledger entry' })
  reject(@Param('conversionId') id: string, @Body() dto: ReviewDecisionDto) {
    return this.decide(id, 'reject', dto);
  }

  private checkId(id: string): void {
    if (!CONVERSION_ID.test(id))
      throw ApiError.badField('conversionId', 'not a conversion id (cv_ + 26 characters)');
  }

  private async decide(id: string, decision: ReviewDecision, dto: ReviewDecisionDto) {
    this.checkId(id);
    try {
      const entry = await this.ds.transaction((em) =>
        decideHeldConversion(em, { conversionId: id, decision, operator: dto.operator, note: dto.note }),
      );
      return { status: decision === 'approve' ? 'released' : 'rejected', entry };
    } catch (e) {
      if (e instanceof ReviewRefused)
        throw new ApiError(e.code === 'not_found' ? 404 : 409, e.code, e.message);
      throw e;
    }
  }
}
