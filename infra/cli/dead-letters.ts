/**
 * The old entry point of `ledger dead-letters` (infra/cli/dead-letters.command.ts):
 *   node dist/infra/cli/dead-letters.js list | replay --yes | exhausted | exhausted replay [--event <id>]... [--yes]
 * Same arguments, output and exit codes as `ledger dead-letters ...` (docs/cli.md).
 */
import { runLedger } from './ledger';

runLedger(process.argv.slice(2), { name: 'dead-letters', group: 'dead-letters' });
