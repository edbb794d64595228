/**
 * `ledger`: the one operator command (docs/cli.md). `npx ledger --help` lists every subcommand:
 * reports, review, projections, launch-check, disputes, exchange rates, payout and reward rules,
 * tokens, secrets, dead letters, publisher deliveries, the staging replay (traffic
 * generate/replay/verify), topic provisioning.
 *
 * The command line is parsed and checked (command-line.ts, commands.ts) before anything
 * connects. Data goes to stdout (`--json`: JSON), progress and errors to stderr; the process
 * ends once stdout has drained. Exit codes: 0 ok, 1 a check failed or a decision was refused,
 * 2 bad usage, 3 the work could not be done (Postgres or Kafka unreachable, unexpected error).
 */
import 'reflect-metadata';
import { createDataSource } from '@app/persistence';
import { DisputeFileError } from '@app/disputes';
import { provisionTopics } from '@app/kafka';
import { ReviewRefused } from '@app/read-models';
import { appDatabaseUrl } from '@app/config';
import { parseFlags } from '../replay/args';
import { generateSpecs, runGenerate } from '../replay/generate.command';
import { replaySpecs, runReplay } from '../replay/replay.command';
import { runVerify, verifySpecs } from '../replay/verify.command';
import {
  type CommandSpec,
  commandName,
  LEDGER,
  type ParsedCommand,
  parseCommandLine,
  type Program,
  synopsis,
  UsageError,
} from './command-line';
import { ALIASES, COMMANDS } from './commands';
import { deadLetters } from './dead-letters.command';
import { dispute } from './disputes.command';
import { OperatorTokenRefused, secretsCommand, tokensCommand } from './operators.command';
import { outJson, runMain } from './output';
import { deliveries } from './publisher-deliveries.command';
import { rates } from './rates.command';
import { rules } from './rules.command';
import { launch, projections, report, review, trialBalanceCommand } from './read-models.command';

/** Commands that need no database, or open their own connections. */
async function withoutDatabase(p: ParsedCommand): Promise<number | undefined> {
  const [group, cmd] = p.spec.path;
  if (group === 'secrets' && cmd === 'new-key') return secretsCommand(undefined, cmd, p.opts, p.json);
  if (group === 'dead-letters') return deadLetters(p);
  if (group === 'topics') {
    const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
    const changes = await provisionTopics(brokers, process.env.TOPIC_PREFIX || '');
    process.stderr.write(`[topics] ${changes.length ? changes.join('; ') : 'all topics present'}\n`);
    if (p.json) outJson({ changes });
    return 0;
  }
  if (group === 'traffic') {
    if (cmd === 'generate') {
      runGenerate(parseFlags(p.raw, generateSpecs));
      return 0;
    }
    if (cmd === 'replay') return runReplay(parseFlags(p.raw, replaySpecs()));
    return runVerify(parseFlags(p.raw, verifySpecs()), p.json);
  }
  return undefined;
}

async function execute(p: ParsedCommand): Promise<number> {
  const own = await withoutDatabase(p);
  if (own !== undefined) return own;
  const ds = createDataSource({ url: appDatabaseUrl(), poolSize: 2, applicationName: 'ledger-cli' });
  await ds.initialize();
  try {
    const [group, cmd] = p.spec.path as [string, string | undefined];
    switch (group) {
      case 'report':
        return await report(ds.manager, p);
      case 'review':
        return await review(ds.manager, p);
      case 'projections':
        return await projections(ds, p);
      case 'launch-check':
        return await launch(ds.manager, p);
      case 'trial-balance':
        return await trialBalanceCommand(ds.manager, p);
      case 'dispute':
        return await dispute(ds, p);
      case 'deliveries':
        return await deliveries(ds, p);
      case 'rates':
        return await rates(ds, p);
      case 'rules':
        return await rules(ds, p);
      case 'tokens':
        return await tokensCommand(ds, cmd, p.opts, p.json);
      case 'secrets':
        return await secretsCommand(ds, cmd, p.opts, p.json);
      default:
        throw new Error(`no handler for ${p.spec.path.join(' ')}`);
    }
  } finally {
    await ds.destroy();
  }
}

/**
 * Parses and runs one command line; resolves to the exit code. Help goes to stdout (exit 0);
 * bad usage is one line on stderr (exit 2); a refused decision or a refused file exits 1.
 */
export async function ledger(argv: string[], program: Program = LEDGER): Promise<number> {
  let parsed: ParsedCommand | undefined;
  try {
    const line = parseCommandLine(argv, COMMANDS, program, ALIASES);
    if ('help' in line) {
      process.stdout.write(line.help);
      return 0;
    }
    parsed = line;
    return await execute(line);
  } catch (e) {
    if (e instanceof UsageError) {
      const { spec, group } = e as UsageError & { spec?: CommandSpec; group?: string };
      const cmd = parsed?.spec ?? spec;
      const where = cmd ? commandName(program, cmd.path) : program.name;
      const message = e.message.startsWith(where) ? e.message : `${where}: ${e.message}`;
      const hint = cmd
        ? `usage: ${synopsis(program, cmd)}`
        : `'${group ? commandName(program, [group]) : program.name} --help' lists the commands`;
      process.stderr.write(`${message} (${hint})\n`);
      return 2;
    }
    if (e instanceof ReviewRefused || e instanceof OperatorTokenRefused) {
      process.stderr.write(`${program.name}: refused: ${e.message}\n`);
      return 1;
    }
    if (e instanceof DisputeFileError) {
      process.stderr.write(`${program.name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** Runs `ledger` (or an old entry point's words, given its program) as this process. */
export function runLedger(argv: string[], program: Program = LEDGER): void {
  runMain(program.name, () => ledger(argv, program));
}

if (require.main === module) runLedger(process.argv.slice(2));
