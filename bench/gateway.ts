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
import {
  type AppProcess,
  createTestDatabase,
  createTestTopics,
  freePort,
  TEST_BROKERS,
  type TestDatabase,
  uniquePrefix,
  waitReady,
} from '@app/testing';
import {
  CpuMeter,
  envInt,
  localBrokerPid,
  fmt,
  formatTable,
  machine,
  readRssBytes,
  RssSampler,
  WHOLE_BOX,
  writeResults,
} from './lib/stats';
import {
  BROKER,
  ensureGatewayBuilt,
  MAX_KEPT_BODIES,
  mintClicks,
  probePostback,
  type RunFigures,
  runBenchMain,
  runPostbackLoad,
  SELF,
  setUpCatalog,
  spawnGateway,
  stopApp,
  throwIfInterrupted,
  trapInterrupt,
  wasInterrupted,
} from './lib/system';

// Shared with pipeline.ts; moved to lib/system.ts and still exported from here.
export { BENCH_ADMIN_TOKEN, ensureGatewayBuilt, signedPostback } from './lib/system';
export type { RunFigures } from './lib/system';

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

/** The 404 of an admin create call: the route is not there (yet), which stops the bench with this message. */
const adminNotThereYet = (path: string, r: { text: string }) =>
  `the admin API is not there yet: POST ${path} answered 404 (${r.text.slice(0, 300)}). ` +
  'The gateway bench needs POST /v1/admin/publishers, /v1/admin/offers and /v1/admin/partners ' +
  '(with HMAC partner auth) in the built gateway; run it again once they are in (and built).';

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
  const untrapInterrupt = trapInterrupt(log);
  const check = throwIfInterrupted;
  try {
    db = await createTestDatabase();
    log(`database ${db.name} (migrated)`);
    topics = await createTestTopics(prefix, brokers);
    log(`topics under ${prefix}`);
    check();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    app = spawnGateway(db, brokers, prefix, port);
    log(`gateway pid ${app.proc.pid ?? '?'} on ${base}; waiting for /health/ready`);
    await waitReady(app, `${base}/health/ready`, 90_000);
    if (app.proc.pid !== undefined) rss.add('gateway', app.proc.pid);
    const brokerPid = brokers.length === 1 ? localBrokerPid(brokers[0]!) : undefined;
    if (brokerPid !== undefined) rss.add(BROKER, brokerPid);
    check();

    const cat = await setUpCatalog(base, tag, adminNotThereYet);
    const clicks = await mintClicks(base, cat, clickCount);
    log(`minted ${fmt(clicks.length)} clicks`);
    check();

    // One postback by hand: a clear message when signing or partner auth is not what we expect.
    await probePostback(
      base,
      cat,
      clicks[0]!,
      `${tag}-probe`,
      (text) => `GET /v1/postbacks/<partner> answered 404 (${text.slice(0, 300)}): not there yet?`,
    );

    const idleRss = app.proc.pid !== undefined ? ((await readRssBytes(app.proc.pid)) ?? NaN) : NaN;

    log(`warm-up: ${warmupSeconds} s at ${connections} connections`);
    const warmup = await runPostbackLoad(base, cat, clicks, `${tag}-w`, connections, warmupSeconds);
    check();
    log(`measured run: ${seconds} s at ${connections} connections`);
    rss.start();
    const cpu = await new CpuMeter({ gateway: app.proc.pid, [BROKER]: brokerPid }, SELF).start();
    const run = await runPostbackLoad(base, cat, clicks, `${tag}-r`, connections, seconds);
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
    const logs = wasInterrupted() ? undefined : app?.logs().trim();
    if (logs) log(`--- gateway output (last 3000 characters) ---\n${logs.slice(-3000)}\n---`);
    throw e;
  } finally {
    untrapInterrupt();
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

if (require.main === module) runBenchMain('gateway bench', main);
