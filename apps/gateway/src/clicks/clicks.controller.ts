import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { type ClickRecorded, Topics } from '@app/contracts';
import { EventPublisher, newId } from '../events/event-publisher';
import { deviceClass } from './device-class';
import { RecordClickDto } from './record-click.dto';

@Controller()
export class ClicksController {
  constructor(@Inject(EventPublisher) private readonly events: EventPublisher) {}

  /** API click: answers 201 with the minted click_id once the click is durably on Kafka. */
  @Post('v1/clicks')
  @HttpCode(201)
  async record(@Body() dto: RecordClickDto, @Req() req: FastifyRequest): Promise<{ click_id: string }> {
    const now = new Date();
    const clickId = newId(now.getTime());
    const userAgent = dto.user_agent ?? null;
    await this.events.publish<ClickRecorded>(
      Topics.clicksRecorded,
      'click.recorded',
      clickId,
      {
        click_id: clickId,
        offer_id: dto.offer_id,
        publisher_id: dto.publisher_id,
        sub1: dto.sub1 ?? null,
        sub2: dto.sub2 ?? null,
        sub3: dto.sub3 ?? null,
        sub4: dto.sub4 ?? null,
        sub5: dto.sub5 ?? null,
        placement: dto.placement ?? null,
        geo: dto.geo ?? null,
        device: dto.device ?? deviceClass(userAgent ?? undefined),
        ip: dto.ip ?? req.ip ?? null,
        user_agent: userAgent,
        clicked_at: now.toISOString(),
      },
      { id: clickId, occurredAt: now },
    );
    return { click_id: clickId };
  }
}
