import type { FlagSpec, Flags } from './args';
import { Replay } from './replay';

export function replaySpecs(env = process.env): Record<string, FlagSpec> {
  const opt = (v: string | undefined) => (v ? { default: v } : {});
  return {
    file: { kind: 'string', help: 'traffic file from `traffic generate`' },
    results: {
      kind: 'string',
      help: 'where to write what the gateway answered',
      default: '<file>.results.ndjson',
    },
    gateway: {
      kind: 'string',
      help: 'gateway base URL',
      default: env.GATEWAY_URL || `http://127.0.0.1:${env.PORT || 3000}`,
    },
    adminToken: { kind: 'string', help: 'admin API token (env ADMIN_TOKEN)', ...opt(env.ADMIN_TOKEN) },
    replayToken: {
      kind: 'string',
      help: "the gateway's REPLAY_TOKEN (env REPLAY_TOKEN)",
      ...opt(env.REPLAY_TOKEN),
    },
    speed: {
      kind: 'speed',
      help: 'time compression: 3600 = one virtual hour per second; max = no waiting',
      default: 3600,
    },
    concurrency: { kind: 'int', help: 'postbacks in flight at once', default: 128 },
    namespace: {
      kind: 'string',
      help: 'prefix for catalog and transaction ids (replays never collide)',
      default: `r${Date.now().toString(36)}`,
    },
    clickSettle: {
      kind: 'int',
      help: "ms between a click's acknowledgement and its postbacks (above the processor's watermark cache: 250 ms plus its read)",
      default: 1000,
    },
    giveUpAfter: {
      kind: 'int',
      help: 'seconds a request may keep failing with 503/429/network errors',
      default: 600,
    },
  };
}

export const resultsPathOf = (file: string, results: string | number): string =>
  results === '<file>.results.ndjson' ? `${file.replace(/\.ndjson$/, '')}.results.ndjson` : String(results);

export async function runReplay(f: Flags): Promise<number> {
  const file = String(f.file);
  const results = resultsPathOf(file, f.results!);
  const replay = await Replay.fromFile({
    file,
    results,
    gateway: String(f.gateway).replace(/\/$/, ''),
    adminToken: String(f.adminToken),
    replayToken: String(f.replayToken),
    speed: f.speed === 'max' ? 'max' : Number(f.speed),
    concurrency: Math.max(1, Number(f.concurrency)),
    namespace: String(f.namespace),
    giveUpAfterMs: Number(f.giveUpAfter) * 1000,
    clickSettleMs: Number(f.clickSettle),
  });
  const s = await replay.run();
  const codes = Object.entries(s.byStatus)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
  process.stderr.write(
    `[replay] ${s.done}/${s.total} events in ${(s.elapsedMs / 1000).toFixed(1)} s (${codes}); ` +
      `retried 503 ${s.retried503}, 429 ${s.retried429}, network ${s.networkErrors}; namespace ${String(f.namespace)}; ` +
      `results in ${results}\n`,
  );
  if (s.failed > 0)
    process.stderr.write(`[replay] ${s.failed} events never got a final answer: see ${results}\n`);
  return s.failed > 0 ? 1 : 0;
}
