import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, Matches } from 'class-validator';
import { DataSource, type EntityManager } from 'typeorm';
import { SecretBox } from '@app/config';
import { OutboundGuard } from '@app/domain';
import { PublisherEntity, PublisherPostbackEntity, secretContext } from '@app/persistence';
import { type OperatorIdentity, writeAudit } from '@app/operators';
import {
  endpointState,
  listDeliveries,
  replayDeadDeliveries,
  resumeEndpoint,
} from '@app/publisher-postbacks';
import { ApiError } from '../http/api-error';
import { AdminGuard, CurrentOperator } from './admin.guard';
import { PublisherPostbackDto } from './publisher-postbacks.dto';
import { GatewayEnv } from '../gateway.env';
import { requireSecretLength } from './secret-length';

export class DeliveryListQuery {
  @IsOptional()
  @IsIn(['pending', 'delivered', 'rejected_by_publisher', 'dead'])
  status?: string;
  @IsOptional() @Matches(/^\d{1,4}$/, { message: 'limit must be a number from 1 to 1000' }) limit?: string;
}

export class ReplayDto {
  /** Only these entries; absent: every dead delivery of the publisher. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(/^[A-Za-z0-9_-]{1,32}$/, { each: true, message: 'entry_ids must be ledger entry ids' })
  entry_ids?: string[];
}

function view(p: PublisherPostbackEntity) {
  return {
    publisher_id: p.publisherId,
    url: p.url,
    approved_url: p.approvedUrl,
    reversed_url: p.reversedUrl,
    secrets_configured: p.secrets.length,
    legacy_hash: p.legacyHashAlgorithm
      ? {
          algorithm: p.legacyHashAlgorithm,
          param: p.legacyHashParam,
          fields: p.legacyHashFields ?? [],
          separator: p.legacyHashSeparator,
          secret_configured: p.legacyHashSecret !== null,
        }
      : null,
  };
}

/**
 * A publisher's postback: URL templates, signing secrets (write only), optional legacy hash; the
 * endpoint's state (paused after repeated failures), resume, and dead deliveries' replay.
 */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/publishers/:id/postback')
export class PublisherPostbacksAdminController {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(OutboundGuard) private readonly outbound: OutboundGuard,
    @Inject(GatewayEnv) private readonly env: GatewayEnv,
  ) {}

  @ApiResponse({
    status: 200,
    description: 'The configuration as stored (secrets_configured, never the secrets)',
  })
  @Put()
  @ApiOperation({
    summary:
      "Set the publisher's postback (replaces it; secrets omitted are kept). URLs reaching internal addresses are refused",
  })
  async put(
    @Param('id') id: string,
    @Body() dto: PublisherPostbackDto,
    @CurrentOperator() op: OperatorIdentity,
  ) {
    if (!dto.url && !dto.approved_url && !dto.reversed_url)
      throw ApiError.badField('url', 'give url, or approved_url and/or reversed_url');
    if (dto.secret !== undefined && dto.secrets !== undefined)
      throw ApiError.badField('secrets', 'give secret or secrets, not both');
    requireSecretLength('secret', dto.secret === undefined ? [] : [dto.secret], this.env.SECRET_MIN_LENGTH);
    requireSecretLength('secrets', dto.secrets ?? [], this.env.SECRET_MIN_LENGTH);
    await this.checkTargets(dto);
    const seal = (s: string) => this.box.seal(s, secretContext.publisherSigning(id));
    const saved = await this.ds.transaction(async (em) => {
      await this.publisher(em, id);
      const repo = em.getRepository(PublisherPostbackEntity);
      const existing = await repo.findOne({
        where: { publisherId: id },
        lock: { mode: 'pessimistic_write' },
      });
      const given = dto.secrets ?? (dto.secret !== undefined ? [dto.secret] : undefined);
      const secrets = given?.map(seal) ?? existing?.secrets;
      if (!secrets || secrets.length === 0)
        throw ApiError.badField(
          'secret',
          `a signing secret is required (${this.env.SECRET_MIN_LENGTH}-256 characters)`,
        );
      const legacy = dto.legacy_hash ?? null;
      const row = repo.create({
        ...(existing ?? { deliveryState: 'active', consecutiveFailures: 0 }),
        publisherId: id,
        url: dto.url ?? null,
        approvedUrl: dto.approved_url ?? null,
        reversedUrl: dto.reversed_url ?? null,
        secrets,
        legacyHashAlgorithm: legacy?.algorithm ?? null,
        legacyHashParam: legacy?.param ?? null,
        // A URL hash takes no fields: stored as none.
        legacyHashFields: legacy?.fields?.length ? legacy.fields : null,
        legacyHashSeparator: legacy?.separator ?? '',
        legacyHashSecret: legacy ? this.box.seal(legacy.secret, secretContext.publisherLegacyHash(id)) : null,
        updatedAt: new Date(),
      });
      const after = await repo.save(row);
      await writeAudit(em, op, {
        action: 'publisher_postback.set',
        subject: `publisher:${id}`,
        request: dto,
        before: existing ? view(existing) : null,
        after: view(after),
      });
      return after;
    });
    return { ...view(saved), state: await endpointState(this.ds.manager, id) };
  }

  /**
   * Each URL's host must be (and resolve to) a public address, or be named in PUBLISHER_URL_ALLOW.
   * A host that does not resolve yet is accepted: the notifier checks again before every call.
   */
  private async checkTargets(dto: PublisherPostbackDto): Promise<void> {
    for (const field of ['url', 'approved_url', 'reversed_url'] as const) {
      const template = dto[field];
      if (!template) continue;
      const check = await this.outbound.check(template.replace(/\{[a-z0-9_]+\}/g, 'x'));
      if (!check.ok && !check.unresolved)
        throw ApiError.badField(
          field,
          `${field}: ${check.message}; postbacks may not reach internal addresses (an operator can allow one with PUBLISHER_URL_ALLOW)`,
          'internal_address',
        );
    }
  }

  @ApiResponse({
    status: 200,
    description: 'The configuration (secrets_configured, never the secrets) and the endpoint state',
  })
  @Get()
  @ApiOperation({
    summary: 'The postback configuration (no secrets) and the endpoint state: paused, failures, counts',
  })
  async get(@Param('id') id: string) {
    const row = await this.ds.getRepository(PublisherPostbackEntity).findOne({ where: { publisherId: id } });
    if (!row) throw new ApiError(404, 'not_found', `publisher ${id} has no postback configured`);
    return { ...view(row), state: await endpointState(this.ds.manager, id) };
  }

  @ApiResponse({ status: 200, description: '{"status": "active", "deliveries_due_now", "state"}' })
  @Post('resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused endpoint: its waiting deliveries go out now' })
  async resume(@Param('id') id: string, @CurrentOperator() op: OperatorIdentity) {
    const waiting = await this.ds.transaction(async (em) => {
      const before = await endpointState(em, id);
      const n = await resumeEndpoint(em, id);
      if (n !== undefined)
        await writeAudit(em, op, {
          action: 'publisher_postback.resume',
          subject: `publisher:${id}`,
          before: before ?? null,
          after: { delivery_state: 'active', deliveries_due_now: n },
        });
      return n;
    });
    if (waiting === undefined)
      throw new ApiError(404, 'not_found', `publisher ${id} has no postback configured`);
    return { status: 'active', deliveries_due_now: waiting, state: await endpointState(this.ds.manager, id) };
  }

  @ApiResponse({
    status: 200,
    description: '{"items": [...], "count"}: deliveries with status, attempts and last error',
  })
  @Get('deliveries')
  @ApiOperation({ summary: 'Deliveries of this publisher, newest first (filter by status)' })
  async deliveries(@Param('id') id: string, @Query() q: DeliveryListQuery) {
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (limit < 1 || limit > 1000) throw ApiError.badField('limit', 'limit must be a number from 1 to 1000');
    const items = await listDeliveries(this.ds.manager, { publisherId: id, status: q.status, limit });
    return { items, count: items.length };
  }

  @ApiResponse({
    status: 200,
    description: '{"replayed", "entry_ids"}: dead deliveries put back in the queue',
  })
  @Post('deliveries/replay')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send dead deliveries again (all of the publisher, or the given entry_ids)' })
  async replay(@Param('id') id: string, @Body() dto: ReplayDto, @CurrentOperator() op: OperatorIdentity) {
    const replayed = await this.ds.transaction(async (em) => {
      const ids = await replayDeadDeliveries(em, { publisherId: id, entryIds: dto.entry_ids });
      await writeAudit(em, op, {
        action: 'publisher_postback.replay',
        subject: `publisher:${id}`,
        request: dto,
        before: { dead: ids },
        after: { pending: ids },
      });
      return ids;
    });
    return { replayed: replayed.length, entry_ids: replayed };
  }

  private async publisher(em: EntityManager, id: string): Promise<void> {
    if (!(await em.getRepository(PublisherEntity).existsBy({ id })))
      throw new ApiError(404, 'not_found', `no publisher ${id}`);
  }
}
