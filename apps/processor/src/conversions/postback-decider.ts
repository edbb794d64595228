import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { PostbackReceived } from '@app/contracts';
import { CatalogCache } from '@app/catalog';
import { ProcessorEnv } from '../processor.env';
import { ClickWatermark } from './click-watermark';
import { lockTransactions } from '@app/ledger';
import { loadDecisionContext } from './postback-loader';
import { type DecideStats, planDecisions, type Work } from './postback-plan';
import { writeDecisionPlan } from './postback-writer';
import { TrafficRuleCache } from './routing-controls';

export type { DecideStats, DecisionRecord, Work } from './postback-plan';

/**
 * Decides a batch of postbacks inside the caller's transaction, in three steps: load (every
 * piece of state the decisions depend on, read under lock), plan (pure `decide` per postback,
 * in order), write (every effect: ledger entries and conversions through the ledger's write
 * path, outcomes, cap usage, retry queue). Re-running it on the same input changes nothing.
 */
@Injectable()
export class PostbackDecider {
  private readonly delays: number[];

  constructor(
    @Inject(CatalogCache) private readonly catalog: CatalogCache,
    @Inject(ClickWatermark) private readonly watermark: ClickWatermark,
    @Inject(ProcessorEnv) private readonly env: ProcessorEnv,
    @Inject(TrafficRuleCache) private readonly trafficRules: TrafficRuleCache,
  ) {
    this.delays = env.RETRY_DELAYS_MS.split(',').map(Number);
  }

  get maxAttempts(): number {
    return this.delays.length;
  }

  /**
   * Serialises work on the same partner transactions (consumer, retries, other instances), so
   * the retry queue keeps each transaction's postbacks in order: the ledger's own lock, taken
   * before anything is read (the conversion keys, locked again later, hold the same ones).
   */
  async lockPairs(em: EntityManager, events: PostbackReceived[]): Promise<void> {
    await lockTransactions(
      em,
      events.map((e) => e.payload.transaction_id),
    );
  }

  async decide(em: EntityManager, work: Work[], now = new Date()): Promise<DecideStats> {
    if (work.length === 0) return { decided: 0, entries: 0, parked: 0, decisions: [] };
    const ctx = await loadDecisionContext(
      em,
      {
        catalog: this.catalog,
        watermark: this.watermark,
        trafficRules: this.trafficRules,
        maxSkewMs: this.env.CLICK_ID_MAX_SKEW_MS,
      },
      work,
      now,
    );
    const plan = planDecisions(ctx, work, {
      now,
      delays: this.delays,
      lateAfterMs: this.env.LATE_AFTER_MS,
      jitter: () => 0.8 + Math.random() * 0.4,
    });
    await writeDecisionPlan(em, plan);
    await ctx.routing.flush(em, now);
    return plan.stats;
  }
}
