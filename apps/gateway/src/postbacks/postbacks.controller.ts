import { All, Controller, HttpCode, Inject, Param, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { type PostbackReceived, type PostbackRefused, Topics } from '@app/contracts';
import { ApiError } from '../http/api-error';
import { EventPublisher } from '../events/event-publisher';
import { ID_PATTERN } from '../clicks/record-click.dto';
import { parsePostback } from './parse-postback';

type Params = Record<string, string | string[] | undefined>;

@Controller('v1/postbacks')
export class PostbacksController {
  constructor(@Inject(EventPublisher) private readonly events: EventPublisher) {}

  /**
   * GET (query) or POST (JSON or form body, plus query). Answers 200 only after the
   * normalised postback is acknowledged by Kafka; a refusal is published too, for reporting.
   */
  @All(':partnerId')
  @HttpCode(200)
  async receive(
    @Param('partnerId') partnerId: string,
    @Req() req: FastifyRequest,
  ): Promise<{ status: 'accepted'; id: string }> {
    if (req.method !== 'GET' && req.method !== 'POST')
      throw new ApiError(405, 'method_not_allowed', 'use GET or POST');
    if (!ID_PATTERN.test(partnerId)) throw new ApiError(403, 'unknown_partner', 'unknown partner');
    const params = this.params(req);
    const parsed = parsePostback(params);
    if (!parsed.ok) {
      await this.refuse(partnerId, req, 400, parsed.code, parsed.message, parsed.field);
      throw ApiError.badField(parsed.field, parsed.message, parsed.code);
    }
    const p = parsed.value;
    const now = new Date();
    const event = await this.events.publish<PostbackReceived>(
      Topics.postbacksReceived,
      'postback.received',
      `${partnerId}:${p.transaction_id}`,
      { partner_id: partnerId, ...p, source_ip: req.ip, received_at: now.toISOString() },
      { occurredAt: now },
    );
    return { status: 'accepted', id: event.id };
  }

  private params(req: FastifyRequest): Params {
    const query = (req.query ?? {}) as Params;
    if (req.method !== 'POST') return query;
    const body = req.body;
    if (body === undefined || body === null || body === '') return query;
    if (typeof body !== 'object' || Array.isArray(body))
      throw new ApiError(400, 'invalid_body', 'the body must be a JSON object or a form');
    const merged: Params = { ...query };
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (typeof v === 'string') merged[k] = v;
      else if (typeof v === 'number' && Number.isFinite(v)) merged[k] = String(v);
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) merged[k] = v;
      else throw ApiError.badField(k, `${k} must be a string`);
    }
    return merged;
  }

  /** Best effort: the refusal is reported even when the log is slow, but never delays the answer long. */
  private async refuse(
    partnerId: string,
    req: FastifyRequest,
    status: number,
    code: string,
    message: string,
    field?: string,
  ) {
    await this.events
      .publish<PostbackRefused>(Topics.postbacksRefused, 'postback.refused', partnerId, {
        partner_id: partnerId,
        http_status: status,
        code,
        field: field ?? null,
        message: message.slice(0, 512),
        source_ip: req.ip,
        received_at: new Date().toISOString(),
      })
      .catch(() => undefined);
  }
}
