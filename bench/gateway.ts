/**
 * Gateway bench: signed GET postbacks through the built gateway app at fixed concurrency.
 *
 * Starts its own system (a fresh migrated database, topics under a fresh prefix, the built
 * gateway as a real process), sets up a publisher, an offer and an HMAC partner through the
 * admin API, mints clicks, then drives `GET /v1/postbacks/<partner>` with autocannon: every
 * request carries a unique transaction id and a fresh v1 signature. A warm-up run comes first.
 * Everything it started is stopped and dropped at the end, also on failure.
 *
 *   node_modules/.bin/ts-node -r tsconfig-paths/register --transpile-only bench/gateway.ts
 *
 * Env: BENCH_CONNECTIONS (default 50), BENCH_SECONDS (default 20), BENCH_WARMUP_SECONDS
 * (default 5), BENCH_CLICKS (default 1000), BENCH_SKIP_BUILD=1 (use dist/ as it is),
 * KAFKA_BROKERS, DATABASE_URL (the server; the bench creates its own database on it).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { canonicalQuery, signatureHeader } from '@app/domain';
import {
  type AppProcess,
  createTestDatabase,
  createTestTopics,
  freePort,
  spawnApp,
  TEST_BROKERS,
  type TestDatabase,
  uniquePrefix,
  waitReady,
} from '@app/testing';
import {
  CpuMeter,
  envInt,
  exitAfterFlush,
  localBrokerPid,
  fmt,
  formatTable,
  machine,
  readRssBytes,
  RssSampler,
  WHOLE_BOX,
  writeResults,
} from './lib/stats';

const ROOT = join(__dirname, '..');
const GATEWAY_ENTRY = join(ROOT, 'dist', 'apps', 'gateway', 'src', 'main.js');
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const MAX_KEPT_BODIES = 5;
const SELF = 'load generator (bench process)';
const BROKER = 'kafka broker (shared)';

export interface GatewayBenchOptions {
  connections?: number;
  seconds?: number;
  warmupSeconds?: number;
  clicks?: number;
  brokers?: string[];
  /** Run infra's ensure_build first (default: unless BENCH_SKIP_BUILD=1). */
  build?: boolean;
  log?: (line: string) => void;
}

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

export interface GatewayBenchResult {
  connections: number;
  warmup: RunFigures;
  run: RunFigures;
  clicks: number;
  gatewayIdleRssMiB: number;
  peakRssMiB: Record<string, number>;
  /** CPU over the measured run, percent of one core per process. */
  cpuPercent: Record<string, number>;
  machine: ReturnType<typeof machine>;
}

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

interface HttpAnswer {
  status: number;
  text: string;
  body: unknown;
}

async function call(base: string, method: string, path: string, body?: unknown, token?: string) {
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

/** An admin create call; a 404 means the route is not there (yet), which stops the bench with that message. */
async function adminCreate(base: string, path: string, body: unknown): Promise<HttpAnswer> {
  const r = await call(base, 'POST', path, body, BENCH_ADMIN_TOKEN);
  if (r.status === 404)
    throw new Error(
      `the admin API is not there yet: POST ${path} answered 404 (${r.text.slice(0, 300)}). ` +
        'The gateway bench needs POST /v1/admin/publishers, /v1/admin/offers and /v1/admin/partners ' +
        '(with HMAC partner auth) in the built gateway; run it again once they are in (and built).',
    );
  if (r.status < 200 || r.status >= 300)
    throw new Error(`POST ${path} answered ${r.status}: ${r.text.slice(0, 500)}`);
  return r;
}

interface BenchCatalog {
  publisherId: string;
  offerId: string;
  partnerId: string;
  secret: string;
}

async function setUpCatalog(base: string, tag: string): Promise<BenchCatalog> {
  const c: BenchCatalog = {
    publisherId: `bench-pub-${tag}`,
    offerId: `bench-offer-${tag}`,
    partnerId: `bench-partner-${tag}`,
    secret: randomBytes(24).toString('hex'),
  };
  await adminCreate(base, '/v1/admin/publishers', { id: c.publisherId, name: 'Bench publisher' });
  await adminCreate(base, '/v1/admin/offers', {
    id: c.offerId,
    name: 'Bench offer',
    landing_url: 'https://adv.example/l?c={click_id}',
    payout: '1.50',
    currency: 'USD',
  });
  await adminCreate(base, '/v1/admin/partners', {
    id: c.partnerId,
    name: 'Bench partner',
    auth: { mode: 'hmac', secret: c.secret },
    rate_limit_per_second: 1_000_000,
  });
  return c;
}

async function mintClicks(base: string, cat: BenchCatalog, count: number, log: (s: string) => void) {
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
    await new Promise((r) => setTimeout(r, 250));
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
  log(`minted ${fmt(clicks.length)} clicks`);
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

let activeInstance: autocannon.Instance | undefined;
let interrupted = false;

async function drive(
  base: string,
  cat: BenchCatalog,
  clicks: readonly string[],
  txPrefix: string,
  connections: number,
  seconds: number,
): Promise<RunFigures> {
  let seq = 0;
  let non2xx = 0;
  const samples: Array<{ status: number; body: string }> = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    activeInstance = autocannon(
      {
        url: base,
        connections,
        duration: seconds,
        timeout: 10,
        requests: [
          {
            method: 'GET',
            setupRequest: (req) => {
              const i = seq++;
              const p = signedPostback(cat, clicks[i % clicks.length]!, `${txPrefix}-${i}`);
              return { ...req, method: 'GET', path: p.path, headers: { ...req.headers, ...p.headers } };
            },
            onResponse: (status, body) => {
              if (status >= 200 && status < 300) return;
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

  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = v.count ?? 0;
  return {
    seconds: result.duration,
    requests: result.requests.total,
    ok2xx: result['2xx'],
    reqPerSecMean: result.requests.average,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.average,
    },
    errors: result.errors,
    timeouts: result.timeouts,
    // autocannon's own count and ours should agree; report the larger.
    non2xx: Math.max(non2xx, result.non2xx),
    statusCodes,
    non2xxSamples: samples,
  };
}

async function stopApp(app: AppProcess): Promise<void> {
  const killer = setTimeout(() => app.proc.kill('SIGKILL'), 15_000);
  try {
    await app.stop('SIGTERM');
  } finally {
    clearTimeout(killer);
  }
}

/** Starts the system, runs warm-up and measured load, tears everything down. */
export async function runGatewayBench(opts: GatewayBenchOptions = {}): Promise<GatewayBenchResult> {
  const connections = opts.connections ?? envInt('BENCH_CONNECTIONS', 50, 1, 1000);
  const seconds = opts.seconds ?? envInt('BENCH_SECONDS', 20, 1, 600);
  const warmupSeconds = opts.warmupSeconds ?? envInt('BENCH_WARMUP_SECONDS', 5, 1, 120);
  const clickCount = opts.clicks ?? envInt('BENCH_CLICKS', 1000, 1, 100_000);
  const brokers = opts.brokers ?? TEST_BROKERS;
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  ensureGatewayBuilt(opts.build ?? process.env.BENCH_SKIP_BUILD !== '1', log);

  const tag = Date.now().toString(36);
  const prefix = uniquePrefix('bench-gw');
  let db: TestDatabase | undefined;
  let topics: { drop(): Promise<void> } | undefined;
  let app: AppProcess | undefined;
  const rss = new RssSampler({}, SELF);
  const onSigint = () => {
    interrupted = true;
    log('interrupted: stopping the load and cleaning up');
    activeInstance?.stop();
  };
  process.on('SIGINT', onSigint);
  const check = () => {
    if (interrupted) throw new Error('interrupted');
  };
  try {
    db = await createTestDatabase();
    log(`database ${db.name} (migrated)`);
    topics = await createTestTopics(prefix, brokers);
    log(`topics under ${prefix}`);
    check();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    app = spawnApp('gateway', {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokers.join(','),
      TOPIC_PREFIX: prefix,
      PORT: String(port),
      ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
    });
    log(`gateway pid ${app.proc.pid ?? '?'} on ${base}; waiting for /health/ready`);
    await waitReady(app, `${base}/health/ready`, 90_000);
    if (app.proc.pid !== undefined) rss.add('gateway', app.proc.pid);
    const brokerPid = brokers.length === 1 ? localBrokerPid(brokers[0]!) : undefined;
    if (brokerPid !== undefined) rss.add(BROKER, brokerPid);
    check();

    const cat = await setUpCatalog(base, tag);
    const clicks = await mintClicks(base, cat, clickCount, log);
    check();

    // One postback by hand: a clear message when signing or partner auth is not what we expect.
    const probe = signedPostback(cat, clicks[0]!, `${tag}-probe`);
    const answer = await fetch(`${base}${probe.path}`, { headers: probe.headers });
    const probeText = await answer.text();
    if (answer.status === 404)
      throw new Error(
        `GET /v1/postbacks/<partner> answered 404 (${probeText.slice(0, 300)}): not there yet?`,
      );
    if (answer.status !== 200)
      throw new Error(`a signed postback answered ${answer.status}: ${probeText.slice(0, 500)}`);

    const idleRss = app.proc.pid !== undefined ? ((await readRssBytes(app.proc.pid)) ?? NaN) : NaN;

    log(`warm-up: ${warmupSeconds} s at ${connections} connections`);
    const warmup = await drive(base, cat, clicks, `${tag}-w`, connections, warmupSeconds);
    check();
    log(`measured run: ${seconds} s at ${connections} connections`);
    rss.start();
    const cpu = await new CpuMeter({ gateway: app.proc.pid, [BROKER]: brokerPid }, SELF).start();
    const run = await drive(base, cat, clicks, `${tag}-r`, connections, seconds);
    const cpuPercent = await cpu.stop();
    const peakRssMiB = await rss.stop();
    check();
    if (app.proc.exitCode !== null || app.proc.signalCode !== null)
      throw new Error(`the gateway exited during the run:\n${app.logs().slice(-4000)}`);

    return {
      connections,
      warmup,
      run,
      clicks: clicks.length,
      gatewayIdleRssMiB: Math.round((idleRss / 1024 / 1024) * 10) / 10,
      peakRssMiB,
      cpuPercent,
      machine: machine(),
    };
  } catch (e) {
    const logs = interrupted ? undefined : app?.logs().trim();
    if (logs) log(`--- gateway output (last 3000 characters) ---\n${logs.slice(-3000)}\n---`);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    await rss.stop();
    if (app) await stopApp(app).catch((e: unknown) => log(`could not stop the gateway: ${String(e)}`));
    await db?.drop().catch((e: unknown) => log(`could not drop database ${db?.name}: ${String(e)}`));
    await topics?.drop().catch((e: unknown) => log(`could not delete topics ${prefix}*: ${String(e)}`));
  }
}

function runRow(name: string, r: RunFigures): Record<string, string | number> {
  return {
    run: name,
    seconds: fmt(r.seconds),
    requests: fmt(r.requests),
    'req/s (mean)': fmt(r.reqPerSecMean),
    'p50 ms': fmt(r.latencyMs.p50, 1),
    'p90 ms': fmt(r.latencyMs.p90, 1),
    'p99 ms': fmt(r.latencyMs.p99, 1),
    'max ms': fmt(r.latencyMs.max, 1),
    errors: fmt(r.errors),
    timeouts: fmt(r.timeouts),
    'non-2xx': fmt(r.non2xx),
  };
}

export function gatewayMarkdown(r: GatewayBenchResult): string {
  const m = r.machine;
  const lines = [
    `# Gateway bench: signed GET postbacks (${new Date().toISOString()})`,
    '',
    `Machine: ${m.cores} cores (${m.model}), ${fmt(m.memGiB, 1)} GiB RAM, Node ${m.node}. ` +
      'autocannon runs in this process on the same box as the gateway, Kafka and Postgres, so the figures are a floor.',
    '',
    `Load: ${r.connections} connections, GET /v1/postbacks/<partner> with click_id (one of ${fmt(r.clicks)} minted clicks), ` +
      'a unique transaction_id, status=approved, payout=1.50, currency=USD, and a fresh v1 HMAC signature per request. ' +
      'Each 200 is sent after Kafka acknowledged the event (acks=all). Gateway settings: its defaults, LOG_LEVEL=warn.',
    '',
    formatTable([runRow('warm-up', r.warmup), runRow('measured', r.run)]),
    '',
    formatTable([
      {
        process: 'gateway',
        'RSS after setup (MiB)': fmt(r.gatewayIdleRssMiB, 1),
        'peak RSS under load (MiB)': fmt(r.peakRssMiB.gateway ?? NaN, 1),
        'CPU under load (% of one core)': fmt(r.cpuPercent.gateway ?? NaN),
      },
      {
        process: SELF,
        'RSS after setup (MiB)': '',
        'peak RSS under load (MiB)': fmt(r.peakRssMiB[SELF] ?? NaN, 1),
        'CPU under load (% of one core)': fmt(r.cpuPercent[SELF] ?? NaN),
      },
      ...(r.peakRssMiB[BROKER] === undefined
        ? []
        : [
            {
              process: BROKER,
              'RSS after setup (MiB)': '',
              'peak RSS under load (MiB)': fmt(r.peakRssMiB[BROKER], 1),
              'CPU under load (% of one core)': fmt(r.cpuPercent[BROKER] ?? NaN),
            },
          ]),
      {
        process: WHOLE_BOX,
        'RSS after setup (MiB)': '',
        'peak RSS under load (MiB)': '',
        'CPU under load (% of one core)': fmt(r.cpuPercent[WHOLE_BOX] ?? NaN),
      },
    ]),
    '',
    `CPU is user + system time over the measured run as a percentage of one core; this box has ${m.cores} cores ` +
      `(${m.cores * 100} % in all), shared with Kafka, Postgres and anything else running; the whole-box row ` +
      'counts every process, so what the rows above leave over is other load on the box.',
    '',
    `Status codes (measured run): ${
      Object.entries(r.run.statusCodes)
        .map(([k, v]) => `${k}: ${fmt(v)}`)
        .join(', ') || 'none'
    }.`,
  ];
  const bad = r.run.non2xx + r.warmup.non2xx;
  if (bad > 0) {
    lines.push(
      '',
      `**${fmt(bad)} non-2xx answers: these figures do not measure accepted postbacks.** First bodies:`,
      '',
      ...[...r.warmup.non2xxSamples, ...r.run.non2xxSamples]
        .slice(0, MAX_KEPT_BODIES)
        .map((s) => `- ${s.status}: \`${s.body.replace(/`/g, "'")}\``),
    );
  }
  lines.push('');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const r = await runGatewayBench();
  writeResults('gateway', gatewayMarkdown(r));
  const bad = r.run.non2xx + r.warmup.non2xx;
  if (bad > 0) {
    console.error(`gateway bench: ${bad} non-2xx answers (must be 0); see the bodies above`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().then(
    () => exitAfterFlush(typeof process.exitCode === 'number' ? process.exitCode : 0),
    (e: unknown) => {
      console.error('gateway bench failed:', e instanceof Error ? e.message : e);
      exitAfterFlush(1);
    },
  );
}
