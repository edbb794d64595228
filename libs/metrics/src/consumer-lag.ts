import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import { Counter, Gauge, Registry } from 'prom-client';
import { CommonEnv } from '@app/config';
import { KAFKA, KafkaBatchServer } from '@app/kafka';
import { Refresher } from './refresher';

/**
 * Lag of this app's consumer group per topic partition: the partition's high watermark minus
 * the group's committed offset (the low watermark when nothing is committed yet). Two admin
 * requests per topic every METRICS_REFRESH_MS, off the request path; every instance of the
 * group reports the whole group (aggregate with max in queries).
 */
@Injectable()
export class ConsumerLagMetrics implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(ConsumerLagMetrics.name);
  private readonly lag: Gauge<'group' | 'topic' | 'partition'>;
  private readonly refresher: Refresher;
  private admin: Admin | undefined;

  constructor(
    @Inject(Registry) registry: Registry,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(CommonEnv) private readonly env: CommonEnv,
    @Optional() @Inject(KafkaBatchServer) private readonly server: KafkaBatchServer | null,
  ) {
    this.lag = new Gauge({
      name: 'kafka_consumer_lag',
      help: 'Messages not yet committed by the consumer group, per topic partition (high watermark - committed offset)',
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
    });
    const failures = new Counter({
      name: 'kafka_consumer_lag_refresh_errors_total',
      help: 'Consumer lag refreshes that failed (the gauge keeps its last values)',
      registers: [registry],
    });
    this.refresher = new Refresher(
      this.log,
      'consumer lag',
      () => this.refresh(),
      () => failures.inc(),
    );
  }

  onApplicationBootstrap(): void {
    if (this.server) this.refresher.start(this.env.METRICS_REFRESH_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.refresher.stop();
    await this.admin?.disconnect().catch(() => undefined);
  }

  private async refresh(): Promise<void> {
    const server = this.server;
    // Handlers register when the microservice starts, possibly after the first tick.
    if (!server || server.topics().length === 0) return;
    if (!this.admin) {
      const admin = this.kafka.admin({ retry: { retries: 1 } });
      await admin.connect();
      this.admin = admin;
    }
    const admin = this.admin;
    try {
      const group = server.groupId;
      const topics = server.topics();
      const committed = await admin.fetchOffsets({ groupId: group, topics });
      for (const { topic, partitions } of committed) {
        const ends = await admin.fetchTopicOffsets(topic);
        const byPartition = new Map(partitions.map((p) => [p.partition, BigInt(p.offset)]));
        for (const end of ends) {
          const high = BigInt(end.high);
          const done = byPartition.get(end.partition) ?? -1n;
          const from = done >= 0n ? done : BigInt(end.low);
          const lag = high > from ? high - from : 0n;
          this.lag.labels(group, topic, String(end.partition)).set(Number(lag));
        }
      }
    } catch (e) {
      // A fresh connection next time: the broker may have restarted.
      this.admin = undefined;
      void admin.disconnect().catch(() => undefined);
      throw e;
    }
  }
}
