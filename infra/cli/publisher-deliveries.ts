/**
 * The old entry point of `ledger deliveries` (infra/cli/publisher-deliveries.command.ts):
 *   node dist/infra/cli/publisher-deliveries.js list|state|replay|resume ...
 * Same arguments, output and exit codes as `ledger deliveries ...` (docs/cli.md).
 */
import { runLedger } from './ledger';

runLedger(process.argv.slice(2), { name: 'publisher-deliveries', group: 'deliveries' });
