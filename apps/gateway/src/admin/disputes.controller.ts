import { Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { DataSource } from 'typeorm';
import { parseSignedMicros } from '@app/domain';
import {
  DisputeFileError,
  disputeCsv,
  importDispute,
  loadDispute,
  parseColumnMap,
  resolveDisputeItem,
} from '@app/disputes';
import { type OperatorIdentity, writeAudit } from '@app/operators';
import { reportQueryProblem, ReviewRefused } from '@app/read-models';
import { ApiError } from '../http/api-error';
import { AdminGuard, CurrentOperator, RequiresRole } from './admin.guard';
import { OPERATOR_FROM_TOKEN } from './reviews.controller';

const ID = /^[A-Za-z0-9._:-]{1,64}$/;

export class DisputeImportQuery {
  @IsOptional() @Matches(ID, { message: 'partner_id must be a partner id' }) partner_id?: string;
  @IsOptional() @Matches(ID, { message: 'publisher_id must be a publisher id' }) publisher_id?: string;
  /** Who imports it is the caller's token (recorded on the dispute). */
  @IsOptional() @IsIn([], { message: OPERATOR_FROM_TOKEN }) operator?: never;
  @IsOptional() @IsString() @Length(1, 256) file_name?: string;
  @IsOptional()
  @IsIn([',', ';', '\t', '|'], { message: 'delimiter must be , ; | or a tab' })
  delimiter?: string;
  /** Their column names: `ours=theirs` pairs, e.g. `transaction_id=txid,payout=amount`. */
  @IsOptional() @IsString() @Length(1, 1000) columns?: string;
  @IsOptional() @IsString() from?: string;
  @IsOptional() @IsString() to?: string;
}

export class DisputeItemsQuery {
  @IsOptional()
  @IsIn(['missing_ours', 'missing_theirs', 'status_differs', 'amount_differs', 'duplicate_theirs'], {
    message: 'kind must be missing_ours, missing_theirs, status_differs, amount_differs or duplicate_theirs',
  })
  kind?: string;
  @IsOptional() @IsIn(['true', 'false'], { message: 'open must be true or false' }) open?: string;
  @IsOptional() @IsIn(['json', 'csv'], { message: 'format must be json or csv' }) format?: string;
}

export class ResolveItemDto {
  @IsIn(['adjust', 'dismiss'], { message: 'action must be adjust or dismiss' }) action!: 'adjust' | 'dismiss';
  /** For adjust: a signed decimal amount in the conversion's currency, e.g. "-1.25". */
  @IsOptional()
  @Matches(/^-?\d{1,15}(\.\d{1,6})?$/, { message: 'amount must be a signed decimal like "-1.25"' })
  amount?: string;
  @IsOptional() @IsIn([], { message: OPERATOR_FROM_TOKEN }) operator?: never;
  @IsString() @Length(1, 1000) note!: string;
}

/** Disputes: a counterparty's conversion file diffed against the ledger, and each difference resolved. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/disputes')
export class DisputesAdminController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @ApiResponse({
    status: 201,
    description: 'The dispute: its id, summary (counts per difference kind) and items',
  })
  @Post()
  @ApiConsumes('text/csv')
  @ApiBody({
    description: 'The counterparty file: CSV with a header row (columns= maps their names to ours)',
    schema: { type: 'string', example: 'transaction_id,status,payout\ntx-1,approved,1.25\n' },
  })
  @ApiOperation({
    summary:
      "Import a partner's (partner_id) or publisher's (publisher_id) CSV and diff it against the ledger per transaction",
  })
  async create(
    @Query() q: DisputeImportQuery,
    @Body() body: unknown,
    @CurrentOperator() op: OperatorIdentity,
  ) {
    if (typeof body !== 'string')
      throw new ApiError(415, 'unsupported_media_type', 'send the file as text/csv');
    if (!q.partner_id === !q.publisher_id)
      throw ApiError.badField('partner_id', 'give exactly one of partner_id and publisher_id');
    for (const k of ['from', 'to'] as const)
      if (q[k] !== undefined && reportQueryProblem({ from: q[k], to: q[k] }))
        throw ApiError.badField(k, `${k} must be a UTC day as YYYY-MM-DD`);
    try {
      const imported = await importDispute(this.ds, Readable.from([body]), {
        kind: q.partner_id ? 'partner' : 'publisher',
        counterpartyId: (q.partner_id ?? q.publisher_id)!,
        operator: op.name,
        fileName: q.file_name,
        delimiter: q.delimiter,
        columns: this.columns(q.columns),
        from: q.from,
        to: q.to,
      });
      // The import streams in its own transactions; its record follows it.
      await writeAudit(this.ds.manager, op, {
        action: 'dispute.import',
        subject: `dispute:${imported.id}`,
        request: { ...q, bytes: Buffer.byteLength(body) },
        before: null,
        after: imported,
      });
      return imported;
    } catch (e) {
      if (e instanceof DisputeFileError) throw new ApiError(400, 'invalid_file', e.message);
      throw e;
    }
  }

  @ApiResponse({ status: 200, description: 'Recent disputes with their summaries and open item counts' })
  @Get()
  @ApiOperation({ summary: 'Recent disputes with their summaries and open items' })
  async list() {
    return this.ds.query<Record<string, unknown>[]>(
      `SELECT id, counterparty_kind, counterparty_id, file_name, rows, to_char(from_day, 'YYYY-MM-DD') AS from_day,
              to_char(to_day, 'YYYY-MM-DD') AS to_day, summary, created_by, created_at,
              (SELECT count(*)::int FROM dispute_items i WHERE i.dispute_id = d.id AND i.resolution IS NULL) AS open_items
         FROM disputes d ORDER BY created_at DESC LIMIT 200`,
    );
  }

  @ApiResponse({ status: 200, description: 'The dispute and its items (JSON), or CSV with format=csv' })
  @Get(':id')
  @ApiOperation({ summary: 'A dispute and every difference (JSON, or CSV with format=csv)' })
  async show(
    @Param('id') id: string,
    @Query() q: DisputeItemsQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const d = await loadDispute(this.ds.manager, this.checkId(id), { kind: q.kind, open: q.open === 'true' });
    if (!d) throw new ApiError(404, 'not_found', `no dispute ${id}`);
    if (q.format === 'csv') {
      void reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="dispute_${id}.csv"`);
      return disputeCsv(d.items);
    }
    return d;
  }

  @ApiResponse({
    status: 200,
    description: 'The item, resolved: the adjusted ledger entry (adjust) or the dismissal (dismiss)',
  })
  @Post(':id/items/:item/resolve')
  @HttpCode(200)
  @RequiresRole('reviewer')
  @ApiOperation({
    summary: 'Resolve a difference: an adjusted ledger entry (adjust) or no money moves (dismiss)',
  })
  async resolve(
    @Param('id') id: string,
    @Param('item') item: string,
    @Body() dto: ResolveItemDto,
    @CurrentOperator() op: OperatorIdentity,
  ) {
    if (!/^\d{1,9}$/.test(item)) throw ApiError.badField('item', 'item must be a number');
    let amountMicros: bigint | undefined;
    if (dto.action === 'adjust') {
      amountMicros = dto.amount === undefined ? undefined : parseSignedMicros(dto.amount);
      if (!amountMicros)
        throw ApiError.badField('amount', 'an adjustment needs a non-zero amount like "-1.25"');
    }
    try {
      return await this.ds.transaction(async (em) => {
        const disputeId = this.checkId(id);
        const [before] = await em.query<Record<string, unknown>[]>(
          `SELECT item, kind, transaction_id, conversion_id, resolution, resolved_by FROM dispute_items
            WHERE dispute_id = $1 AND item = $2`,
          [disputeId, Number(item)],
        );
        const resolved = await resolveDisputeItem(em, {
          disputeId,
          item: Number(item),
          action: dto.action,
          amountMicros,
          operator: op.name,
          note: dto.note,
        });
        await writeAudit(em, op, {
          action: `dispute.${dto.action}`,
          subject: `dispute:${disputeId}:${item}`,
          request: dto,
          before: before ?? null,
          after: {
            ...before,
            resolution: resolved.resolution,
            resolved_by: op.name,
            entry_id: resolved.entry?.entry_id ?? null,
            amount_micros: resolved.entry?.amount_micros ?? null,
          },
        });
        return resolved;
      });
    } catch (e) {
      if (e instanceof ReviewRefused)
        throw new ApiError(e.code === 'not_found' ? 404 : 409, e.code, e.message);
      throw e;
    }
  }

  private columns(spec: string | undefined) {
    const m = parseColumnMap(spec);
    if (typeof m === 'string') throw ApiError.badField('columns', m);
    return m;
  }

  private checkId(id: string): string {
    if (!/^[0-9A-Z]{26}$/.test(id)) throw ApiError.badField('id', 'not a dispute id (26-character ULID)');
    return id;
  }
}
