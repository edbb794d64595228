/** Where a consumer group stands on one partition of a topic. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The group's committed offset; null when it never committed on this partition. */
  committed_offset: number | null;
  /** First offset still in the log (retention may have removed older ones). */
  log_start_offset: number;
  /** Offset the next message will get (the high watermark). */
  log_end_offset: number;
  /** Messages the group has yet to read: end - committed, or end - start without a commit. */
  lag: number;
}

export interface GroupLag {
  group_id: string;
  state: string;
  members: number;
  lag: number;
  partitions: PartitionLag[];
}

export interface ConsumerLagReport {
  topic_prefix: string;
  generated_at: string;
  /** Groups with a committed offset on one of the system's topics, plus the system's own groups. */
  groups: GroupLag[];
  /** How many groups on the broker were looked at. */
  groups_scanned: number;
}

export interface TopicEnds {
  topic: string;
  partitions: { partition: number; low: string; high: string }[];
}

export interface GroupOffsets {
  groupId: string;
  state: string;
  members: number;
  offsets: { topic: string; partitions: { partition: number; offset: string }[] }[];
}

/**
 * Lag per group and partition from the logs' offsets and the groups' committed offsets. A group
 * is reported when it committed on one of the topics, or when it is one of `own` (the system's
 * groups, shown even before their first commit). Topics a group never committed on are left out.
 */
export function buildLagReport(
  prefix: string,
  ends: TopicEnds[],
  groups: GroupOffsets[],
  own: string[],
  now = new Date(),
): ConsumerLagReport {
  const endOf = new Map(ends.map((t) => [t.topic, t.partitions]));
  const out: GroupLag[] = [];
  for (const g of groups) {
    const partitions: PartitionLag[] = [];
    for (const t of g.offsets) {
      const logs = endOf.get(t.topic);
      if (!logs || !t.partitions.some((p) => Number(p.offset) >= 0)) continue;
      const committed = new Map(t.partitions.map((p) => [p.partition, Number(p.offset)]));
      for (const p of [...logs].sort((a, b) => a.partition - b.partition)) {
        const start = Number(p.low);
        const end = Number(p.high);
        const c = committed.get(p.partition) ?? -1;
        partitions.push({
          topic: t.topic,
          partition: p.partition,
          committed_offset: c >= 0 ? c : null,
          log_start_offset: start,
          log_end_offset: end,
          lag: Math.max(0, end - (c >= 0 ? Math.max(c, start) : start)),
        });
      }
    }
    if (partitions.length === 0 && !own.includes(g.groupId)) continue;
    out.push({
      group_id: g.groupId,
      state: g.state,
      members: g.members,
      lag: partitions.reduce((n, p) => n + p.lag, 0),
      partitions,
    });
  }
  out.sort(
    (a, b) =>
      Number(own.includes(b.group_id)) - Number(own.includes(a.group_id)) ||
      b.lag - a.lag ||
      a.group_id.localeCompare(b.group_id),
  );
  return {
    topic_prefix: prefix,
    generated_at: now.toISOString(),
    groups: out,
    groups_scanned: groups.length,
  };
}
