import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type EntityTarget, QueryFailedError } from 'typeorm';
import { SecretBox } from '@app/config';
import {
  type KeyDictionary,
  parseCidrList,
  parseMicros,
  CANONICAL_FIELDS,
  POSTBACK_STATUSES,
} from '@app/domain';
import { type AuthMode, OfferEntity, PartnerEntity, PublisherEntity, secretContext } from '@app/persistence';
import { CatalogCache } from '@app/catalog';
import { type OperatorIdentity, writeAudit } from '@app/operators';
import { ApiError } from '../http/api-error';
import { GatewayEnv } from '../gateway.env';
import { requireSecretLength } from './secret-length';
import type {
  CreateOfferDto,
  CreatePartnerDto,
  CreatePublisherDto,
  PartnerAuthDto,
  UpdateOfferDto,
  UpdatePartnerDto,
  UpdatePublisherDto,
} from './admin.dto';
import { offerView, partnerView, publisherView } from './catalog.views';
import { createFormatColumns, updateFormatColumns } from './partner-formats';

type Kind = 'offer' | 'publisher' | 'partner';

/** Who changes what: every write is recorded in the audit log, in the write's transaction. */
interface Audited<T> {
  op: OperatorIdentity;
  action: string;
  request: unknown;
  view: (row: T) => unknown;
}

const micros = (s: string): string => {
  const m = parseMicros(s);
  if (!m.ok) throw ApiError.badField('payout', m.reason);
  return m.micros.toString();
};

/** Admin writes to offers, publishers and partners; every write also refreshes this instance's cache. */
/** A burst rule needs both its count and its window. */
function checkBurst(o: Partial<Pick<OfferEntity, 'burstMaxConversions' | 'burstWindowSeconds'>>): void {
  if (((o.burstMaxConversions ?? null) === null) !== ((o.burstWindowSeconds ?? null) === null))
    throw ApiError.badField(
      'burst_window_seconds',
      'burst_max_conversions and burst_window_seconds are set together (both null to turn it off)',
    );
}

@Injectable()
export class CatalogAdminService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(CatalogCache) private readonly cache: CatalogCache,
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(GatewayEnv) private readonly env: GatewayEnv,
  ) {}

  // --- offers ---
  async createOffer(dto: CreateOfferDto, op: OperatorIdentity) {
    const row = this.ds.getRepository(OfferEntity).create({
      id: dto.id,
      name: dto.name,
      landingUrl: dto.landing_url,
      payoutMicros: micros(dto.payout),
      currency: dto.currency,
      allowedGeos: dto.allowed_geos ?? null,
      dailyCap: dto.daily_cap ?? null,
      payoutCapMicros: dto.payout_cap ? micros(dto.payout_cap) : null,
      attributionWindowHours: dto.attribution_window_hours ?? 720,
      goals: dto.goals ?? ['default'],
      minConversionSeconds: dto.min_conversion_seconds ?? null,
      holdPayoutAboveMicros: dto.hold_payout_above ? micros(dto.hold_payout_above) : null,
      reviewGeos: dto.review_geos ?? null,
      partnerIds: dto.partner_ids ?? null,
      maxPayoutMicros: dto.max_payout ? micros(dto.max_payout) : null,
      burstMaxConversions: dto.burst_max_conversions ?? null,
      burstWindowSeconds: dto.burst_window_seconds ?? null,
      status: 'active',
    });
    checkBurst(row);
    return offerView(
      await this.insert(OfferEntity, row, 'offer', {
        op,
        action: 'offer.create',
        request: dto,
        view: offerView,
      }),
    );
  }

  async updateOffer(id: string, dto: UpdateOfferDto, op: OperatorIdentity) {
    const patch: Partial<OfferEntity> = {};
    if (dto.name !== undefined) patch.name = dto.name;
    if (dto.landing_url !== undefined) patch.landingUrl = dto.landing_url;
    if (dto.payout !== undefined) patch.payoutMicros = micros(dto.payout);
    if (dto.currency !== undefined) patch.currency = dto.currency;
    if (dto.allowed_geos !== undefined) patch.allowedGeos = dto.allowed_geos;
    if (dto.daily_cap !== undefined) patch.dailyCap = dto.daily_cap;
    if (dto.payout_cap !== undefined)
      patch.payoutCapMicros = dto.payout_cap === null ? null : micros(dto.payout_cap);
    if (dto.attribution_window_hours !== undefined)
      patch.attributionWindowHours = dto.attribution_window_hours;
    if (dto.goals !== undefined) patch.goals = dto.goals;
    if (dto.min_conversion_seconds !== undefined) patch.minConversionSeconds = dto.min_conversion_seconds;
    if (dto.hold_payout_above !== undefined)
      patch.holdPayoutAboveMicros = dto.hold_payout_above === null ? null : micros(dto.hold_payout_above);
    if (dto.review_geos !== undefined) patch.reviewGeos = dto.review_geos;
    if (dto.partner_ids !== undefined) patch.partnerIds = dto.partner_ids;
    if (dto.max_payout !== undefined)
      patch.maxPayoutMicros = dto.max_payout === null ? null : micros(dto.max_payout);
    if (dto.burst_max_conversions !== undefined) patch.burstMaxConversions = dto.burst_max_conversions;
    if (dto.burst_window_seconds !== undefined) patch.burstWindowSeconds = dto.burst_window_seconds;
    // Changing either means giving both (or both null to turn the rule off).
    if (dto.burst_max_conversions !== undefined || dto.burst_window_seconds !== undefined) checkBurst(patch);
    return offerView(
      await this.update(OfferEntity, id, patch, 'offer', {
        op,
        action: 'offer.update',
        request: dto,
        view: offerView,
      }),
    );
  }

  // --- publishers ---
  async createPublisher(dto: CreatePublisherDto, op: OperatorIdentity) {
    const row = this.ds
      .getRepository(PublisherEntity)
      .create({ id: dto.id, name: dto.name, status: 'active' });
    return publisherView(
      await this.insert(PublisherEntity, row, 'publisher', {
        op,
        action: 'publisher.create',
        request: dto,
        view: publisherView,
      }),
    );
  }

  async updatePublisher(id: string, dto: UpdatePublisherDto, op: OperatorIdentity) {
    return publisherView(
      await this.update(PublisherEntity, id, dto.name !== undefined ? { name: dto.name } : {}, 'publisher', {
        op,
        action: 'publisher.update',
        request: dto,
        view: publisherView,
      }),
    );
  }

  // --- partners ---
  async createPartner(dto: CreatePartnerDto, op: OperatorIdentity) {
    const row = this.ds.getRepository(PartnerEntity).create({
      id: dto.id,
      name: dto.name,
      ...this.sealed(dto.id, authColumns(dto.auth, this.env.SECRET_MIN_LENGTH)),
      // The preset, under the explicit key_map, status_map, format and token_param.
      ...createFormatColumns(dto, checkKeyMap(dto.key_map), checkStatusMap(dto.status_map)),
      toleranceSeconds: dto.tolerance_seconds ?? 300,
      rateLimitPerSecond: dto.rate_limit_per_second ?? 200,
      status: 'active',
    });
    return partnerView(
      await this.insert(PartnerEntity, row, 'partner', {
        op,
        action: 'partner.create',
        request: dto,
        view: partnerView,
      }),
    );
  }

  async updatePartner(id: string, dto: UpdatePartnerDto, op: OperatorIdentity) {
    const patch: Partial<PartnerEntity> = {};
    if (dto.name !== undefined) patch.name = dto.name;
    if (dto.auth !== undefined)
      Object.assign(patch, this.sealed(id, authColumns(dto.auth, this.env.SECRET_MIN_LENGTH)));
    if (dto.key_map !== undefined) patch.keyMap = checkKeyMap(dto.key_map) ?? null;
    if (dto.status_map !== undefined) patch.statusMap = checkStatusMap(dto.status_map) ?? null;
    Object.assign(patch, updateFormatColumns(dto, checkKeyMap(dto.key_map), checkStatusMap(dto.status_map)));
    if (dto.tolerance_seconds !== undefined) patch.toleranceSeconds = dto.tolerance_seconds;
    if (dto.rate_limit_per_second !== undefined) patch.rateLimitPerSecond = dto.rate_limit_per_second;
    return partnerView(
      await this.update(PartnerEntity, id, patch, 'partner', {
        op,
        action: 'partner.update',
        request: dto,
        view: partnerView,
      }),
    );
  }

  // --- shared ---
  async setStatus(kind: Kind, id: string, status: 'active' | 'paused', op: OperatorIdentity) {
    const audit = { op, action: `${kind}.${status === 'active' ? 'resume' : 'pause'}`, request: { status } };
    switch (kind) {
      case 'offer':
        return offerView(await this.update(OfferEntity, id, { status }, kind, { ...audit, view: offerView }));
      case 'publisher':
        return publisherView(
          await this.update(PublisherEntity, id, { status }, kind, { ...audit, view: publisherView }),
        );
      case 'partner':
        return partnerView(
          await this.update(PartnerEntity, id, { status }, kind, { ...audit, view: partnerView }),
        );
    }
  }

  /** Partner credentials as stored: sealed, bound to the partner (docs/secrets.md). */
  private sealed<T extends Pick<PartnerEntity, 'hmacSecrets' | 'token'>>(partnerId: string, cols: T): T {
    return {
      ...cols,
      hmacSecrets: cols.hmacSecrets.map((s) => this.box.seal(s, secretContext.partnerHmac(partnerId))),
      token: cols.token === null ? null : this.box.seal(cols.token, secretContext.partnerToken(partnerId)),
    };
  }

  async get(kind: Kind, id: string) {
    switch (kind) {
      case 'offer':
        return offerView(await this.find(OfferEntity, id, kind));
      case 'publisher':
        return publisherView(await this.find(PublisherEntity, id, kind));
      case 'partner':
        return partnerView(await this.find(PartnerEntity, id, kind));
    }
  }

  async list(kind: Kind) {
    const order = { id: 'ASC' } as const;
    switch (kind) {
      case 'offer':
        return (await this.ds.getRepository(OfferEntity).find({ order, take: 1000 })).map(offerView);
      case 'publisher':
        return (await this.ds.getRepository(PublisherEntity).find({ order, take: 1000 })).map(publisherView);
      case 'partner':
        return (await this.ds.getRepository(PartnerEntity).find({ order, take: 1000 })).map(partnerView);
    }
  }

  private async find<T extends { id: string }>(
    entity: EntityTarget<T>,
    id: string,
    kind: Kind,
    em: EntityManager = this.ds.manager,
    lock = false,
  ): Promise<T> {
    const row = await em
      .getRepository(entity)
      .findOne({ where: { id } as never, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!row) throw new ApiError(404, `unknown_${kind}`, `no ${kind} ${id}`);
    return row;
  }

  private async insert<T extends { id: string }>(
    entity: EntityTarget<T>,
    row: T,
    kind: Kind,
    audit: Audited<T>,
  ): Promise<T> {
    let saved: T;
    try {
      saved = await this.ds.transaction(async (em) => {
        await em.getRepository(entity).insert(row as never);
        const after = await this.find(entity, row.id, kind, em);
        await writeAudit(em, audit.op, {
          action: audit.action,
          subject: `${kind}:${row.id}`,
          request: audit.request,
          before: null,
          after: audit.view(after),
        });
        return after;
      });
    } catch (e) {
      if (e instanceof QueryFailedError && (e.driverError as { code?: string }).code === '23505') {
        throw new ApiError(
          409,
          `${kind}_exists`,
          `${kind} ${row.id} already exists; PATCH it to change it`,
          'id',
        );
      }
      throw e;
    }
    await this.cache.refresh();
    return saved;
  }

  private async update<T extends { id: string }>(
    entity: EntityTarget<T>,
    id: string,
    patch: Partial<T>,
    kind: Kind,
    audit: Audited<T>,
  ): Promise<T> {
    const saved = await this.ds.transaction(async (em) => {
      const before = await this.find(entity, id, kind, em, true);
      await em
        .createQueryBuilder()
        .update(entity)
        .set({ ...patch, updatedAt: () => 'clock_timestamp()' } as never)
        .where('id = :id', { id })
        .execute();
      const after = await this.find(entity, id, kind, em);
      await writeAudit(em, audit.op, {
        action: audit.action,
        subject: `${kind}:${id}`,
        request: audit.request,
        before: audit.view(before),
        after: audit.view(after),
      });
      return after;
    });
    await this.cache.refresh();
    return saved;
  }
}

function authColumns(
  auth: PartnerAuthDto,
  secretMinLength: number,
): Pick<PartnerEntity, 'authModes' | 'hmacSecrets' | 'token' | 'tokenParam' | 'ipAllowlist'> {
  const modes = [...new Set(Array.isArray(auth.mode) ? auth.mode : [auth.mode])] as AuthMode[];
  if (modes.length === 0) throw ApiError.badField('auth.mode', 'auth.mode must name at least one mode');
  const secrets = [...(auth.secrets ?? []), ...(auth.secret ? [auth.secret] : [])];
  requireSecretLength('auth.secrets', auth.secrets ?? [], secretMinLength);
  requireSecretLength('auth.secret', auth.secret ? [auth.secret] : [], secretMinLength);
  if (modes.includes('hmac') && secrets.length === 0)
    throw ApiError.badField('auth.secret', 'mode hmac needs auth.secret (or auth.secrets)');
  if (modes.includes('token') && !auth.token)
    throw ApiError.badField('auth.token', 'mode token needs auth.token');
  const ips = auth.ips ?? [];
  if (modes.includes('ip') && ips.length === 0)
    throw ApiError.badField('auth.ips', 'mode ip needs auth.ips (CIDRs or addresses)');
  const parsed = parseCidrList(ips);
  if (!parsed.ok) throw ApiError.badField('auth.ips', `${parsed.entry}: ${parsed.message}`);
  return {
    authModes: modes,
    hmacSecrets: secrets,
    token: auth.token ?? null,
    tokenParam: auth.token_param ?? 'token',
    ipAllowlist: ips,
  };
}

function checkKeyMap(map: Record<string, unknown> | undefined): KeyDictionary['aliases'] | undefined {
  if (!map) return undefined;
  const out: Record<string, string[]> = {};
  for (const [field, names] of Object.entries(map)) {
    if (!(CANONICAL_FIELDS as readonly string[]).includes(field)) {
      throw ApiError.badField(
        `key_map.${field}`,
        `key_map keys must be canonical fields: ${CANONICAL_FIELDS.join(', ')}`,
      );
    }
    const list = typeof names === 'string' ? [names] : names;
    if (
      !Array.isArray(list) ||
      list.length > 20 ||
      !list.every((n) => typeof n === 'string' && /^[A-Za-z0-9_.[\]-]{1,64}$/.test(n))
    ) {
      throw ApiError.badField(
        `key_map.${field}`,
        'key_map values must be lists of 1-64 character parameter names',
      );
    }
    out[field] = list as string[];
  }
  return out;
}

function checkStatusMap(map: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!map) return undefined;
  const entries = Object.entries(map);
  if (entries.length > 50) throw ApiError.badField('status_map', 'status_map holds at most 50 codes');
  for (const [code, status] of entries) {
    if (
      typeof status !== 'string' ||
      !(POSTBACK_STATUSES as readonly string[]).includes(status) ||
      code.length > 64
    ) {
      throw ApiError.badField(
        `status_map.${code.slice(0, 64)}`,
        `status_map values must be one of ${POSTBACK_STATUSES.join(', ')}`,
      );
    }
  }
  return map as Record<string, string>;
}
