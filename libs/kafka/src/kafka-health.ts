import type { Admin, Kafka } from 'kafkajs';
import type { HealthCheckResult, HealthIndicator } from '@app/health';
import type { BatchingProducer } from './batching-producer';
import type { KafkaBatchServer } from './kafka-batch.server';
import { withTimeout } from './kafka-client';

/** The broker answers a metadata request (a fresh connection each time it failed before). */
export class KafkaBrokerIndicator implements HealthIndicator {
  readonly name = 'kafka';
  private admin: Admin | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly timeoutMs = 2000,
  ) {}

  async check(): Promise<HealthCheckResult> {
    try {
      if (!this.admin) {
        this.admin = this.kafka.admin({ retry: { retries: 0 } });
        await withTimeout(this.admin.connect(), this.timeoutMs, 'connecting to Kafka');
      }
      const cluster = await withTimeout(
        this.admin.describeCluster(),
        this.timeoutMs,
        'Kafka metadata request',
      );
      return { ok: true, detail: `${cluster.brokers.length} broker(s)` };
    } catch (e) {
      const admin = this.admin;
      this.admin = undefined;
      void admin?.disconnect().catch(() => undefined);
      return { ok: false, detail: `Kafka unreachable: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}

/** The producer is connected and its last send did not fail. */
export class KafkaProducerIndicator implements HealthIndicator {
  readonly name = 'kafka_producer';
  constructor(private readonly producer: BatchingProducer) {}

  async check(): Promise<HealthCheckResult> {
    const s = this.producer.state();
    if (s.lastError) return { ok: false, detail: `last produce failed: ${s.lastError}` };
    if (!s.connected) return { ok: false, detail: 'producer not connected' };
    return { ok: true, detail: `${s.queued} queued` };
  }
}

/** The consumer group member is running (a crashed consumer in a live process fails this). */
export class KafkaConsumerIndicator implements HealthIndicator {
  readonly name = 'kafka_consumer';
  constructor(private readonly server: KafkaBatchServer) {}

  async check(): Promise<HealthCheckResult> {
    const h = this.server.healthState();
    switch (h.state) {
      case 'running': {
        const failing = [...this.server.failingPartitions().values()];
        const retrying = failing.length
          ? `; ${failing.length} retrying a failed batch (up to attempt ${Math.max(...failing)})`
          : '';
        return { ok: true, detail: `${this.server.groupId}: ${h.assigned} partition(s)${retrying}` };
      }
      case 'starting':
        return { ok: false, detail: `${this.server.groupId}: joining the group` };
      case 'crashed':
        return {
          ok: false,
          detail: `${this.server.groupId}: crashed ${Math.round((Date.now() - h.since) / 1000)} s ago: ${h.error}`,
        };
      case 'stopped':
        return { ok: false, detail: `${this.server.groupId}: stopped` };
    }
  }
}
