import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Counter, Registry } from 'prom-client';
import { CommonEnv, redactHeaders, redactQuery } from '@app/config';
import type { PostbackReceived } from '@app/contracts';
import { LabelBounder } from '@app/metrics';
import { CatalogCache } from '@app/catalog';
import { parserRefusals } from '../http/client-errors';
import { toApiError } from '../http/error.filter';

/**
 * What the gateway counts and logs about partner traffic. Counters only (in-process); the
 * per-postback log lines are debug level, so at the default level they cost a level check.
 * Labels are catalog ids only: a partner id the catalog does not know is `_unknown` (anyone
 * can put anything in the URL), and reason codes are bounded too.
 */
@Injectable()
export class GatewayMetrics {
  private readonly log = new Logger('Postbacks');
  private readonly partners = new LabelBounder(1000);
  private readonly offers = new LabelBounder(5000);
  private readonly reasons = new LabelBounder(100);
  private readonly accepted: Counter<'partner_id'>;
  private readonly refused: Counter<'partner_id' | 'reason'>;
  private readonly clicks: Counter<'offer_id'>;
  private readonly limited: Counter<'kind'>;
  private readonly unsampled: Counter;
  /** Log objects are only built when they will be printed. */
  private readonly debug: boolean;

  constructor(
    @Inject(Registry) registry: Registry,
    @Inject(CatalogCache) private readonly catalog: CatalogCache,
    @Inject(CommonEnv) env: CommonEnv,
  ) {
    this.debug = env.LOG_LEVEL === 'debug';
    const registers = [registry];
    this.accepted = new Counter({
      name: 'postbacks_accepted_total',
      help: 'Postbacks answered 2xx (acknowledged by Kafka), by partner',
      labelNames: ['partner_id'],
      registers,
    });
    this.refused = new Counter({
      name: 'postbacks_refused_total',
      help: 'Postbacks answered non-2xx, by partner (_unknown: not in the catalog) and error code',
      labelNames: ['partner_id', 'reason'],
      registers,
    });
    new Counter({
      name: 'http_parser_refused_total',
      help: "Requests Node's HTTP parser refused before routing (431 headers_too_large, 400 malformed_request, 408 request_timeout), by code",
      labelNames: ['code'],
      registers,
      collect() {
        // Counted where they are answered (http/client-errors.ts, before any Nest provider exists).
        this.reset();
        for (const [code, n] of parserRefusals()) this.labels(code).inc(n);
      },
    });
    this.limited = new Counter({
      name: 'address_limited_total',
      help: 'Requests answered 429 by the per-address limits (click: clicks; refused_postbacks: an address whose postbacks keep being refused)',
      labelNames: ['kind'],
      registers,
    });
    this.unsampled = new Counter({
      name: 'postbacks_refused_unsampled_total',
      help: 'Refused postbacks counted but not published to postbacks.refused (over the per-partner sample rate)',
      registers,
    });
    this.clicks = new Counter({
      name: 'clicks_recorded_total',
      help: 'Clicks recorded (acknowledged by Kafka), by offer',
      labelNames: ['offer_id'],
      registers,
    });
  }

  /** The partner label a postback is counted (and a refusal sampled) under: `_unknown` when not in the catalog. */
  partnerLabel(id: string): string {
    return this.partners.boundKnown(id, (v) => this.catalog.partner(v) !== undefined);
  }

  postbackAccepted(event: PostbackReceived): void {
    const p = event.payload;
    this.accepted.labels(this.partnerLabel(p.partner_id)).inc();
    if (!this.debug) return;
    this.log.debug({
      msg: 'postback accepted',
      correlation_id: event.correlation_id,
      request_id: p.request_id,
      event_id: event.id,
      partner_id: p.partner_id,
      transaction_id: p.transaction_id,
      click_id: p.click_id,
      status: p.status,
    });
  }

  postbackRefused(partnerId: string, error: unknown, req: FastifyRequest): void {
    const err = toApiError(error);
    this.refused.labels(this.partnerLabel(partnerId), this.reasons.bound(err.code)).inc();
    if (!this.debug) return;
    // The partner's own token parameter may not look like one (e.g. `key`): redact it by name too.
    const tokenParam = this.catalog.partner(partnerId)?.tokenParam;
    this.log.debug({
      msg: 'postback refused',
      request_id: req.id,
      partner_id: partnerId.slice(0, 64),
      status: err.status,
      code: err.code,
      field: err.field ?? null,
      method: req.method,
      url: redactQuery(req.raw.url ?? '', tokenParam ? [tokenParam] : []).slice(0, 2048),
      headers: redactHeaders(req.headers),
    });
  }

  addressLimited(kind: 'click' | 'refused_postbacks'): void {
    this.limited.labels(kind).inc();
  }

  refusalNotSampled(): void {
    this.unsampled.inc();
  }

  clickRecorded(offerId: string): void {
    this.clicks.labels(this.offers.boundKnown(offerId, (v) => this.catalog.offer(v) !== undefined)).inc();
  }
}
