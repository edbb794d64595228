import type { Admin, Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { ProcessorEnv } from '../processor.env';
import { ClickWatermark, OFFSETS_TIMEOUT_MS } from './click-watermark';

/** Concurrency of the watermark read, with a stand-in admin client (the SQL and Kafka are covered end to end). */
describe('ClickWatermark', () => {
  const env = { TOPIC_PREFIX: 't-', CLICK_WATERMARK_MARGIN_MS: 1000 } as ProcessorEnv;
  /** The newest click the stand-in checkpoint says partition 0 stored. */
  const STORED = Date.parse('2026-01-01T00:00:00Z');

  function setup(fetchTopicOffsets: () => Promise<{ partition: number; high: string }[]>, stored = STORED) {
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
      query: jest.fn(() =>
        Promise.resolve([{ partition: 0, next_offset: '5', watermark: new Date(stored) }]),
      ),
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

  it('while Kafka cannot give the offsets, each partition vouches only for the clicks it stored, and nobody fails', async () => {
    let fail = false;
    const { w, admins } = setup(() =>
      fail
        ? Promise.reject(new Error('There is no leader for this topic-partition'))
        : Promise.resolve([{ partition: 0, high: '5' }]),
    );
    let now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      // Caught up: W is the read time less the margin.
      expect((await w.current()).getTime()).toBe(now - 1000);
      now += 1000;
      fail = true;
      // The partition's newest stored click (STORED) less the margin, for both callers.
      const values = await Promise.all([w.current(), w.current()]);
      expect(values.map((v) => v.getTime())).toEqual([STORED - 1000, STORED - 1000]);
      expect(admins).toHaveLength(1);
      expect(admins[0]!.disconnect).toHaveBeenCalledTimes(1);
      now += 1000;
      fail = false;
      expect((await w.current()).getTime()).toBe(now - 1000);
      expect(admins).toHaveLength(2);
      expect(admins[1]!.connect).toHaveBeenCalledTimes(1);
    } finally {
      clock.mockRestore();
    }
  });

  it('without offsets, W is no later than the last W read with them (a partition added since is not counted)', async () => {
    let fail = false;
    const stored = Date.now() + 3_600_000; // clicks stored after the last read with offsets
    const { w } = setup(
      () => (fail ? Promise.reject(new Error('no leader')) : Promise.resolve([{ partition: 0, high: '5' }])),
      stored,
    );
    let now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const withOffsets = (await w.current()).getTime();
      now += 1000;
      fail = true;
      expect((await w.current()).getTime()).toBe(withOffsets);
    } finally {
      clock.mockRestore();
    }
  });

  it('a read that hangs (a broker failing over) goes on without the offsets after OFFSETS_TIMEOUT_MS', async () => {
    jest.useFakeTimers();
    try {
      const { w, admins } = setup(() => new Promise(() => undefined));
      const read = w.current();
      await jest.advanceTimersByTimeAsync(OFFSETS_TIMEOUT_MS);
      expect((await read).getTime()).toBe(0);
      expect(admins[0]!.disconnect).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('before any read could tell the partitions, nothing is vouched for', async () => {
    const { w } = setup(() => Promise.reject(new Error('Connection error: connect ECONNREFUSED')));
    expect((await w.current()).getTime()).toBe(0);
  });
});
