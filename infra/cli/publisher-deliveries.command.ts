/**
 * `ledger deliveries ...`: publisher postbacks (the notifier's deliveries), the same actions as
 * the admin API (docs/publishers/postbacks.md).
 *   list [--publisher P] [--status dead|pending|...] [--limit N]
 *   state <publisher>
 *   replay --yes [--publisher P] [--entry E[,E...]]
 *                  send dead deliveries again (after fixing the cause); each goes out once more
 *                  with a fresh retry window; a delivery that is not dead is left alone
 *   resume <publisher>
 *                  resume a paused endpoint: its waiting deliveries go out now
 */
import type { DataSource } from 'typeorm';
import {
  endpointState,
  listDeliveries,
  replayDeadDeliveries,
  resumeEndpoint,
} from '@app/publisher-postbacks';
import type { ParsedCommand } from './command-line';
import { out, outJson } from './output';
import { table } from './table';

export async function deliveries(ds: DataSource, p: ParsedCommand): Promise<number> {
  const cmd = p.spec.path[1];
  const publisher = p.args[0]!;
  if (cmd === 'list') {
    const items = await listDeliveries(ds.manager, {
      publisherId: p.opts.get('publisher'),
      status: p.opts.get('status'),
      limit: Number(p.opts.get('limit') ?? 100),
    });
    if (p.json) {
      outJson(items);
      return 0;
    }
    out(
      table(
        ['entry_id', 'publisher', 'type', 'status', 'attempts', 'last', 'error'],
        items.map((d) => [
          d.entry_id,
          d.publisher_id,
          d.entry_type,
          d.status,
          String(d.attempts),
          d.last_status_code === null ? '-' : String(d.last_status_code),
          d.last_error ?? '',
        ]),
      ),
    );
    out(`${items.length} deliveries`);
    return 0;
  }
  if (cmd === 'state') {
    const s = await endpointState(ds.manager, publisher);
    if (!s) {
      process.stderr.write(`publisher ${publisher} has no postback configured\n`);
      return 1;
    }
    outJson(s);
    return 0;
  }
  if (cmd === 'replay') {
    if (!p.opts.has('yes')) {
      process.stderr.write('replay sends dead deliveries again; run it again with --yes to do it\n');
      return 2;
    }
    const entries = p.opts.get('entry')?.split(',').filter(Boolean);
    const ids = await ds.transaction((em) =>
      replayDeadDeliveries(em, { publisherId: p.opts.get('publisher'), entryIds: entries }),
    );
    if (p.json) outJson({ replayed: ids.length, entry_ids: ids });
    else out(`replayed ${ids.length} dead deliveries${ids.length ? `: ${ids.join(', ')}` : ''}`);
    return 0;
  }
  // resume
  const n = await ds.transaction((em) => resumeEndpoint(em, publisher));
  if (n === undefined) {
    process.stderr.write(`publisher ${publisher} has no postback configured\n`);
    return 1;
  }
  if (p.json) outJson({ publisher_id: publisher, resumed: true, due_now: n });
  else out(`${publisher} resumed; ${n} waiting deliveries due now`);
  return 0;
}
