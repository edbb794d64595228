import { createWriteStream, type WriteStream } from 'node:fs';
import { canonicalQuery, signatureHeader } from '@app/domain';
import { type Answer, type RetryStats, sendWithRetry } from './http-retry';
import { Progress } from './progress';
import { type ClickLine, namespaced, type PostbackLine, readTraffic, type Traffic } from './traffic-file';

export interface ReplayOptions {
  file: string;
  results: string;
  gateway: string;
  adminToken: string;
  replayToken: string;
  /** Virtual milliseconds per wall millisecond, or as fast as the concurrency allows. */
  speed: number | 'max';
  concurrency: number;
  namespace: string;
  giveUpAfterMs: number;
  /** A postback is sent at least this long after its click was acknowledged. */
  clickSettleMs: number;
}

/** One line of the results file: what the gateway answered to one event of the traffic file. */
export interface ResultLine {
  kind: 'result';
  id: string;
  status: number;
  /** Clicks: the minted click_id. */
  click_id?: string;
  /** Postbacks: the gateway's event id (`{"status":"accepted","id":...}`). */
  event_id?: string;
  error?: string;
  attempts: number;
}

export interface RunLine {
  kind: 'run';
  namespace: string;
  gateway: string;
  file: string;
  speed: number | 'max';
  started_at: string;
}

export interface ReplaySummary extends RetryStats {
  total: number;
  done: number;
  byStatus: Record<string, number>;
  failed: number;
  elapsedMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bounded concurrency: at most `n` holders at once; waiters are served in order. */
class Semaphore {
  private readonly waiters: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

/**
 * Sends a traffic file through the real gateway: the catalog through the admin API, then every
 * event at its virtual time divided by the speed, stamped with that virtual time (X-Replay-Time).
 * Order that decides outcomes is kept: clicks one after another in virtual-time order (so the
 * click store's watermark never passes a click still on its way), a postback only after its click
 * was acknowledged, and postbacks of one partner transaction one after another (a group of
 * concurrent duplicates at once).
 */
export class Replay {
  private readonly secrets: Map<string, string>;
  private readonly progress: Progress;
  private readonly sem: Semaphore;
  private readonly clickIds = new Map<string, Promise<{ id: string; ackedAt: number } | undefined>>();
  private readonly txChain = new Map<string, Promise<unknown>>();
  private readonly groupStart = new Map<string, Promise<unknown>>();
  private clickChain: Promise<unknown> = Promise.resolve();
  private out!: WriteStream;

  constructor(
    private readonly o: ReplayOptions,
    private readonly traffic: Traffic,
  ) {
    this.secrets = new Map(traffic.partners.map((p) => [p.id, p.secret]));
    this.progress = new Progress(traffic.events.length);
    this.sem = new Semaphore(o.concurrency);
  }

  static async fromFile(o: ReplayOptions): Promise<Replay> {
    return new Replay(o, await readTraffic(o.file));
  }

  async run(): Promise<ReplaySummary> {
    await this.provisionCatalog();
    this.out = createWriteStream(this.o.results);
    const run: RunLine = {
      kind: 'run',
      namespace: this.o.namespace,
      gateway: this.o.gateway,
      file: this.o.file,
      speed: this.o.speed,
      started_at: new Date().toISOString(),
    };
    this.out.write(`${JSON.stringify(run)}\n`);
    this.progress.start();
    try {
      await this.sendAll();
    } finally {
      this.progress.stop();
      await new Promise<void>((resolve, reject) =>
        this.out.end((e?: Error | null) => (e ? reject(e) : resolve())),
      );
    }
    return this.progress.summary();
  }

  private async sendAll(): Promise<void> {
    const events = this.traffic.events;
    const t0 = events.length ? Date.parse(events[0]!.t) : 0;
    const wall0 = Date.now();
    const tasks: Promise<unknown>[] = [];
    for (const e of events) {
      if (this.o.speed !== 'max') {
        const due = wall0 + (Date.parse(e.t) - t0) / this.o.speed;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      if (e.kind === 'click') tasks.push(this.scheduleClick(e));
      else {
        await this.sem.acquire();
        tasks.push(this.schedulePostback(e));
      }
      this.progress.virtualTime(e.t);
    }
    await Promise.all(tasks);
  }

  private scheduleClick(c: ClickLine): Promise<unknown> {
    const id = this.clickChain.then(() => this.sendClick(c));
    this.clickIds.set(c.id, id);
    this.clickChain = id;
    return id;
  }

  private schedulePostback(p: PostbackLine): Promise<unknown> {
    const key = `${p.partner_id}|${p.params.transaction_id ?? p.id}`;
    const prev = this.txChain.get(key) ?? Promise.resolve();
    // Members of a concurrent group all wait for what came before the group, not for each other.
    const before = p.group ? (this.groupStart.get(p.group) ?? prev) : prev;
    if (p.group && !this.groupStart.has(p.group)) this.groupStart.set(p.group, prev);
    const task = before.then(() => this.sendPostback(p)).finally(() => this.sem.release());
    this.txChain.set(key, p.group ? Promise.all([prev, task]) : task);
    return task;
  }

  private headers(t: string): Record<string, string> {
    return { 'x-replay-time': t, 'x-replay-token': this.o.replayToken };
  }

  private async sendClick(c: ClickLine): Promise<{ id: string; ackedAt: number } | undefined> {
    const ns = this.o.namespace;
    const body = JSON.stringify({
      offer_id: namespaced(ns, c.offer_id),
      publisher_id: namespaced(ns, c.publisher_id),
      sub1: c.sub1,
      placement: c.placement,
      geo: c.geo,
      device: c.device,
    });
    this.progress.sending();
    const a = await sendWithRetry(
      () => ({
        url: `${this.o.gateway}/v1/clicks`,
        init: { method: 'POST', headers: { 'content-type': 'application/json', ...this.headers(c.t) }, body },
      }),
      this.progress.stats,
      this.o.giveUpAfterMs,
    );
    const clickId = a.status === 201 ? (JSON.parse(a.body) as { click_id: string }).click_id : undefined;
    this.record(c.id, a, clickId ? { click_id: clickId } : {});
    return clickId ? { id: clickId, ackedAt: Date.now() } : undefined;
  }

  private async sendPostback(p: PostbackLine): Promise<void> {
    const click = 'raw' in p.click ? { id: p.click.raw, ackedAt: 0 } : await this.clickIds.get(p.click.ref);
    if (click === undefined) {
      const none = { status: 0, body: '', retryAfterS: undefined, attempts: 0 };
      this.record(p.id, none, { error: 'its click was not recorded' });
      return;
    }
    // The processor may judge a click id against a watermark read up to 250 ms earlier; with
    // virtual (past) click times that read must postdate the click's acknowledgement.
    const settle = click.ackedAt + this.o.clickSettleMs - Date.now();
    if (settle > 0) await sleep(settle);
    this.progress.sending();
    const a = await sendWithRetry(
      () => this.signedPostback(p, click.id),
      this.progress.stats,
      this.o.giveUpAfterMs,
    );
    const eventId = a.status === 200 ? (JSON.parse(a.body) as { id: string }).id : undefined;
    this.record(p.id, a, eventId ? { event_id: eventId } : { error: errorCode(a) });
  }

  /** Signed exactly as partners sign (docs/partners/postbacks.md); `bad` lines with a wrong secret. */
  private signedPostback(p: PostbackLine, clickId: string): { url: string; init: RequestInit } {
    const ns = this.o.namespace;
    const params: Record<string, string> = { ...p.params, click_id: clickId };
    if (params.transaction_id) params.transaction_id = namespaced(ns, params.transaction_id);
    if (params.offer_id) params.offer_id = namespaced(ns, params.offer_id);
    const secret = this.secrets.get(p.partner_id) ?? '';
    const key = p.signing === 'bad' ? `not-${secret}` : secret;
    const ts = Math.floor(Date.now() / 1000);
    const url = `${this.o.gateway}/v1/postbacks/${namespaced(ns, p.partner_id)}`;
    const headers = { ...this.headers(p.t), 'x-postback-timestamp': String(ts) };
    if (p.method === 'POST') {
      const body = JSON.stringify(params);
      return {
        url,
        init: {
          method: 'POST',
          headers: {
            ...headers,
            'content-type': 'application/json',
            'x-postback-signature': signatureHeader(key, ts, body),
          },
          body,
        },
      };
    }
    const query = canonicalQuery(Object.entries(params));
    return {
      url: `${url}?${query}`,
      init: {
        method: 'GET',
        headers: { ...headers, 'x-postback-signature': signatureHeader(key, ts, query) },
      },
    };
  }

  private record(id: string, a: Answer & { attempts: number }, extra: Partial<ResultLine>): void {
    const line: ResultLine = { kind: 'result', id, status: a.status, attempts: a.attempts, ...extra };
    if (a.error && !line.error) line.error = a.error;
    this.out.write(`${JSON.stringify(line)}\n`);
    this.progress.answered(a.status);
  }

  /** Offers, publishers and partners of the file, created (or brought up to date) through the admin API. */
  private async provisionCatalog(): Promise<void> {
    const ns = this.o.namespace;
    for (const p of this.traffic.publishers)
      await this.upsert('publishers', namespaced(ns, p.id), { name: `replay ${p.id}` });
    for (const o of this.traffic.offers) {
      await this.upsert('offers', namespaced(ns, o.id), {
        name: `replay ${o.id}`,
        landing_url: 'https://advertiser.example/land?c={click_id}',
        payout: o.payout,
        currency: o.currency,
        allowed_geos: o.allowed_geos,
        daily_cap: o.daily_cap,
        attribution_window_hours: o.attribution_window_hours,
        min_conversion_seconds: o.min_conversion_seconds,
        goals: o.goals,
      });
    }
    for (const p of this.traffic.partners) {
      await this.upsert('partners', namespaced(ns, p.id), {
        name: `replay ${p.id}`,
        auth: { mode: 'hmac', secret: p.secret },
        // A replay at full speed is far above a partner's real rate; 429s would only slow it.
        rate_limit_per_second: 100_000,
      });
    }
    await this.provisionMoney();
  }

  /**
   * The file's exchange rates (not namespaced: one rate per day and pair, which a replay of the
   * same file finds already stored), then its payout and reward rules on the namespaced offers
   * and publishers, from their virtual start times (nothing of the namespace is written yet).
   */
  private async provisionMoney(): Promise<void> {
    const ns = this.o.namespace;
    const post = async (path: string, body: unknown, ok: (status: number, text: string) => boolean) => {
      const r = await fetch(`${this.o.gateway}/v1/admin/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.o.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await r.text();
      if (!ok(r.status, text)) throw new Error(`provisioning ${path}: ${r.status} ${text}`);
    };
    const rates = this.traffic.rates.map((r) => ({
      date: r.day,
      base: r.base,
      quote: r.quote,
      rate: r.rate,
      source: 'replay file',
    }));
    for (let i = 0; i < rates.length; i += 1000)
      await post('exchange-rates', rates.slice(i, i + 1000), (s) => s === 200 || s === 201);
    // A rule already there (this namespace replayed again) is a 409 rule_exists: fine.
    const created = (s: number, text: string) => s === 201 || (s === 409 && text.includes('rule_exists'));
    for (const r of this.traffic.payoutRules)
      await post(
        'payout-rules',
        {
          offer_id: namespaced(ns, r.offer_id),
          ...(r.publisher_id ? { publisher_id: namespaced(ns, r.publisher_id) } : {}),
          kind: r.amount !== undefined ? 'fixed' : 'share',
          ...(r.amount !== undefined ? { amount: r.amount } : { share_percent: r.share_percent }),
          effective_from: r.effective_from,
          note: 'replay file',
        },
        created,
      );
    for (const r of this.traffic.rewardRules)
      await post(
        'reward-rules',
        {
          publisher_id: namespaced(ns, r.publisher_id),
          currency_name: r.currency_name,
          units_per_unit: r.units_per_unit,
          rounding: r.rounding,
          minimum: r.minimum,
          effective_from: r.effective_from,
          note: 'replay file',
        },
        created,
      );
  }

  private async upsert(kind: string, id: string, body: Record<string, unknown>): Promise<void> {
    const call = (method: string, path: string, payload: unknown) =>
      fetch(`${this.o.gateway}/v1/admin/${path}`, {
        method,
        headers: { authorization: `Bearer ${this.o.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
    let r = await call('POST', kind, { id, ...body });
    if (r.status === 409) r = await call('PATCH', `${kind}/${encodeURIComponent(id)}`, body);
    if (r.status !== 201 && r.status !== 200)
      throw new Error(`provisioning ${kind} ${id}: ${r.status} ${await r.text()}`);
  }
}

function errorCode(a: Answer): string | undefined {
  if (a.error) return a.error;
  try {
    return (JSON.parse(a.body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}
