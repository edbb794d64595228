/**
 * The old entry point of `ledger topics provision` (what `npm run up` runs):
 *   node dist/infra/cli/provision-topics.js   (reads KAFKA_BROKERS, TOPIC_PREFIX)
 */
import { runLedger } from './ledger';

if (require.main === module)
  runLedger(['provision', ...process.argv.slice(2)], { name: 'provision-topics', group: 'topics' });
