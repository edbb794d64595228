/** Usage: node dist/infra/cli/kafka-ready.js [timeoutSeconds]   (reads KAFKA_BROKERS) */
import { waitForKafka } from '@app/kafka';

if (require.main === module) {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const seconds = Number(process.argv[2] || 60);
  const t0 = Date.now();
  waitForKafka(brokers, seconds * 1000).then(
    () => {
      console.error(
        `[kafka] ready (admin and group coordinator) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
    },
    (e: Error) => {
      console.error(`[kafka] error: ${e.message}`);
      process.exit(1);
    },
  );
}
