import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { CommonEnv } from '@app/config';
import type { LedgerEntryV1 } from '@app/contracts';
import { LabelBounder } from '@app/metrics';
import type { DecisionRecord } from '../conversions/postback-decider';

/** A published entry: its id and type, and its v1 message (read only for the debug log). */
export interface PublishedEntry extends Pick<LedgerEntryV1, 'entry_id' | 'entry_type'> {
  v1: string;
  /** Where the relay found its messages (outbox.ts). */
  source?: 'memory' | 'entry_row' | 'outbox_row';
}

/**
 * Decisions, retries and ledger publishes: counted (in-process) and logged at debug level with
 * the correlation id, only after the transaction that wrote them committed, so a batch retried
 * after a failure is not counted twice.
 */
@Injectable()
export class ProcessorMetrics {
  private readonly decisionLog = new Logger('Decisions');
  private readonly relayLog = new Logger('LedgerRelay');
  // Partner ids here come from postbacks the gateway authenticated: catalog ids.
  private readonly partners = new LabelBounder(1000);
  private readonly codes = new LabelBounder(100);
  private readonly decisions: Counter<'partner_id' | 'outcome' | 'reason'>;
  private readonly retries: Counter<'attempt'>;
  private readonly softRejects: Counter<'reason'>;
  private readonly entries: Counter<'entry_type'>;
  private readonly messageSources: Counter<'source'>;
  private readonly projectedSources: Counter<'source'>;
  private readonly exhausted: Counter;
  private readonly wakes: Counter;
  private readonly relayWaits: Counter;
  private readonly transactionSize: Gauge;
  private readonly debug: boolean;

  constructor(@Inject(Registry) registry: Registry, @Inject(CommonEnv) env: CommonEnv) {
    const registers = [registry];
    this.debug = env.LOG_LEVEL === 'debug';
    this.decisions = new Counter({
      name: 'postback_decisions_total',
      help: 'Postback decisions committed, by partner, outcome and reason code (a retried postback counts once per decision)',
      labelNames: ['partner_id', 'outcome', 'reason'],
      registers,
    });
    this.retries = new Counter({
      name: 'postback_retries_scheduled_total',
      help: 'Retries scheduled for soft-rejected postbacks, by attempt tier (1 = first retry)',
      labelNames: ['attempt'],
      registers,
    });
    this.softRejects = new Counter({
      name: 'postback_soft_rejects_total',
      help: 'Soft rejects of postbacks, by reason: click_not_found_yet or exchange_rate_missing (a retry scheduled), dependency_unavailable or timeout (its batch failed and is tried again)',
      labelNames: ['reason'],
      registers,
    });
    this.exhausted = new Counter({
      name: 'postbacks_dead_published_total',
      help: 'Postbacks whose retry budget ran out (decided unknown_click), published to postbacks.dead',
      registers,
    });
    this.wakes = new Counter({
      name: 'parked_postbacks_woken_total',
      help: 'Postbacks waiting for their click (click_not_found_yet) made due at once because the click was stored',
      registers,
    });
    this.relayWaits = new Counter({
      name: 'ledger_relay_backpressure_seconds_total',
      help: 'Seconds decision batches waited for the ledger relay to catch up (RELAY_MAX_BEHIND_MS): the topic was falling behind the table',
      registers,
    });
    this.transactionSize = new Gauge({
      name: 'postback_decision_transaction_size',
      help: 'Decisions the next decision transaction takes: as many as were decided in about DECISION_TRANSACTION_TARGET_MS lately, at most DECISIONS_PER_TRANSACTION, at least 50',
      registers,
    });
    this.messageSources = new Counter({
      name: 'ledger_relay_messages_total',
      help: 'Ledger entries the relay published, by where it found their messages: memory (kept by this process when it wrote them), entry_row (rendered from ledger_entries: written by another instance, before a restart, or not kept) or outbox_row (a row written when the outbox still carried its messages)',
      labelNames: ['source'],
      registers,
    });
    this.projectedSources = new Counter({
      name: 'read_model_items_projected_total',
      help: 'Ledger entries and final outcomes the read-model projector projected, by where it found their rows: memory (handed over by the writer of this process) or store (read back from Postgres: written by another instance, before a restart, or not kept)',
      labelNames: ['source'],
      registers,
    });
    this.entries = new Counter({
      name: 'ledger_entries_published_total',
      help: 'Ledger entries Kafka acknowledged on conversions.ledger and removed from the outbox, by entry type',
      labelNames: ['entry_type'],
      registers,
    });
  }

  decided(list: readonly DecisionRecord[]): void {
    for (const d of list) {
      this.decisions
        .labels(this.partners.bound(d.partnerId), this.codes.bound(d.outcome), this.codes.bound(d.reason))
        .inc();
      if (d.retryAttempt !== undefined) {
        this.retries.labels(this.codes.bound(String(d.retryAttempt))).inc();
        this.softRejects.labels(this.codes.bound(d.reason)).inc();
      }
      if (this.debug)
        this.decisionLog.debug({
          msg: 'postback decided',
          correlation_id: d.correlationId,
          request_id: d.requestId,
          event_id: d.eventId,
          partner_id: d.partnerId,
          outcome: d.outcome,
          reason: d.reason,
          entry_id: d.entryId,
          ...(d.retryAttempt !== undefined ? { retry_attempt: d.retryAttempt } : {}),
        });
    }
  }

  /** A batch of `n` postbacks failed on a dependency and will be tried again. */
  softRejected(reason: string, n: number): void {
    this.softRejects.labels(reason).inc(n);
  }

  /** Parked postbacks made due because their click was stored. */
  woken(n: number): void {
    this.wakes.inc(n);
  }

  /** A decision batch waited this long for the relay (backpressure). */
  waitedForRelay(seconds: number): void {
    if (seconds > 0) this.relayWaits.inc(seconds);
  }

  decisionTransactionSize(n: number): void {
    this.transactionSize.set(n);
  }

  deadLettered(n: number): void {
    if (n) this.exhausted.inc(n);
  }

  /** Items the projector committed, by where their rows came from. */
  projected(sources: { memory: number; store: number }): void {
    if (sources.memory) this.projectedSources.labels('memory').inc(sources.memory);
    if (sources.store) this.projectedSources.labels('store').inc(sources.store);
  }

  published(list: readonly PublishedEntry[]): void {
    for (const e of list) {
      this.entries.labels(this.codes.bound(e.entry_type)).inc();
      if (e.source) this.messageSources.labels(e.source).inc();
      if (this.debug)
        this.relayLog.debug({
          msg: 'ledger entry published',
          // A postback's correlation id is its event id (the gateway mints both as one), which
          // the entry carries as source_event_id.
          correlation_id: (JSON.parse(e.v1) as LedgerEntryV1).source_event_id,
          entry_id: e.entry_id,
          entry_type: e.entry_type,
        });
    }
  }
}
