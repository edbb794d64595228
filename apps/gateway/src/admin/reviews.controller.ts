import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { DataSource } from 'typeorm';
import { type OperatorIdentity, writeAudit } from '@app/operators';
import { decideHeldConversion, listReviewQueue, type ReviewDecision, ReviewRefused } from '@app/read-models';
import { ApiError } from '../http/api-error';
import { AdminGuard, CurrentOperator, RequiresRole } from './admin.guard';

/** The operator named on the ledger entry is the caller's token, never a field a client fills in. */
export const OPERATOR_FROM_TOKEN =
  'operator is taken from your operator token (its name is written on the ledger entry); remove this field';

export class ReviewDecisionDto {
  @IsOptional() @IsIn([], { message: OPERATOR_FROM_TOKEN }) operator?: never;
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

  @ApiResponse({ status: 200, description: '{"items": [...], "count"}: held conversions with evidence' })
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

  @ApiResponse({
    status: 200,
    description:
      '{"held", "entries"}: the review item (null when not held) and every ledger entry of the conversion',
  })
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

  @ApiResponse({ status: 200, description: '{"status": "released", "entry"}: the ledger entry written' })
  @Post(':conversionId/approve')
  @HttpCode(200)
  @RequiresRole('reviewer')
  @ApiOperation({
    summary: 'Release a held conversion: a `released` ledger entry naming the operator (reviewer)',
  })
  approve(
    @Param('conversionId') id: string,
    @Body() dto: ReviewDecisionDto,
    @CurrentOperator() op: OperatorIdentity,
  ) {
    return this.decide(id, 'approve', dto, op);
  }

  @ApiResponse({ status: 200, description: '{"status": "rejected", "entry"}: the ledger entry written' })
  @Post(':conversionId/reject')
  @HttpCode(200)
  @RequiresRole('reviewer')
  @ApiOperation({
    summary: 'Reject a held conversion: a `rejected` (operator_rejected) ledger entry (reviewer)',
  })
  reject(
    @Param('conversionId') id: string,
    @Body() dto: ReviewDecisionDto,
    @CurrentOperator() op: OperatorIdentity,
  ) {
    return this.decide(id, 'reject', dto, op);
  }

  private checkId(id: string): void {
    if (!CONVERSION_ID.test(id))
      throw ApiError.badField('conversionId', 'not a conversion id (cv_ + 26 characters)');
  }

  private async decide(id: string, decision: ReviewDecision, dto: ReviewDecisionDto, op: OperatorIdentity) {
    this.checkId(id);
    try {
      const entry = await this.ds.transaction(async (em) => {
        const [held] = await listReviewQueue(em, { conversionId: id, limit: 1 });
        const written = await decideHeldConversion(em, {
          conversionId: id,
          decision,
          operator: op.name,
          note: dto.note,
        });
        // The conversion before and after, in the same terms: held, then decided by this entry.
        await writeAudit(em, op, {
          action: `review.${decision}`,
          subject: `conversion:${id}`,
          request: { note: dto.note },
          before: held
            ? {
                status: 'held',
                transaction_id: held.transaction_id,
                reason_code: held.reason_code,
                amount_micros: held.amount_micros,
                currency: held.currency,
                held_at: held.held_at,
              }
            : null,
          after: {
            status: written.conversion_status,
            transaction_id: written.transaction_id,
            reason_code: written.reason_code,
            amount_micros: written.amount_micros,
            currency: written.currency,
            entry_id: written.entry_id,
            entry_type: written.entry_type,
            operator: written.operator,
            note: written.note,
          },
        });
        return written;
      });
      return { status: decision === 'approve' ? 'released' : 'rejected', entry };
    } catch (e) {
      if (e instanceof ReviewRefused)
        throw new ApiError(e.code === 'not_found' ? 404 : 409, e.code, e.message);
      throw e;
    }
  }
}
