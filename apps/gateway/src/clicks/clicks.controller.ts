import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ClickRecorded, Topics } from '@app/contracts';
import { clip, ulidFactory } from '@app/domain';
import { type OfferEntity } from '@app/persistence';
import { CatalogCache } from '@app/catalog';
import { EventPublisher, newId } from '../events/event-publisher';
import { GatewayEnv } from '../gateway.env';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { ApiError } from '../http/api-error';
import { ReplayClock } from '../http/replay-clock';
import { BodyValidationPipe } from '../http/validation.pipe';
import { deviceClass } from './device-class';
import { RecordClickDto } from './record-click.dto';

const LINK_FIELDS = ['sub1', 'sub2', 'sub3', 'sub4', 'sub5', 'placement', 'geo', 'device', 'uid'] as const;
const MACROS = [
  'click_id',
  'pub',
  'sub1',
  'sub2',
  'sub3',
  'sub4',
  'sub5',
  'offer_id',
  'placement',
  'geo',
] as const;

/** Fills the landing URL's macros, each value percent-encoded. Unknown macros stay as they are. */
export function fillLandingUrl(
  template: string,
  values: Partial<Record<(typeof MACROS)[number], string | null>>,
): string {
  return template.replace(/\{([a-z0-9_]+)\}/g, (whole, name: string) =>
    (MACROS as readonly string[]).includes(name)
      ? encodeURIComponent(values[name as (typeof MACROS)[number]] ?? '')
      : whole,
  );
}

@ApiTags('clicks')
@Controller()
export class ClicksController {
  private readonly validate = new BodyValidationPipe();

  constructor(
    @Inject(EventPublisher) private readonly events: EventPublisher,
    @Inject(CatalogCache) private readonly catalog: CatalogCache,
    @Inject(GatewayEnv) private readonly env: GatewayEnv,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
    @Inject(ReplayClock) private readonly clock: ReplayClock,
  ) {}

  /** API click: answers 201 with the minted click_id once the click is durably on Kafka. */
  @Post('v1/clicks')
  @HttpCode(201)
  @ApiOperation({ summary: 'Record a click (server to server); answers the click_id' })
  @ApiResponse({ status: 201, description: '{"click_id": "<ULID>"}' })
  @ApiResponse({ status: 400, description: 'a field is bad; error.field names it' })
  @ApiResponse({ status: 404, description: 'unknown or paused offer or publisher' })
  async record(@Body() dto: RecordClickDto, @Req() req: FastifyRequest): Promise<{ click_id: string }> {
    const { clickId } = await this.recordClick(dto, req);
    return { click_id: clickId };
  }

  /** Redirect click: records the click, then 302 to the offer's landing URL with macros filled. */
  @Get('c/:offerId')
  @ApiOperation({ summary: 'Record a click from a link and redirect to the offer (302)' })
  @ApiResponse({
    status: 302,
    description: "Location: the offer's landing URL with {click_id}, {pub}, {sub1}..{sub5} filled",
  })
  @ApiResponse({ status: 404, description: 'unknown or paused offer or publisher' })
  async redirect(
    @Param('offerId') offerId: string,
    @Query() query: Record<string, unknown>,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // Links carry whatever publishers append (utm_*, ...): only the click fields are read.
    const fields: Record<string, unknown> = { offer_id: offerId, publisher_id: query.pub };
    for (const k of LINK_FIELDS) if (query[k] !== undefined) fields[k] = query[k];
    fields.user_agent ??=
      req.headers['user-agent'] === undefined ? undefined : clip(req.headers['user-agent'], 512);
    const dto = this.validate.transform(fields, { type: 'body', metatype: RecordClickDto }) as RecordClickDto;
    const { clickId, offer, payload } = await this.recordClick(dto, req);
    const location = fillLandingUrl(offer.landingUrl, {
      ...payload,
      click_id: clickId,
      pub: payload.publisher_id,
    });
    void reply.status(302).header('location', location).header('cache-control', 'no-store').send();
  }

  private async recordClick(dto: RecordClickDto, req: FastifyRequest) {
    const offer = this.catalog.offer(dto.offer_id);
    if (!offer || offer.status !== 'active')
      throw new ApiError(404, 'unknown_offer', `no active offer ${dto.offer_id}`, 'offer_id');
    const publisher = this.catalog.publisher(dto.publisher_id);
    if (!publisher || publisher.status !== 'active') {
      throw new ApiError(404, 'unknown_publisher', `no active publisher ${dto.publisher_id}`, 'publisher_id');
    }
    const replayAt = this.clock.eventTime(req.headers);
    const now = replayAt ?? new Date();
    // A replayed click's id carries its virtual time exactly (the processor's watermark and
    // attribution read it), so it is minted outside the monotonic live sequence.
    const clickId = replayAt ? ulidFactory()(now.getTime()) : newId(now.getTime());
    const userAgent = dto.user_agent ?? null;
    const payload: ClickRecorded['payload'] = {
      click_id: clickId,
      offer_id: dto.offer_id,
      publisher_id: dto.publisher_id,
      sub1: dto.sub1 ?? null,
      sub2: dto.sub2 ?? null,
      sub3: dto.sub3 ?? null,
      sub4: dto.sub4 ?? null,
      sub5: dto.sub5 ?? null,
      placement: dto.placement ?? null,
      geo: dto.geo ?? this.geoFromHeader(req),
      device: dto.device ?? deviceClass(userAgent ?? undefined),
      ip: dto.ip ?? req.ip ?? null,
      user_agent: userAgent,
      clicked_at: now.toISOString(),
      // Only when sent: version 1 consumers that predate it see the click as before.
      ...(dto.uid !== undefined && dto.uid !== null ? { user_id: dto.uid } : {}),
    };
    await this.events.publish<ClickRecorded>(Topics.clicksRecorded, 'click.recorded', clickId, payload, {
      id: clickId,
      occurredAt: now,
    });
    this.metrics.clickRecorded(dto.offer_id);
    return { clickId, offer: offer satisfies OfferEntity, payload };
  }

  private geoFromHeader(req: FastifyRequest): string | null {
    if (!this.env.GEO_HEADER) return null;
    const v = req.headers[this.env.GEO_HEADER];
    const s = (Array.isArray(v) ? v[0] : v)?.trim().toUpperCase();
    return s && /^[A-Z]{2}$/.test(s) && s !== 'XX' ? s : null;
  }
}
