/**
 * What a writer hands, in memory, to a reader of the same process that will otherwise read it
 * back from Postgres: the relay's rendered messages (outbox.ts), the projector's entries and
 * outcomes (read-models). The row the reader works from (an outbox or projection queue row)
 * carries only ids, and what is handed over is used only for a row of **the sequence number the
 * writer's insert returned**: an id (an entry id is a hash of the conversion, type and source;
 * an event id comes from the gateway) can be inserted by a transaction that then rolls back and
 * be written again differently, but a sequence number is never handed out twice, so a value that
 * did not commit is never used. What the reader does not find here (written by another process,
 * before a restart, evicted, past its time) it reads from Postgres, to the same value.
 *
 * Kept only while the reader of this process holds its role (`wanted`), at most `max` items and
 * `ttlMs` each, so a process that does not read, or whose reader is stalled, holds no more.
 */
export class Handover<V> {
  static readonly MAX = 20_000;
  static readonly TTL_MS = 60_000;
  private readonly byId = new Map<string, { seq: string; value: V; at: number }>();
  /** Whether a reader in this process will take them (set by the reader: it holds its role). */
  wanted: () => boolean = () => false;

  constructor(
    readonly max = Handover.MAX,
    readonly ttlMs = Handover.TTL_MS,
  ) {}

  keep(items: Iterable<{ id: string; seq: string; value: V }>, now = Date.now()): void {
    if (!this.wanted()) {
      if (this.byId.size) this.byId.clear();
      return;
    }
    // Oldest first out when they outlive ttlMs (a transaction that rolled back, a row the reader
    // already read itself); when full, the newest are not kept: readers go in sequence order,
    // so the oldest are the ones they read next.
    for (const [id, m] of this.byId) {
      if (now - m.at <= this.ttlMs) break;
      this.byId.delete(id);
    }
    for (const i of items) {
      // Kept again (inserted again after a rollback): to the back, where its time now belongs.
      this.byId.delete(i.id);
      if (this.byId.size >= this.max) return;
      this.byId.set(i.id, { seq: i.seq, value: i.value, at: now });
    }
  }

  /** The value of this id as inserted under this sequence number, if kept. */
  get(id: string, seq: string): V | undefined {
    const m = this.byId.get(id);
    return m?.seq === seq ? m.value : undefined;
  }

  /** Once used. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }
}
