import { Body, Controller, Get, HttpCode, Inject, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { DataSource } from 'typeorm';
import { RATE_CURRENCY } from '@app/domain';
import {
  type ImportResult,
  importRates,
  isIsoDay,
  listRates,
  MAX_LISTED_CHANGES,
  parseRatesCsv,
  parseRatesJson,
  type RateChange,
  RatesConflict,
  RatesInputError,
  type RateRow,
} from '@app/exchange-rates';
import { type OperatorIdentity, writeAudit } from '@app/operators';
import { ApiError, type ErrorBody } from '../http/api-error';
import { AdminGuard, CurrentOperator } from './admin.guard';

const CODE_MESSAGE = (k: string) => `${k} must be a 3-letter upper-case currency code like USD`;
const BOOLEAN = ['true', 'false'];

export class ExchangeRatesQuery {
  @ApiPropertyOptional({ example: 'USD' })
  @IsOptional()
  @Matches(RATE_CURRENCY, { message: CODE_MESSAGE('base') })
  base?: string;
  @ApiPropertyOptional({ example: 'EUR' })
  @IsOptional()
  @Matches(RATE_CURRENCY, { message: CODE_MESSAGE('quote') })
  quote?: string;
  @ApiPropertyOptional({ description: 'first UTC day, YYYY-MM-DD' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'from must be a UTC day as YYYY-MM-DD' })
  from?: string;
  @ApiPropertyOptional({ description: 'last UTC day, YYYY-MM-DD' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'to must be a UTC day as YYYY-MM-DD' })
  to?: string;
  @ApiPropertyOptional({ description: 'at most this many (1 to 10000, default 100)' })
  @IsOptional()
  @Matches(/^\d{1,5}$/, { message: 'limit must be a number from 1 to 10000' })
  limit?: string;
}

export class ExchangeRatesImportQuery {
  @ApiPropertyOptional({
    enum: BOOLEAN,
    description: 'overwrite stored rates that differ (entries already converted keep their rate)',
  })
  @IsOptional()
  @IsIn(BOOLEAN, { message: 'replace must be true or false' })
  replace?: string;
  @ApiPropertyOptional({ enum: BOOLEAN, description: 'say what would happen; write nothing' })
  @IsOptional()
  @IsIn(BOOLEAN, { message: 'dry_run must be true or false' })
  dry_run?: string;
}

/** One rate: 1 unit of base = rate units of quote on that UTC day. */
export class ExchangeRateDto {
  @ApiProperty({ example: '2026-01-02', description: 'UTC day, YYYY-MM-DD' }) date!: string;
  @ApiProperty({ example: 'USD' }) base!: string;
  @ApiProperty({ example: 'EUR' }) quote!: string;
  @ApiProperty({
    example: '0.92',
    description: 'a positive decimal string: at most 18 integer digits and 12 decimals, no exponent',
  })
  rate!: string;
  @ApiProperty({ example: 'ecb', description: '1 to 64 characters' }) source!: string;
}

/** 409: stored rates differ from the given ones; each is listed (at most MAX_LISTED_CHANGES). */
class RatesConflictError extends ApiError {
  constructor(private readonly conflicts: RateChange[]) {
    super(
      409,
      'rate_conflict',
      `${conflicts.length} rate(s) differ from the stored ones; nothing was imported. ` +
        'Entries converted at a rate keep it: send replace=true to overwrite deliberately',
    );
  }
  override body(): ErrorBody {
    const body = super.body();
    Object.assign(body.error, {
      conflicts: this.conflicts.slice(0, MAX_LISTED_CHANGES),
      conflicts_total: this.conflicts.length,
    });
    return body;
  }
}

/** Exchange rates (docs/admin-api.md#exchange-rates): one per UTC day and pair. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/exchange-rates')
export class ExchangeRatesAdminController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @ApiResponse({
    status: 200,
    description: '{"items": [{date, base, quote, rate, source, created_at}], "truncated"}: newest day first',
  })
  @Get()
  @ApiOperation({ summary: 'Stored exchange rates, newest day first, by pair and day range' })
  async list(@Query() q: ExchangeRatesQuery) {
    for (const k of ['from', 'to'] as const)
      if (q[k] !== undefined && !isIsoDay(q[k]))
        throw ApiError.badField(k, `${k} must be a UTC day as YYYY-MM-DD`);
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (limit < 1 || limit > 10_000)
      throw ApiError.badField('limit', 'limit must be a number from 1 to 10000');
    return listRates(this.ds.manager, { base: q.base, quote: q.quote, from: q.from, to: q.to, limit });
  }

  @ApiResponse({
    status: 200,
    description:
      '{"rows", "inserted", "unchanged", "replaced", "dry_run", "replaced_rows"}; 409 rate_conflict lists each stored rate that differs (error.conflicts)',
  })
  @ApiResponse({
    status: 409,
    description: 'Stored rates differ and replace was not asked for: nothing imported',
  })
  @Post()
  @HttpCode(200)
  @ApiBody({
    type: [ExchangeRateDto],
    description: 'A JSON array of rates (at most 1000; larger sets: /import)',
  })
  @ApiOperation({
    summary:
      'Store rates: new ones inserted, identical ones left, different ones refused (409) unless replace=true',
  })
  async create(
    @Query() q: ExchangeRatesImportQuery,
    @Body() body: unknown,
    @CurrentOperator() op: OperatorIdentity,
  ) {
    return this.store(() => parseRatesJson(body), q, op, { format: 'json' });
  }

  @ApiResponse({
    status: 200,
    description: 'As POST /v1/admin/exchange-rates: counts of inserted, unchanged and replaced rates',
  })
  @ApiResponse({
    status: 409,
    description: 'Stored rates differ and replace was not asked for: nothing imported',
  })
  @Post('import')
  @HttpCode(200)
  @ApiConsumes('text/csv')
  @ApiBody({
    description:
      'CSV with the header date,base,quote,rate,source; at most 100,000 rates and 16 MiB; errors name the line',
    schema: { type: 'string', example: 'date,base,quote,rate,source\n2026-01-02,USD,EUR,0.92,ecb\n' },
  })
  @ApiOperation({ summary: 'Import a rates file (text/csv), with the same rules as the JSON form' })
  async importCsv(
    @Query() q: ExchangeRatesImportQuery,
    @Body() body: unknown,
    @CurrentOperator() op: OperatorIdentity,
  ) {
    if (typeof body !== 'string')
      throw new ApiError(415, 'unsupported_media_type', 'send the file as text/csv');
    return this.store(() => parseRatesCsv(body), q, op, { format: 'csv', bytes: Buffer.byteLength(body) });
  }

  private async store(
    read: () => RateRow[],
    q: ExchangeRatesImportQuery,
    op: OperatorIdentity,
    request: Record<string, unknown>,
  ): Promise<ImportResult> {
    let rows: RateRow[];
    try {
      rows = read();
    } catch (e) {
      if (!(e instanceof RatesInputError)) throw e;
      // error.field: the first bad field (`rate` of a file's line, `[3].rate` of a JSON array).
      const first = e.problems[0];
      const csv = request.format === 'csv';
      const field =
        first && !['file', 'row'].includes(first.field)
          ? csv
            ? first.field
            : `${first.at}.${first.field}`
          : undefined;
      throw new ApiError(400, csv ? 'invalid_file' : 'invalid_body', e.message, field);
    }
    const opts = { replace: q.replace === 'true', dryRun: q.dry_run === 'true' };
    try {
      if (opts.dryRun) return await importRates(this.ds.manager, rows, opts);
      return await this.ds.transaction(async (em) => {
        const result = await importRates(em, rows, opts);
        const days = rows.map((r) => r.day).sort();
        await writeAudit(em, op, {
          action: 'exchange_rates.import',
          subject: `exchange_rates:${days[0]}..${days[days.length - 1]}`,
          request: { ...request, rows: rows.length, replace: opts.replace },
          before: result.replaced_rows.map((c) => ({
            date: c.date,
            base: c.base,
            quote: c.quote,
            rate: c.stored_rate,
            source: c.stored_source,
          })),
          after: result,
        });
        return result;
      });
    } catch (e) {
      if (e instanceof RatesConflict) throw new RatesConflictError(e.conflicts);
      throw e;
    }
  }
}
