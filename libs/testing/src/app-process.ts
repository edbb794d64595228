import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

export interface AppProcess {
  name: string;
  proc: ChildProcess;
  logs: () => string;
  /** Its HTTP base (health, metrics), where the spawner knows it. */
  url?: string;
  /** SIGKILL or SIGTERM; resolves when the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Node flags per app, as infra/bin/apps.sh (`app_node_flags`) starts them. */
export const APP_NODE_FLAGS: Record<'gateway' | 'processor' | 'notifier', readonly string[]> = {
  gateway: [],
  processor: ['--max-semi-space-size=32'],
  notifier: [],
};

/** Runs a built app (dist/) as a real process, as `npm run up` does. */
export function spawnApp(
  name: 'gateway' | 'processor' | 'notifier',
  env: Record<string, string>,
): AppProcess {
  const entry = join(ROOT, 'dist', 'apps', name, 'src', 'main.js');
  // APP_NODE_OPTIONS reaches the app as node flags on its command line (profiling a bench:
  // --cpu-prof --cpu-prof-dir=...; Node refuses those in NODE_OPTIONS).
  const flags = (process.env.APP_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
  const proc = spawn(process.execPath, ['--enable-source-maps', ...APP_NODE_FLAGS[name], ...flags, entry], {
    env: {
      PATH: process.env.PATH ?? '',
      // Tests and benches send everything from 127.0.0.1: the per-address limits on anonymous
      // traffic are lifted unless a test sets them (the flood test does).
      CLICK_RATE_PER_ADDRESS: '1000000',
      REFUSAL_RATE_PER_ADDRESS: '1000000',
      REFUSAL_SAMPLES_PER_SECOND: '100000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  return {
    name,
    proc,
    logs: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(signal);
      }),
  };
}

export async function poll<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${timeoutMs} ms${last ? ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function httpJson(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(url, init);
  const text = await r.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body, headers: r.headers };
}

/** Waits until an app answers 200 on /health/ready; fails early with its logs if it exits. */
export async function waitReady(app: AppProcess, url: string, timeoutMs = 60000): Promise<void> {
  await poll(
    `${app.name} ready at ${url}`,
    async () => {
      if (app.proc.exitCode !== null)
        throw new Error(`${app.name} exited ${app.proc.exitCode}:\n${app.logs()}`);
      const r = await fetch(url).catch(() => undefined);
      return r?.status === 200 ? true : undefined;
    },
    timeoutMs,
  );
}

/** A port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** The gateway's error shape: `{"error": {"code": "...", "message": "..."}}`. */
export function isErrorBody(body: unknown): boolean {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof e?.code === 'string' && typeof e.message === 'string';
}
