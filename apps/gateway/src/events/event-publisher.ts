import { Inject, Injectable } from '@nestjs/common';
import { ulidFactory, wellFormed, wellFormedDeep } from '@app/domain';
import {
  assertValidEvent,
  type EventEnvelope,
  type InboundEvent,
  SCHEMA_VERSIONS,
  topicName,
  type TopicName,
} from '@app/contracts';
import { CommonEnv } from '@app/config';
import { BatchingProducer } from '@app/kafka';

/** Monotonic within this process, so ids minted in the same millisecond still sort in order. */
export const newId = ulidFactory();

/**
 * Wraps a payload in the event envelope, checks it against its published schema and sends it;
 * resolves only once Kafka acknowledged it with acks=all.
 */
@Injectable()
export class EventPublisher {
  constructor(
    @Inject(BatchingProducer) private readonly producer: BatchingProducer,
    @Inject(CommonEnv) private readonly env: CommonEnv,
  ) {}

  async publish<E extends InboundEvent>(
    topic: TopicName,
    type: E['type'],
    key: string,
    payload: E['payload'],
    opts: { id?: string; occurredAt?: Date; correlationId?: string } = {},
  ): Promise<E> {
    const now = new Date();
    const id = opts.id ?? newId(now.getTime());
    const event = {
      id,
      type,
      schema_version: SCHEMA_VERSIONS[type],
      occurred_at: (opts.occurredAt ?? now).toISOString(),
      recorded_at: now.toISOString(),
      key: wellFormed(key),
      correlation_id: opts.correlationId ?? id,
      // No lone surrogate or NUL reaches Kafka or Postgres, whatever a client sent.
      payload: wellFormedDeep(payload),
    } as EventEnvelope<E['type'], E['payload']> as E;
    assertValidEvent(event);
    await this.producer.send(topicName(topic, this.env.TOPIC_PREFIX), {
      key: event.key,
      value: JSON.stringify(event),
    });
    return event;
  }
}
