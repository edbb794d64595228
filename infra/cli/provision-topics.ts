/** Usage: node dist/infra/cli/provision-topics.js   (reads KAFKA_BROKERS, TOPIC_PREFIX) */
import { provisionTopics } from '@app/kafka';

if (require.main === module) {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  provisionTopics(brokers, process.env.TOPIC_PREFIX || '').then(
    (changes) => console.error(`[topics] ${changes.length ? changes.join('; ') : 'all topics present'}`),
    (e: Error) => {
      console.error(`[topics] error: ${e.message}`);
      process.exit(1);
    },
  );
}
