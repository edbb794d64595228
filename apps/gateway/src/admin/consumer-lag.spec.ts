import { buildLagReport } from './consumer-lag';

const ends = [
  {
    topic: 'p.clicks.recorded',
    partitions: [
      { partition: 1, low: '0', high: '10' },
      { partition: 0, low: '5', high: '20' },
    ],
  },
  { topic: 'p.conversions.ledger', partitions: [{ partition: 0, low: '0', high: '7' }] },
];

describe('buildLagReport', () => {
  it('lag per partition: end - committed, or end - start where the group never committed', () => {
    const r = buildLagReport(
      'p.',
      ends,
      [
        {
          groupId: 'p.ledger-processor',
          state: 'Stable',
          members: 1,
          offsets: [
            {
              topic: 'p.clicks.recorded',
              partitions: [
                { partition: 0, offset: '18' },
                { partition: 1, offset: '-1' },
              ],
            },
            { topic: 'p.conversions.ledger', partitions: [{ partition: 0, offset: '-1' }] },
          ],
        },
      ],
      ['p.ledger-processor'],
      new Date('2026-11-24T00:00:00Z'),
    );
    expect(r.groups).toEqual([
      {
        group_id: 'p.ledger-processor',
        state: 'Stable',
        members: 1,
        lag: 12,
        partitions: [
          {
            topic: 'p.clicks.recorded',
            partition: 0,
            committed_offset: 18,
            log_start_offset: 5,
            log_end_offset: 20,
            lag: 2,
          },
          {
            topic: 'p.clicks.recorded',
            partition: 1,
            committed_offset: null,
            log_start_offset: 0,
            log_end_offset: 10,
            lag: 10,
          },
        ],
      },
    ]);
  });

  it("keeps the system's own groups before their first commit and drops groups reading nothing of ours", () => {
    const none = [{ topic: 'p.clicks.recorded', partitions: [{ partition: 0, offset: '-1' }] }];
    const r = buildLagReport(
      'p.',
      ends,
      [
        { groupId: 'other', state: 'Empty', members: 0, offsets: none },
        { groupId: 'p.ledger-processor', state: 'Stable', members: 2, offsets: none },
        {
          groupId: 'billing',
          state: 'Stable',
          members: 1,
          offsets: [{ topic: 'p.conversions.ledger', partitions: [{ partition: 0, offset: '3' }] }],
        },
      ],
      ['p.ledger-processor'],
    );
    expect(r.groups.map((g) => [g.group_id, g.lag, g.partitions.length])).toEqual([
      ['p.ledger-processor', 0, 0],
      ['billing', 4, 1],
    ]);
  });
});
