import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DataSource } from 'typeorm';
import {
  type ClickFacts,
  type ClickLookup,
  type DecideInput,
  type OfferFacts,
  parseCidrList,
} from '@app/domain';

type SourceKind = 'sub1' | 'placement';
type Source = [kind: SourceKind, publisherId: string, value: string];
type Action = 'block' | 'hold' | 'cap';

interface Policy {
  min_decisions: number;
  reject_rate: number;
  action: Action;
  daily_cap: number | null;
}

interface SourceCount {
  kind: string;
  publisher_id: string;
  value: string;
  day: string;
  decided: number;
  rejected: number;
  approved: number;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const sourceKey = (s: Source) => s.join('|');

/** The click's sources: publisher + sub1 and publisher + placement (where present). */
export function sourcesOf(l: ClickLookup): Source[] {
  if (l.kind !== 'found') return [];
  const out: Source[] = [];
  if (l.click.sub1 !== null) out.push(['sub1', l.click.publisherId, l.click.sub1]);
  if (l.click.placement !== null) out.push(['placement', l.click.publisherId, l.click.placement]);
  return out;
}

interface TrafficRules {
  ip: (ip: string) => boolean;
  ipRules: string[];
  userAgents: string[];
}

/** Traffic-quality deny rules (table traffic_rules), re-read at most once a second. */
@Injectable()
export class TrafficRuleCache {
  private cached: { at: number; rules: TrafficRules } | undefined;

  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async current(): Promise<TrafficRules> {
    if (this.cached && Date.now() - this.cached.at < 1000) return this.cached.rules;
    const rows = await this.ds.query<{ kind: string; value: string }[]>(
      `SELECT kind, value FROM traffic_rules ORDER BY id`,
    );
    const ipRules = rows.filter((r) => r.kind === 'ip').map((r) => r.value);
    // Rules are validated when written; a bad one is skipped rather than stopping decisions.
    const parsed = ipRules.map((r) => parseCidrList([r])).filter((p) => p.ok);
    const rules: TrafficRules = {
      ip: (ip) => parsed.some((p) => p.ok && p.matcher(ip)),
      ipRules,
      userAgents: rows.filter((r) => r.kind === 'user_agent').map((r) => r.value.toLowerCase()),
    };
    this.cached = { at: Date.now(), rules };
    return rules;
  }
}

/** What the click row carries beyond ClickFacts for traffic-quality checks. */
export interface ClickOrigin {
  ip: string | null;
  user_agent: string | null;
}

/**
 * Routing controls for one decision batch, read under the batch's transaction: the controls in
 * force on the batch's sources (block / hold / reduced cap, with today's approvals locked so a
 * source cap holds under concurrency), traffic-quality matches, and conversions per source in
 * each offer's burst window. `record` counts each decision; `flush` writes the counts and puts
 * the automatic policy's control on any source that crosses its threshold.
 */
export class RoutingBatch {
  private readonly controls = new Map<string, { action: Action; daily_cap: number | null }>();
  private readonly approvedToday = new Map<string, number>();
  private readonly counts = new Map<string, SourceCount>();
  private readonly recent = new Map<string, number[]>();

  private constructor(
    private readonly policy: Policy,
    private readonly rules: TrafficRules,
  ) {}

  static async load(
    em: EntityManager,
    rulesCache: TrafficRuleCache,
    items: { lookup: ClickLookup; receivedAt: Date; offer: OfferFacts | undefined }[],
  ): Promise<RoutingBatch> {
    const [policy] = await em.query<Policy[]>(
      `SELECT min_decisions, reject_rate, action, daily_cap FROM source_policy WHERE id = 1`,
    );
    const batch = new RoutingBatch(
      policy ?? { min_decisions: 0, reject_rate: 1, action: 'block', daily_cap: null },
      await rulesCache.current(),
    );
    const wanted = [
      ...new Map(items.flatMap((i) => sourcesOf(i.lookup)).map((s) => [sourceKey(s), s])).values(),
    ];
    if (wanted.length === 0) return batch;
    const cols = (xs: Source[]) => [xs.map((x) => x[0]), xs.map((x) => x[1]), xs.map((x) => x[2])];
    const rows = await em.query<
      { kind: SourceKind; publisher_id: string; value: string; action: Action; daily_cap: number | null }[]
    >(
      `SELECT kind, publisher_id, value, action, daily_cap FROM source_controls
        WHERE (kind, publisher_id, value) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[]))`,
      cols(wanted),
    );
    for (const r of rows) batch.controls.set(sourceKey([r.kind, r.publisher_id, r.value]), r);
    await batch.lockCappedSources(em, wanted, items);
    await batch.loadBursts(em, items);
    return batch;
  }

  /** A reduced cap counts today's approvals per source: lock those rows (in key order) so it holds under concurrency. */
  private async lockCappedSources(
    em: EntityManager,
    wanted: Source[],
    items: { lookup: ClickLookup; receivedAt: Date }[],
  ): Promise<void> {
    if (![...this.controls.values()].some((c) => c.action === 'cap')) return;
    const days = [...new Set(items.map((i) => day(i.receivedAt)))];
    const keys = wanted
      .flatMap((s) => days.map((d) => [...s, d] as const))
      .sort((a, b) => (a.join('|') < b.join('|') ? -1 : 1));
    const cols = [0, 1, 2, 3].map((i) => keys.map((k) => k[i]));
    await em.query(
      `INSERT INTO source_daily_stats (kind, publisher_id, value, day)
       SELECT k, p, v, d::date FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[]) AS t(k, p, v, d)
       ON CONFLICT DO NOTHING`,
      cols,
    );
    const rows = await em.query<{ k: string; approved: number }[]>(
      `SELECT kind || '|' || publisher_id || '|' || value || '|' || to_char(day, 'YYYY-MM-DD') AS k, approved
         FROM source_daily_stats
        WHERE (kind, publisher_id, value, day) IN
              (SELECT k, p, v, d::date FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[]) AS t(k, p, v, d))
        ORDER BY kind, publisher_id, value, day FOR UPDATE`,
      cols,
    );
    for (const r of rows) this.approvedToday.set(r.k, r.approved);
  }

  /** New conversions per publisher + sub1 since the earliest burst window any offer of the batch needs. */
  private async loadBursts(
    em: EntityManager,
    items: { lookup: ClickLookup; receivedAt: Date; offer: OfferFacts | undefined }[],
  ): Promise<void> {
    const burstItems = items.filter(
      (i) => i.offer?.burst && i.lookup.kind === 'found' && i.lookup.click.sub1 !== null,
    );
    if (burstItems.length === 0) return;
    const since = Math.min(
      ...burstItems.map((i) => i.receivedAt.getTime() - i.offer!.burst!.windowSeconds * 1000),
    );
    const pubs = burstItems.map((i) => (i.lookup as { click: ClickFacts }).click);
    const rows = await em.query<{ publisher_id: string; sub1: string; t: Date }[]>(
      `SELECT publisher_id, sub1, first_received_at AS t FROM conversions
        WHERE (publisher_id, sub1) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[])) AND first_received_at > $3`,
      [pubs.map((c) => c.publisherId), pubs.map((c) => c.sub1), new Date(since).toISOString()],
    );
    for (const r of rows) {
      const k = JSON.stringify([r.publisher_id, r.sub1]);
      this.recent.set(k, [...(this.recent.get(k) ?? []), r.t.getTime()]);
    }
  }

  /** The routing inputs of decide() for one postback. */
  inputsFor(
    lookup: ClickLookup,
    origin: ClickOrigin | undefined,
    receivedAt: Date,
    offer: OfferFacts | undefined,
  ) {
    const sources = sourcesOf(lookup);
    const ctl = sources
      .map((s) => ({ s, c: this.controls.get(sourceKey(s)) }))
      .filter((x) => x.c !== undefined);
    const capped = ctl.find((x) => x.c!.action === 'cap');
    const input: Pick<DecideInput, 'sourceBlocked' | 'sourcePolicy' | 'trafficQuality' | 'burstCount'> = {
      sourceBlocked: ctl.some((x) => x.c!.action === 'block'),
      sourcePolicy: capped
        ? {
            action: 'cap',
            capReached:
              (this.approvedToday.get(`${sourceKey(capped.s)}|${day(receivedAt)}`) ?? 0) >=
              (capped.c!.daily_cap ?? 0),
          }
        : ctl.some((x) => x.c!.action === 'hold')
          ? { action: 'hold' }
          : undefined,
      trafficQuality: this.qualityIssue(origin),
    };
    if (offer?.burst && lookup.kind === 'found' && lookup.click.sub1 !== null) {
      const since = receivedAt.getTime() - offer.burst.windowSeconds * 1000;
      const times = this.recent.get(JSON.stringify([lookup.click.publisherId, lookup.click.sub1])) ?? [];
      input.burstCount = times.filter((t) => t > since && t <= receivedAt.getTime()).length;
    }
    return input;
  }

  private qualityIssue(origin: ClickOrigin | undefined): string | null {
    if (!origin) return null;
    if (origin.ip && this.rules.ip(origin.ip)) return `click IP ${origin.ip} is deny-listed`;
    const ua = origin.user_agent?.toLowerCase();
    const hit = ua ? this.rules.userAgents.find((u) => ua.includes(u)) : undefined;
    return hit ? `click user agent matches '${hit}'` : null;
  }

  /**
   * Counts one decision against its sources. `isNew`: the first decision of a conversion;
   * `hardReject`: a reject that speaks to the source's quality; `approvals`: the cap delta.
   */
  record(
    lookup: ClickLookup,
    receivedAt: Date,
    d: { isNew: boolean; hardReject: boolean; approvals: number },
  ): void {
    const sources = sourcesOf(lookup);
    const today = day(receivedAt);
    for (const s of sources) {
      const k = `${sourceKey(s)}|${today}`;
      const c = this.counts.get(k) ?? {
        kind: s[0],
        publisher_id: s[1],
        value: s[2],
        day: today,
        decided: 0,
        rejected: 0,
        approved: 0,
      };
      if (d.isNew) c.decided++;
      if (d.isNew && d.hardReject) c.rejected++;
      c.approved += d.approvals;
      this.counts.set(k, c);
      if (d.approvals) this.approvedToday.set(k, (this.approvedToday.get(k) ?? 0) + d.approvals);
    }
    if (d.isNew && lookup.kind === 'found' && lookup.click.sub1 !== null) {
      const k = JSON.stringify([lookup.click.publisherId, lookup.click.sub1]);
      this.recent.set(k, [...(this.recent.get(k) ?? []), receivedAt.getTime()]);
    }
  }

  /** Adds the batch's counts per source and day; the automatic policy controls a source that crosses its threshold. */
  async flush(em: EntityManager, now: Date): Promise<void> {
    if (this.counts.size === 0) return;
    const list = [...this.counts.values()].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    const p = this.policy;
    await em.query(
      `WITH up AS (
         INSERT INTO source_daily_stats (kind, publisher_id, value, day, decided, rejected, approved)
         SELECT kind, publisher_id, value, day, decided, rejected, approved
           FROM jsonb_to_recordset($1::jsonb)
             AS x(kind text, publisher_id text, value text, day date, decided int, rejected int, approved int)
         ON CONFLICT (kind, publisher_id, value, day) DO UPDATE
           SET decided = source_daily_stats.decided + EXCLUDED.decided,
               rejected = source_daily_stats.rejected + EXCLUDED.rejected,
               approved = source_daily_stats.approved + EXCLUDED.approved
         RETURNING kind, publisher_id, value, decided, rejected)
       INSERT INTO source_controls (kind, publisher_id, value, action, daily_cap, origin, since, decided, rejected, reason)
       SELECT kind, publisher_id, value, $5, $6, 'auto', $2, decided, rejected,
              rejected || ' of ' || decided || ' new conversions rejected on ' || to_char($2::timestamptz, 'YYYY-MM-DD')
         FROM up WHERE $3 > 0 AND decided >= $3 AND rejected::numeric / decided >= $4
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(list), now.toISOString(), p.min_decisions, p.reject_rate, p.action, p.daily_cap],
    );
  }
}
