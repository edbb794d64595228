import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsIn, IsIP, IsISO8601, IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { CatalogCache } from '@app/catalog';
import { ApiError } from '../http/api-error';
import { PartnerAuthenticator } from '../postbacks/partner-auth';
import { AdminGuard } from './admin.guard';
import { dryRunPostback } from './postback-dry-run';
import { listPostbackLog } from './postback-log';

export class PostbackLogQuery {
  @IsOptional() @IsString() @Length(1, 128) transaction_id?: string;
  @IsOptional() @IsString() @Length(1, 128) click_id?: string;
  @ApiPropertyOptional({ description: 'received at or after (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;
  @ApiPropertyOptional({ description: 'received before (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
  @IsOptional() @Matches(/^\d{1,3}$/, { message: 'limit must be a number from 1 to 500' }) limit?: string;
  @ApiPropertyOptional({ description: "the previous page's next_cursor" })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  cursor?: string;
}

export class PostbackDryRunDto {
  @ApiPropertyOptional({ example: '/v1/postbacks/network-1?click_id=...&transaction_id=...&status=approved' })
  @IsOptional()
  @IsString()
  @Length(1, 8192)
  url?: string;
  @IsOptional() @IsIn(['GET', 'POST']) method?: 'GET' | 'POST';
  @ApiPropertyOptional({ description: 'query parameters, added after those of url' })
  @IsOptional()
  @IsObject()
  query?: Record<string, string | string[]>;
  @ApiPropertyOptional({ description: 'the raw body (JSON or form), as the partner would send it' })
  @IsOptional()
  @IsString()
  @Length(0, 65536)
  body?: string;
  @ApiPropertyOptional({ description: 'request headers (signature, timestamp, content-type)' })
  @IsOptional()
  @IsObject()
  headers?: Record<string, string>;
  @ApiPropertyOptional({ description: "the partner's address for the IP allowlist (default: the caller's)" })
  @IsOptional()
  @IsIP()
  source_ip?: string;
}

const strings = (v: unknown, field: string, lists: boolean) => {
  for (const [k, x] of Object.entries(v ?? {}))
    if (!(typeof x === 'string' || (lists && Array.isArray(x) && x.every((y) => typeof y === 'string'))))
      throw ApiError.badField(`${field}.${k.slice(0, 64)}`, `${field} values must be strings`);
};

/** A time Postgres can compare with (years 1970 to 9999), or 400 naming the parameter. */
function instant(v: string | undefined, field: string): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  const year = d.getUTCFullYear();
  if (Number.isNaN(d.getTime()) || year < 1970 || year > 9999)
    throw ApiError.badField(field, `${field} must be an ISO 8601 time between 1970 and 9999`);
  return d;
}

/** The postback log of a partner and the dry run (docs/admin-api.md#postback-log). */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/partners')
export class PostbackLogAdminController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(CatalogCache) private readonly catalog: CatalogCache,
    @Inject(PartnerAuthenticator) private readonly auth: PartnerAuthenticator,
  ) {}

  @ApiResponse({
    status: 200,
    description:
      '{"items": [...], "next_cursor"}: accepted and refused postbacks, newest first, each with its request_id',
  })
  @Get(':id/postbacks')
  @ApiOperation({
    summary:
      'What the partner sent, newest first: accepted postbacks with outcome, reason, ledger entry and publisher delivery, and the refused ones sampled (filters transaction_id, click_id, from, to; page with cursor)',
  })
  async list(@Param('id') id: string, @Query() q: PostbackLogQuery) {
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (limit < 1 || limit > 500) throw ApiError.badField('limit', 'limit must be a number from 1 to 500');
    return listPostbackLog(this.ds, id, {
      transactionId: q.transaction_id,
      clickId: q.click_id,
      from: instant(q.from, 'from'),
      to: instant(q.to, 'to'),
      limit,
      cursor: q.cursor,
    });
  }

  @ApiResponse({
    status: 200,
    description: '{"recorded": false, "normalized", "auth", "decision"}: what the postback would get',
  })
  @Post(':id/postbacks/test')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Dry run of a postback (url, or method, query, body and headers): its normalisation, the auth result and the decision it would get; records nothing',
  })
  test(@Param('id') id: string, @Body() dto: PostbackDryRunDto, @Req() req: FastifyRequest) {
    if (dto.url === undefined && dto.query === undefined && dto.body === undefined)
      throw ApiError.badField('url', 'send url, or query and/or body');
    strings(dto.query, 'query', true);
    strings(dto.headers, 'headers', false);
    return dryRunPostback(this.ds, this.catalog, this.auth, id, dto, req.socket.remoteAddress ?? req.ip);
  }
}
