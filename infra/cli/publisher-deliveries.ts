/**
 * Operator command for publisher postbacks (the notifier's deliveries). Reads DATABASE_URL.
 *
 *   node dist/infra/cli/publisher-deliveries.js list [--publisher P] [--status dead|pending|...] [--limit N]
 *   node dist/infra/cli/publisher-deliveries.js state <publisher>
 *   node dist/infra/cli/publisher-deliveries.js replay --yes [--publisher P] [--entry E[,E...]]
 *                  send dead deliveries again (after fixing the cause); each goes out once more
 *                  with a fresh retry window; a delivery that is not dead is left alone
 *   node dist/infra/cli/publisher-deliveries.js resume <publisher>
 *                  resume a paused endpoint: its waiting deliveries go out now
 *
 * The same actions as the admin API (docs/publishers/postbacks.md). Exit codes: 0 ok, 1 not
 * found, 2 bad usage.
 */
import 'reflect-metadata';
import { createDataSource } from '@app/persistence';
import {
  endpointState,
  listDeliveries,
  replayDeadDeliveries,
  resumeEndpoint,
} from '@app/publisher-postbacks';
import { table } from './table';
import { appDatabaseUrl } from '@app/config';

const USAGE = `usage:
  publisher-deliveries list [--publisher P] [--status S] [--limit N]
  publisher-deliveries state <publisher>
  publisher-deliveries replay --yes [--publisher P] [--entry E[,E...]]
  publisher-deliveries resume <publisher>`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const [cmd, arg] = args;
  const url = appDatabaseUrl();
  const ds = createDataSource({ url, poolSize: 2, applicationName: 'publisher-deliveries-cli' });
  await ds.initialize();
  try {
    switch (cmd) {
      case 'list': {
        const items = await listDeliveries(ds.manager, {
          publisherId: option(args, 'publisher'),
          status: option(args, 'status'),
          limit: Number(option(args, 'limit') ?? 100),
        });
        console.log(
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
        console.log(`${items.length} deliveries`);
        return 0;
      }
      case 'state': {
        if (!arg) break;
        const s = await endpointState(ds.manager, arg);
        if (!s) {
          console.error(`publisher ${arg} has no postback configured`);
          return 1;
        }
        console.log(JSON.stringify(s, null, 2));
        return 0;
      }
      case 'replay': {
        if (!args.includes('--yes')) {
          console.error('replay sends dead deliveries again; run it again with --yes to do it');
          return 2;
        }
        const entries = option(args, 'entry')?.split(',').filter(Boolean);
        const ids = await ds.transaction((em) =>
          replayDeadDeliveries(em, { publisherId: option(args, 'publisher'), entryIds: entries }),
        );
        console.log(`replayed ${ids.length} dead deliveries${ids.length ? `: ${ids.join(', ')}` : ''}`);
        return 0;
      }
      case 'resume': {
        if (!arg) break;
        const n = await ds.transaction((em) => resumeEndpoint(em, arg));
        if (n === undefined) {
          console.error(`publisher ${arg} has no postback configured`);
          return 1;
        }
        console.log(`${arg} resumed; ${n} waiting deliveries due now`);
        return 0;
      }
      case undefined:
      default:
        break;
    }
    console.error(USAGE);
    return 2;
  } finally {
    await ds.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`publisher-deliveries: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
