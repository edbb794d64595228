import { Injectable } from '@nestjs/common';

/**
 * Signatures of POST postbacks this instance accepted lately, with the event each became. A
 * signed request is valid for its timestamp's tolerance window, so a captured one can be sent
 * again within it: a repeat of an accepted POST signature is answered with the first answer and
 * publishes nothing. (GET repeats still reach the processor and are counted as duplicates, as
 * every repeat of a postback is.) Only accepted requests are remembered, so a partner's retry after a
 * 503 or a lost answer still goes through. Bounded: the oldest entries go first. Another gateway
 * instance does not share this memory; there the processor's dedupe makes the replay a counted
 * duplicate that pays nothing.
 */
@Injectable()
export class SeenSignatures {
  private readonly seen = new Map<string, { id: string; until: number }>();

  constructor(private readonly max = 200_000) {}

  get(key: string, now = Date.now()): string | undefined {
    const s = this.seen.get(key);
    if (!s) return undefined;
    if (s.until < now) {
      this.seen.delete(key);
      return undefined;
    }
    return s.id;
  }

  /** Remembers an accepted signature for `ttlMs` (twice the partner's tolerance covers every valid replay). */
  remember(key: string, id: string, ttlMs: number, now = Date.now()): void {
    if (this.seen.size >= this.max) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, { id, until: now + ttlMs });
  }
}
