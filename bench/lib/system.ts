/**
 * Helpers shared by the benches that start their own system (gateway.ts, pipeline.ts): the build
 * check, the admin API calls that set up a catalog, click minting, signed postbacks, the
 * autocannon load of signed postbacks, Ctrl-C handling and stopping an app.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { canonicalQuery, signatureHeader } from '@app/domain';
import { type AppProcess, spawnApp, type TestDatabase } from '@app/testing';
import { exitAfterFlush } from './stats';

const ROOT = join(__dirname, '..', '..');
const GATEWAY_ENTRY = join(ROOT, 'dist', 'apps', 'gateway', 'src', 'main.js');
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
/** How many non-2xx answers a load keeps the bodies of. */
export const MAX_KEPT_BODIES = 5;
export const SELF = 'load generator (bench process)';
export const BROKER = 'kafka broker (shared)';

/** Builds dist/ when sources changed (infra's ensure_build) and checks that the gateway entry exists. */
export function ensureGatewayBuilt(build: boolean, log: (s: string) => void): void {
  if (build) {
    log('building dist/ if sources changed (infra/bin/lib.sh ensure_build)');
    const r = spawnSync('bash', ['-c', `source "${join(ROOT, 'infra', 'bin', 'lib.sh')}"; ensure_build`], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 300_000,
    });
    if (r.status !== 0)
      throw new Error(
        `the build failed (exit ${r.status ?? r.signal ?? 'unknown'}); fix it or run with BENCH_SKIP_BUILD=1 against the dist/ you have`,
      );
  }
  if (!existsSync(GATEWAY_ENTRY)) throw new Error(`${GATEWAY_ENTRY} is missing: run \`npm run build\` first`);
}

/**
 * Settings for an ablation, from a space-separated `NAME=value` list in the variable `variable`
 * (BENCH_GATEWAY_ENV, BENCH_PROCESSOR_ENV): e.g. `KAFKA_PRODUCER=main`.
 */
export function ablationEnv(variable: string): Record<string, string> {
  return Object.fromEntries(
    (process.env[variable] ?? '')
      .split(/\s+/)
      .filter((kv) => kv.includes('='))
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/**
 * Spawns the built gateway on `port` against the bench's database and topics (LOG_LEVEL=warn),
 * with BENCH_GATEWAY_ENV's settings.
 */
export function spawnGateway(
  db: TestDatabase,
  brokers: string[],
  prefix: string,
  port: number,
  extraEnv: Record<string, string> = {},
): AppProcess {
  return spawnApp('gateway', {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: brokers.join(','),
    TOPIC_PREFIX: prefix,
    PORT: String(port),
    ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    ...ablationEnv('BENCH_GATEWAY_ENV'),
    ...extraEnv,
  });
}

/** Stops an app with SIGTERM, and SIGKILL when it has not stopped within 15 s. */
export async function stopApp(app: AppProcess): Promise<void> {
  const killer = setTimeout(() => app.proc.kill('SIGKILL'), 15_000);
  try {
    await app.stop('SIGTERM');
  } finally {
    clearTimeout(killer);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface HttpAnswer {
  status: number;
  text: string;
  body: unknown;
}

/** One HTTP call; the body is sent as JSON, the answer's body parsed as JSON when it is JSON. */
export async function call(base: string, method: string, path: string, body?: unknown, token?: string) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, text, body: parsed } satisfies HttpAnswer;
}

/** The message an admin create call fails with when the route answers 404. */
export type AdminMissingMessage = (path: string, answer: HttpAnswer) => string;

const adminNotThere: AdminMissingMessage = (path, r) =>
  `the admin API is not there: POST ${path} answered 404 (${r.text.slice(0, 300)})`;

/** An admin create call; a 404 (the route is not there) and any other non-2xx answer throw. */
export async function adminCreate(
  base: string,
  path: string,
  body: unknown,
  missing: AdminMissingMessage = adminNotThere,
): Promise<HttpAnswer> {
  const r = await call(base, 'POST', path, body, BENCH_ADMIN_TOKEN);
  if (r.status === 404) throw new Error(missing(path, r));
  if (r.status < 200 || r.status >= 300)
    throw new Error(`POST ${path} answered ${r.status}: ${r.text.slice(0, 500)}`);
  return r;
}

export interface BenchCatalog {
  publisherId: string;
  offerId: string;
  partnerId: string;
  secret: string;
}

/** A publisher, an offer (1.50 USD, no geo limits, no caps) and an HMAC partner without a practical rate limit. */
export async function setUpCatalog(
  base: string,
  tag: string,
  missing?: AdminMissingMessage,
): Promise<BenchCatalog> {
  const c: BenchCatalog = {
    publisherId: `bench-pub-${tag}`,
    offerId: `bench-offer-${tag}`,
    partnerId: `bench-partner-${tag}`,
    secret: randomBytes(24).toString('hex'),
  };
  await adminCreate(base, '/v1/admin/publishers', { id: c.publisherId, name: 'Bench publisher' }, missing);
  await adminCreate(
    base,
    '/v1/admin/offers',
    {
      id: c.offerId,
      name: 'Bench offer',
      landing_url: 'https://adv.example/l?c={click_id}',
      payout: '1.50',
      currency: 'USD',
    },
    missing,
  );
  await adminCreate(
    base,
    '/v1/admin/partners',
    {
      id: c.partnerId,
      name: 'Bench partner',
      auth: { mode: 'hmac', secret: c.secret },
      rate_limit_per_second: 1_000_000,
    },
    missing,
  );
  return c;
}

/** Mints `count` clicks on the catalog's offer (20 at a time) and returns their ids. */
export async function mintClicks(base: string, cat: BenchCatalog, count: number): Promise<string[]> {
  const clickBody = (i: number) => ({
    offer_id: cat.offerId,
    publisher_id: cat.publisherId,
    sub1: `bench-${i}`,
    placement: 'bench',
    geo: 'US',
    device: 'mobile',
  });
  // The first click may meet a catalog cache that has not seen the new offer yet: retry briefly.
  const deadline = Date.now() + 15_000;
  let first: HttpAnswer;
  for (;;) {
    first = await call(base, 'POST', '/v1/clicks', clickBody(0));
    if (first.status !== 404 || Date.now() > deadline) break;
    await sleep(250);
  }
  const idOf = (r: HttpAnswer): string => {
    const id = (r.body as { click_id?: unknown } | null)?.click_id;
    if (r.status !== 201 || typeof id !== 'string')
      throw new Error(`POST /v1/clicks answered ${r.status}: ${r.text.slice(0, 500)}`);
    return id;
  };
  const clicks: string[] = [idOf(first)];
  let next = 1;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      clicks.push(idOf(await call(base, 'POST', '/v1/clicks', clickBody(i))));
    }
  };
  await Promise.all(Array.from({ length: Math.min(20, count) }, worker));
  return clicks;
}

/** Path and headers of one signed GET postback, as a partner sends it (docs/partners/postbacks.md). */
export function signedPostback(
  cat: BenchCatalog,
  clickId: string,
  transactionId: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): { path: string; headers: Record<string, string> } {
  const canonical = canonicalQuery([
    ['click_id', clickId],
    ['transaction_id', transactionId],
    ['status', 'approved'],
    ['payout', '1.50'],
    ['currency', 'USD'],
  ]);
  return {
    path: `/v1/postbacks/${encodeURIComponent(cat.partnerId)}?${canonical}`,
    headers: {
      'x-postback-timestamp': String(nowSeconds),
      'x-postback-signature': signatureHeader(cat.secret, nowSeconds, canonical),
    },
  };
}

/**
 * Sends one signed postback by hand and throws unless it is answered 200: a clear message when
 * signing or partner auth is not what the bench expects. `notFound`, when given, is the message for
 * a 404.
 */
export async function probePostback(
  base: string,
  cat: BenchCatalog,
  clickId: string,
  transactionId: string,
  notFound?: (text: string) => string,
): Promise<void> {
  const probe = signedPostback(cat, clickId, transactionId);
  const answer = await fetch(`${base}${probe.path}`, { headers: probe.headers });
  const probeText = await answer.text();
  if (notFound && answer.status === 404) throw new Error(notFound(probeText));
  if (answer.status !== 200)
    throw new Error(`a signed postback answered ${answer.status}: ${probeText.slice(0, 500)}`);
}

let activeInstance: autocannon.Instance | undefined;
let interrupted = false;

/** Whether Ctrl-C was pressed while a bench had the SIGINT handler of trapInterrupt installed. */
export const wasInterrupted = (): boolean => interrupted;

/** Throws 'interrupted' after Ctrl-C. */
export function throwIfInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

/**
 * Installs a SIGINT handler that marks the bench interrupted and stops the load now running, so the
 * bench cleans up instead of dying; returns the function that removes it.
 */
export function trapInterrupt(log: (s: string) => void): () => void {
  const onSigint = () => {
    interrupted = true;
    log('interrupted: stopping the load and cleaning up');
    activeInstance?.stop();
  };
  process.on('SIGINT', onSigint);
  return () => process.off('SIGINT', onSigint);
}

/** How much load to send: for `duration` seconds, or exactly `amount` requests. */
export interface LoadSize {
  connections: number;
  duration?: number;
  amount?: number;
  /** Open loop: requests per second over all connections (autocannon's overallRate). */
  overallRate?: number;
}

export interface PostbackLoad {
  result: autocannon.Result;
  /** autocannon's non-2xx count and ours should agree; the larger. */
  non2xx: number;
  statusCodes: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** The first few non-2xx answers: status and body. */
  non2xxSamples: Array<{ status: number; body: string }>;
  /** When the first 2xx came back, and when the load started and ended (hrtime). */
  first2xxNs: bigint | undefined;
  startNs: bigint;
  endNs: bigint;
}

/**
 * Signed GET postbacks with autocannon: request i carries click i (round robin over `clicks`) and
 * transaction id `txId(i)`, with a fresh signature. Ctrl-C (see trapInterrupt) stops it.
 */
export async function sendPostbacks(
  base: string,
  cat: BenchCatalog,
  clicks: readonly string[],
  txId: (i: number) => string,
  size: LoadSize,
): Promise<PostbackLoad> {
  let seq = 0;
  let non2xx = 0;
  let first2xxNs: bigint | undefined;
  const samples: Array<{ status: number; body: string }> = [];
  const startNs = process.hrtime.bigint();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    activeInstance = autocannon(
      {
        url: base,
        // Only the keys the caller set: autocannon's defaults would be overwritten by undefined.
        ...size,
        timeout: 10,
        requests: [
          {
            method: 'GET',
            setupRequest: (req) => {
              const i = seq++;
              const p = signedPostback(cat, clicks[i % clicks.length]!, txId(i));
              return { ...req, method: 'GET', path: p.path, headers: { ...req.headers, ...p.headers } };
            },
            onResponse: (status, body) => {
              if (status >= 200 && status < 300) {
                first2xxNs ??= process.hrtime.bigint();
                return;
              }
              non2xx++;
              if (samples.length < MAX_KEPT_BODIES) samples.push({ status, body: body.slice(0, 500) });
            },
          },
        ],
      },
      (err: unknown, res) =>
        err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve(res),
    );
  }).finally(() => (activeInstance = undefined));
  const endNs = process.hrtime.bigint();

  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = v.count ?? 0;
  return {
    result,
    non2xx: Math.max(non2xx, result.non2xx),
    statusCodes,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.average,
    },
    non2xxSamples: samples,
    first2xxNs,
    startNs,
    endNs,
  };
}

/** The figures of one timed postback load (gateway bench and minimal gateway reference). */
export interface RunFigures {
  seconds: number;
  requests: number;
  ok2xx: number;
  /** Mean of autocannon's per-second samples. */
  reqPerSecMean: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** The first few non-2xx answers: status and body. */
  non2xxSamples: Array<{ status: number; body: string }>;
}

/**
 * The gateway bench's load: signed GET postbacks for `seconds` at fixed concurrency (closed
 * loop), transaction ids `<txPrefix>-<i>`. The minimal gateway reference is driven by this same
 * function, so both see exactly the same requests.
 */
export async function runPostbackLoad(
  base: string,
  cat: BenchCatalog,
  clicks: readonly string[],
  txPrefix: string,
  connections: number,
  seconds: number,
): Promise<RunFigures> {
  const load = await sendPostbacks(base, cat, clicks, (i) => `${txPrefix}-${i}`, {
    connections,
    duration: seconds,
  });
  const result = load.result;
  return {
    seconds: result.duration,
    requests: result.requests.total,
    ok2xx: result['2xx'],
    reqPerSecMean: result.requests.average,
    latencyMs: load.latencyMs,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: load.non2xx,
    statusCodes: load.statusCodes,
    non2xxSamples: load.non2xxSamples,
  };
}

/** A bench file's entry point: runs `main`, then exits with its exit code, or 1 when it threw. */
export function runBenchMain(what: string, main: () => Promise<void>): void {
  main().then(
    () => exitAfterFlush(typeof process.exitCode === 'number' ? process.exitCode : 0),
    (e: unknown) => {
      console.error(`${what} failed:`, e instanceof Error ? e.message : e);
      exitAfterFlush(1);
    },
  );
}
