import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import { ConsumerGroups, TOPIC_SPECS } from '@app/contracts';
import { KAFKA, withTimeout } from '@app/kafka';
import { GatewayEnv } from '../gateway.env';
import { ApiError } from '../http/api-error';
import { buildLagReport, type ConsumerLagReport, type GroupOffsets } from './consumer-lag';

// A shared broker can hold many short-lived groups (tests, CLIs); looking at each is one request.
const MAX_GROUPS = 500;
const CONCURRENCY = 8;

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Consumer lag of every group reading the system's topics, from the Kafka admin API. */
@Injectable()
export class ConsumerLagService implements OnApplicationShutdown {
  private admin: Admin | undefined;
  private readonly prefix: string;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(GatewayEnv) env: GatewayEnv,
  ) {
    this.prefix = env.TOPIC_PREFIX;
  }

  async report(): Promise<ConsumerLagReport> {
    try {
      return await withTimeout(this.collect(), 15000, 'consumer lag');
    } catch (e) {
      const admin = this.admin;
      this.admin = undefined;
      void admin?.disconnect().catch(() => undefined);
      throw new ApiError(
        503,
        'unavailable',
        `Kafka did not answer: ${e instanceof Error ? e.message : String(e)}`,
        undefined,
        { 'retry-after': '5' },
      );
    }
  }

  private async collect(): Promise<ConsumerLagReport> {
    if (!this.admin) {
      const admin = this.kafka.admin({ retry: { retries: 1 } });
      await admin.connect();
      this.admin = admin;
    }
    const admin = this.admin;
    const existing = new Set(await admin.listTopics());
    const topics = TOPIC_SPECS.map((t) => this.prefix + t.name).filter((t) => existing.has(t));
    const ends = await Promise.all(
      topics.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) })),
    );
    const own = [this.prefix + ConsumerGroups.processor];
    const listed = (await admin.listGroups()).groups.map((g) => g.groupId);
    const ids = [...new Set([...own, ...listed])].slice(0, MAX_GROUPS);
    const offsets = await mapLimit(ids, CONCURRENCY, async (groupId) => ({
      groupId,
      offsets: await admin.fetchOffsets({ groupId, topics }),
    }));
    const reading = offsets.filter(
      (g) =>
        own.includes(g.groupId) || g.offsets.some((t) => t.partitions.some((p) => Number(p.offset) >= 0)),
    );
    const described =
      reading.length > 0 ? (await admin.describeGroups(reading.map((g) => g.groupId))).groups : [];
    const state = new Map(described.map((d) => [d.groupId, d]));
    const groups: GroupOffsets[] = reading.map((g) => ({
      ...g,
      state: state.get(g.groupId)?.state ?? 'Unknown',
      members: state.get(g.groupId)?.members.length ?? 0,
    }));
    return { ...buildLagReport(this.prefix, ends, groups, own), groups_scanned: ids.length };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}
