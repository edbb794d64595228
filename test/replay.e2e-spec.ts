import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../infra/cli/traffic';
import { DEFAULT_OPTIONS, generateTraffic, serialize } from '../infra/replay/generate';
import type { PostbackLine, TrafficLine } from '../infra/replay/traffic-file';
import { verify } from '../infra/replay/verify';
import { ADMIN_TOKEN, type RunningSystem, startSystem } from './support';

const REPLAY_TOKEN = 'replay-token-for-tests-0123';

/**
 * The staging replay end to end: a generated file with every kind of the mix, replayed through
 * the real gateway as fast as it goes, must leave exactly what the verifier's reference expects.
 */
describe('staging replay', () => {
  let sys: RunningSystem;
  let dir: string;
  let file: string;
  let lines: TrafficLine[];
  /** `traffic replay` through this system's gateway, as an operator would run it. */
  const replay = (...args: string[]) =>
    main([
      'replay',
      '--gateway',
      sys.gatewayUrl,
      '--admin-token',
      ADMIN_TOKEN,
      '--replay-token',
      REPLAY_TOKEN,
      ...args,
    ]);
  /** The verifier with the rules the e2e system runs with (late after 1 h, sources blocked at 50 % of 50). */
  const verifyRun = (trafficFile: string, results: string, waitMs: number) =>
    verify({
      file: trafficFile,
      results: join(dir, results),
      databaseUrl: sys.db.url,
      waitMs,
      lateAfterMs: 3_600_000,
      sourceMinDecisions: 50,
      sourceBlockRate: 0.5,
    });

  beforeAll(async () => {
    sys = await startSystem('replay', {
      env: { REPLAY_TOKEN, RETRY_DELAYS_MS: '300,700,1500', CLICK_WATERMARK_MARGIN_MS: '3000' },
    });
    dir = mkdtempSync(join(tmpdir(), 'replay-e2e-'));
    file = join(dir, 'traffic.ndjson');
    lines = generateTraffic({
      ...DEFAULT_OPTIONS,
      seed: 11,
      clicks: 2500,
      spanHours: 4,
      maxDelayHours: 6,
      conversionRate: 0.4,
      unknownClickRate: 0.05,
      malformedClickRate: 0.03,
      offerMismatchRate: 0.03,
      badSignatureRate: 0.02,
      malformedRequestRate: 0.02,
      outOfOrderRate: 0.04,
      fraudBursts: 2,
      capBursts: 2,
    });
    writeFileSync(file, serialize(lines));
  });
  afterAll(async () => {
    await sys?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('replays a compressed file through the gateway and the verifier finds no difference', async () => {
    const started = Date.now();
    const replayed = await replay('--file', file, '--speed', 'max', '--namespace', 'e2e');
    expect(replayed).toBe(0);
    const printed: string[] = [];
    const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    let verified: number;
    try {
      verified = await main([
        'verify',
        '--file',
        file,
        '--database-url',
        sys.db.url,
        '--ledger-topic',
        `${sys.prefix}conversions.ledger`,
        '--wait',
        '120',
      ]);
    } finally {
      out.mockRestore();
    }
    console.log(printed.join(''));
    expect(printed.join('')).toMatch(/^OK: /m);
    // Both comparisons ran: the decision tables and the read models (recon_daily, recon_daily_reasons).
    expect(printed.join('')).toMatch(/^ {2}reconciliation cells +[1-9]\d*$/m);
    expect(printed.join('')).toMatch(/^ {2}read-model cells compared +[1-9]\d*$/m);
    expect(verified).toBe(0);
    console.log(`replay + verify of ${lines.length} lines: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it('replays at a finite speed (one virtual hour per second) with the same result', async () => {
    const slow = join(dir, 'slow.ndjson');
    writeFileSync(
      slow,
      serialize(
        generateTraffic({ ...DEFAULT_OPTIONS, seed: 12, clicks: 150, spanHours: 0.5, maxDelayHours: 2 }),
      ),
    );
    const started = Date.now();
    const args = ['--file', slow, '--namespace', 'e2e-slow', '--speed', '3600'];
    expect(await replay(...args)).toBe(0);
    // The file spans hours of virtual time (late callbacks included): seconds at this speed.
    expect(Date.now() - started).toBeGreaterThan(1500);
    const report = await verifyRun(slow, 'slow.results.ndjson', 60_000);
    expect(report.differences).toEqual([]);
    expect(report.summary['read-model cells compared']).toBeGreaterThan(0);
  });

  it('stamped clicks and postbacks with the virtual times of the file', async () => {
    const results = readFileSync(join(dir, 'traffic.results.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const accepted = results.find((r) => r.event_id);
    const line = lines.find((l): l is PostbackLine => l.kind === 'postback' && l.id === accepted.id)!;
    const [pb] = await sys.db.ds.query(`SELECT received_at FROM postbacks WHERE event_id = $1`, [
      accepted.event_id,
    ]);
    expect(new Date(pb.received_at).toISOString()).toBe(line.t);
    const [{ n }] = await sys.db.ds.query(
      `SELECT count(*)::int AS n FROM clicks WHERE clicked_at < '2026-01-06' AND offer_id LIKE 'e2e.%'`,
    );
    expect(n).toBe(lines.filter((l) => l.kind === 'click').length);
  });

  it('provisioned the review thresholds through the admin API', async () => {
    const offer = await sys.admin('GET', '/v1/admin/offers/e2e.o-fraud');
    expect(offer.body).toMatchObject({ min_conversion_seconds: 60, hold_payout_above: null });
    const patched = await sys.admin('PATCH', '/v1/admin/offers/e2e.o-fraud', { hold_payout_above: '50.5' });
    expect(patched.body).toMatchObject({ min_conversion_seconds: 60, hold_payout_above: '50.5' });
    const bad = await sys.admin('PATCH', '/v1/admin/offers/e2e.o-fraud', { min_conversion_seconds: -1 });
    expect(bad.status).toBe(400);
  });

  it('refuses X-Replay-Time without the right X-Replay-Token', async () => {
    const r = await fetch(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-replay-time': '2026-01-05T00:00:00Z',
        'x-replay-token': 'not-the-token',
      },
      body: JSON.stringify({ offer_id: 'e2e.o-cpi-us', publisher_id: 'e2e.pub-1' }),
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('replay_not_allowed');
  });

  it('fails when a read model differs from the reference', async () => {
    // One read-model row off by a micro; the decision tables are untouched. Put back afterwards.
    const [row] = await sys.db.ds.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, partner_id, offer_id, publisher_id, source, placement, geo, currency
         FROM recon_daily WHERE partner_id LIKE 'e2e.%' AND approved > 0 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8 LIMIT 1`,
    );
    const pk = `day = $2 AND partner_id = $3 AND offer_id = $4 AND publisher_id = $5 AND source = $6
                AND placement = $7 AND geo = $8 AND currency = $9`;
    const key = [row.day, row.partner_id, row.offer_id, row.publisher_id, row.source, row.placement, row.geo];
    const shift = (by: number) =>
      sys.db.ds.query(`UPDATE recon_daily SET approved_micros = approved_micros + $1 WHERE ${pk}`, [
        by,
        ...key,
        row.currency,
      ]);
    await shift(1);
    try {
      const report = await verifyRun(file, 'traffic.results.ndjson', 0);
      expect(report.differences).toHaveLength(1);
      const [d] = report.differences;
      expect(d!.kind).toBe('read-model');
      const cell = [row.day, ...key.slice(2).map((v: string) => (v === '' ? '-' : v.replace(/^e2e\./, '')))];
      const m = /^(\S+) approved_micros:(\w+): expected (\d+), got (\d+)$/.exec(d!.message);
      expect(m?.slice(1, 3)).toEqual([cell.join('|'), row.currency]);
      expect(BigInt(m![4]!) - BigInt(m![3]!)).toBe(1n);
    } finally {
      await shift(-1);
    }
  });

  it('fails when the system wrote something the reference does not expect', async () => {
    const rows: { column_name: string }[] = await sys.db.ds.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'ledger_entries' AND column_name NOT IN ('entry_id', 'seq') ORDER BY ordinal_position`,
    );
    const cols = rows.map((r) => `"${r.column_name}"`);
    const forge = (type: string) =>
      sys.db.ds.query(
        `INSERT INTO ledger_entries (entry_id, ${cols.join(', ')})
         SELECT 'f' || substr(entry_id, 2), ${cols.join(', ')} FROM ledger_entries
          WHERE entry_type = '${type}' AND offer_id LIKE 'e2e.%' LIMIT 1`,
      );
    // A forged copy of one approval would pay it twice: the database itself refuses it now.
    await expect(forge('approved')).rejects.toThrow(/ledger_one_approval/);
    // A forged copy of a rejection it allows: the verifier still sees what the reference did not.
    await forge('rejected');
    const report = await verifyRun(file, 'traffic.results.ndjson', 0);
    const kinds = new Set(report.differences.map((d) => d.kind));
    expect(kinds.has('ledger')).toBe(true);
    expect(report.differences.map((d) => d.message).join('\n')).toMatch(/wrote 2 entries/);
  });

  it('fails when an outcome differs from the reference', async () => {
    const tampered = lines.map((l) =>
      l.kind === 'postback' && l.tags.includes('reversal') && !l.tags.includes('duplicate')
        ? { ...l, params: { ...l.params, status: 'rejected' } }
        : l,
    );
    const tamperedFile = join(dir, 'tampered.ndjson');
    writeFileSync(tamperedFile, serialize(tampered));
    const report = await verifyRun(tamperedFile, 'traffic.results.ndjson', 0);
    expect(report.differences.some((d) => d.kind === 'outcome')).toBe(true);
  });
  it('fails when a payout, a margin or a reward differs from the reference', async () => {
    // The verifier's own pricing with the offer's share at 71 % and the coins doubled: the
    // system priced at 70 % and 100 coins, so every such entry's money must show as a difference.
    const tampered = lines.map((l) =>
      l.kind === 'payout_rule' && l.share_percent === '70'
        ? { ...l, share_percent: '71' }
        : l.kind === 'reward_rule' && l.currency_name === 'coins'
          ? { ...l, units_per_unit: '200' }
          : l,
    );
    const tamperedFile = join(dir, 'tampered-money.ndjson');
    writeFileSync(tamperedFile, serialize(tampered));
    const report = await verifyRun(tamperedFile, 'traffic.results.ndjson', 0);
    const messages = report.differences.filter((d) => d.kind === 'ledger').map((d) => d.message);
    expect(messages.some((m) => m.includes('payout:approved:USD'))).toBe(true);
    expect(messages.some((m) => m.includes('margin:approved:USD'))).toBe(true);
    expect(messages.some((m) => m.includes('reward:approved:coins'))).toBe(true);
    // Revenue is not priced by rules: it still agrees.
    expect(messages.some((m) => m.includes('micros:approved:USD'))).toBe(false);
  });
  it('replays again while the processor is killed -9 twice, and the verifier still finds no difference', async () => {
    // Restarted processors retry a missing click for longer: after a kill, the click consumer
    // catches up from its last commit, and the short e2e budget (2.5 s) could run out meanwhile.
    const longRetries = { RETRY_DELAYS_MS: '300,700,1500,4000,8000,16000' };
    const kills = (async () => {
      for (let k = 0; k < 2; k++) {
        await new Promise((r) => setTimeout(r, 1500 + Math.random() * 2500));
        await sys.restartProcessor('SIGKILL', longRetries);
      }
    })();
    const replayed = await replay(
      '--file',
      file,
      '--results',
      join(dir, 'killed.results.ndjson'),
      '--speed',
      'max',
      '--namespace',
      'e2e-kill',
    );
    await kills;
    expect(replayed).toBe(0);
    const report = await verifyRun(file, 'killed.results.ndjson', 120_000);
    console.log(
      `replay with the processor killed -9 twice: ${JSON.stringify(report.summary['reconciliation cells'])} cells, ${report.differences.length} differences`,
    );
    expect(report.differences.slice(0, 10)).toEqual([]);
  });
});
