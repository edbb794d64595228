import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { type PostbackReceived, type PostbackRefused, Topics } from '@app/contracts';
import { clip, normalizePostbackParams } from '@app/domain';
import { AddressLimits } from '../http/address-limits';
import { ApiError } from '../http/api-error';
import { ReplayClock } from '../http/replay-clock';
import { EventPublisher } from '../events/event-publisher';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { ID_PATTERN } from '../clicks/record-click.dto';
import { PartnerAuthenticator } from './partner-auth';
import { parsePostback } from './parse-postback';

export type Params = Record<string, string | string[] | undefined>;

/** Query pairs exactly as sent (order and repeats kept): what GET signatures cover. */
export function queryPairs(url: string | undefined): Array<[string, string]> {
  const q = url?.indexOf('?') ?? -1;
  if (!url || q < 0) return [];
  return [...new URLSearchParams(url.slice(q + 1))];
}

export function toParams(
  pairs: Array<[string, string]>,
  body: Record<string, unknown>,
  drop: string[],
): Params {
  const out: Params = {};
  const add = (k: string, v: string) => {
    if (drop.includes(k)) return;
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  };
  for (const [k, v] of pairs) add(k, v);
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string') add(k, v);
    else if (typeof v === 'number' && Number.isFinite(v)) add(k, String(v));
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) for (const x of v) add(k, x);
    else throw ApiError.badField(k.slice(0, 64), `${k.slice(0, 64)} must be a string`);
  }
  return out;
}

/**
 * What happens to a partner postback, GET (query) or POST (JSON or form body, plus query):
 * authenticated per partner, normalised through the partner's key dictionary, validated, and
 * answered 200 only after Kafka acknowledged the event (acks=all). Every refusal is published
 * too, for acceptance rates. Served by a route of its own (postbacks.route.ts), not through
 * Nest's router: see there why.
 */
@Injectable()
export class PostbackReceiver {
  constructor(
    @Inject(EventPublisher) private readonly events: EventPublisher,
    @Inject(PartnerAuthenticator) private readonly auth: PartnerAuthenticator,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
    @Inject(ReplayClock) private readonly clock: ReplayClock,
    @Inject(AddressLimits) private readonly limits: AddressLimits,
  ) {}

  /** The answer's body for a postback accepted; throws the refusal (an ApiError, or what Kafka threw). */
  async receive(partnerId: string, req: FastifyRequest): Promise<{ status: 'accepted'; id: string }> {
    try {
      return await this.accept(partnerId, req);
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) this.refuse(partnerId, req, e);
      this.metrics.postbackRefused(partnerId, e, req);
      throw e;
    }
  }

  private async accept(partnerId: string, req: FastifyRequest): Promise<{ status: 'accepted'; id: string }> {
    if (req.method !== 'GET' && req.method !== 'POST')
      throw new ApiError(405, 'method_not_allowed', 'use GET or POST');
    if (!ID_PATTERN.test(partnerId)) throw new ApiError(403, 'unknown_partner', 'unknown partner');
    const body = req.method === 'POST' ? req.body : undefined;
    if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
      if (!(typeof body === 'string' && body.trim() === ''))
        throw new ApiError(400, 'invalid_body', 'the body must be a JSON object or a form');
    }
    const bodyParams = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const pairs = queryPairs(req.raw.url);
    const who = this.auth.authenticate({
      partnerId,
      method: req.method,
      path: (req.raw.url ?? '').split('?', 1)[0]!,
      remoteAddress: req.socket.remoteAddress ?? req.ip,
      headers: req.headers,
      query: pairs,
      bodyParams,
      rawBody: req.rawBody,
    });
    const parsed = parsePostback(
      toParams(pairs, bodyParams, who.credentialParams),
      who.partner.dict,
      who.partner.format,
    );
    if (!parsed.ok) throw ApiError.badField(parsed.field, parsed.message, parsed.code);
    const p = parsed.value;
    const now = this.clock.eventTime(req.headers) ?? new Date();
    const event = await this.events.publish<PostbackReceived>(
      Topics.postbacksReceived,
      'postback.received',
      `${partnerId}:${p.transaction_id}`,
      {
        partner_id: partnerId,
        ...p,
        source_ip: who.clientIp,
        received_at: now.toISOString(),
        request_id: req.id,
      },
      { occurredAt: now },
    );
    this.metrics.postbackAccepted(event);
    return { status: 'accepted', id: event.id };
  }

  /**
   * Reported so acceptance rates are honest. Not awaited: a refusal is answered at once even
   * when the log is slow or down (the report is then lost, the answer never is).
   */
  private refuse(partnerId: string, req: FastifyRequest, err: ApiError): void {
    if (!this.limits.refused(req, this.metrics.partnerLabel(partnerId)).publish) {
      this.metrics.refusalNotSampled();
      return;
    }
    void this.events
      .publish<PostbackRefused>(Topics.postbacksRefused, 'postback.refused', partnerId.slice(0, 64) || '-', {
        partner_id: partnerId.slice(0, 64),
        http_status: err.status,
        code: err.code.slice(0, 64),
        field: err.field?.slice(0, 64) ?? null,
        message: err.message.slice(0, 512),
        source_ip: (req.socket.remoteAddress ?? req.ip).slice(0, 45),
        received_at: new Date().toISOString(),
        request_id: req.id,
        ...this.sentIds(partnerId, req),
      })
      .catch(() => undefined);
  }

  /**
   * The transaction and click ids as the partner sent them (its key dictionary applied), so a
   * refused postback can be found by them in the postback log; null when unreadable.
   */
  private sentIds(
    partnerId: string,
    req: FastifyRequest,
  ): { transaction_id: string | null; click_id: string | null } {
    try {
      const body = req.method === 'POST' ? req.body : undefined;
      const bodyParams =
        typeof body === 'object' && body !== null && !Array.isArray(body)
          ? (body as Record<string, unknown>)
          : {};
      const n = normalizePostbackParams(
        toParams(queryPairs(req.raw.url), bodyParams, []),
        ID_PATTERN.test(partnerId) ? this.auth.partner(partnerId)?.dict : undefined,
      );
      if (!n.ok) return { transaction_id: null, click_id: null };
      const id = (v: string | undefined) => (v ? clip(v, 128) : null);
      return { transaction_id: id(n.fields.transaction_id), click_id: id(n.fields.click_id) };
    } catch {
      return { transaction_id: null, click_id: null };
    }
  }
}
