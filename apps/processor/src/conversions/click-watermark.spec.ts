import type { Admin, Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { ProcessorEnv } from '../processor.env';
import { ClickWatermark } from './click-watermark';

/** Concurrency of the watermark read, with a stand-in admin client (the SQL and Kafka are covered end to end). */
describe('ClickWatermark', () => {
  const env = { TOPIC_PREFIX: 't-', CLICK_WATERMARK_MARGIN_MS: 1000 } as ProcessorEnv;

  function setup(fetchTopicOffsets: () => Promise<{ partition: number; high: string }[]>) {
    const admins: { connect: jest.Mock; disconnect: jest.Mock; fetchTopicOffsets: jest.Mock }[] = [];
    const kafka = {
      admin: () => {
        const a = {
          connect: jest.fn(() => Promise.resolve()),
          disconnect: jest.fn(() => Promise.resolve()),
          fetchTopicOffsets: jest.fn(fetchTopicOffsets),
        };
        admins.push(a);
        return a as unknown as Admin;
      },
    } as unknown as Kafka;
    const ds = {
      query: jest.fn(() => Promise.resolve([{ partition: 0, next_offset: '5', watermark: null }])),
    } as unknown as DataSource;
    return { w: new ClickWatermark(kafka, ds, env), admins };
  }

  it('concurrent callers share one read and one admin client', async () => {
    const { w, admins } = setup(() => Promise.resolve([{ partition: 0, high: '5' }]));
    const before = Date.now();
    const values = await Promise.all([w.current(), w.current(), w.current()]);
    expect(admins).toHaveLength(1);
    expect(admins[0]!.fetchTopicOffsets).toHaveBeenCalledTimes(1);
    expect(new Set(values.map((v) => v.getTime())).size).toBe(1);
    // Caught up: vouches for what was acknowledged when the offsets were read, less the margin.
    expect(values[0]!.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('a failed read fails every caller with its own error, drops its client once, and the next read connects afresh', async () => {
    let fail = true;
    const { w, admins } = setup(() =>
      fail ? Promise.reject(new Error('There is no leader for this topic-partition')) : Promise.resolve([]),
    );
    const results = await Promise.allSettled([w.current(), w.current()]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))).toEqual([
      'There is no leader for this topic-partition',
      'There is no leader for this topic-partition',
    ]);
    expect(admins).toHaveLength(1);
    expect(admins[0]!.disconnect).toHaveBeenCalledTimes(1);
    fail = false;
    await w.current();
    expect(admins).toHaveLength(2);
    expect(admins[1]!.connect).toHaveBeenCalledTimes(1);
  });
});
