import { type EntryMoney, NO_MONEY } from '../payouts/payout-rules';
import type { ConversionState, ConversionStatus, EntryFacts, ReasonCode } from './conversion.types';

/**
 * A conversion's state after one more ledger entry: the one definition of what each entry type
 * does to a conversion. Deciding uses it for the state it writes, the ledger writer for the
 * `conversions` row, and a rebuild folds a conversion's entries through it; so the three can
 * never disagree. Pure: no clock, no I/O. One object literal per call (it runs twice for every
 * entry written: in the plan and in the writer).
 */
export function evolve(state: ConversionState | undefined, e: EntryFacts): ConversionState {
  let status: ConversionStatus;
  let amountMicros: bigint;
  let reason: ReasonCode | null;
  // The money it leaves: an approval's or hold's own; none after a pending, rejection or
  // reversal; unknown (undefined) for entries written before payout rules.
  let money: EntryMoney | undefined;
  switch (e.entryType) {
    case 'pending':
    case 'rejected':
    case 'reversed':
      status = e.entryType;
      amountMicros = 0n;
      reason = e.entryType === 'rejected' ? e.reason : null;
      money = e.money && NO_MONEY;
      break;
    case 'approved':
    case 'released':
      status = 'approved';
      amountMicros = e.amountMicros;
      reason = null;
      money = e.money;
      break;
    case 'held':
      status = 'held';
      amountMicros = e.amountMicros;
      reason = e.reason;
      money = e.money;
      break;
    case 'adjusted':
      // A dispute's adjustment is money of its own (its entry's amount); the conversion keeps
      // its status and the amount its approval carries, which a reversal takes back.
      return {
        conversionId: state ? state.conversionId : e.conversionId,
        partnerId: state ? state.partnerId : e.partnerId,
        status: state ? state.status : 'pending',
        amountMicros: state ? state.amountMicros : 0n,
        currency: e.currency,
        requested: e.requested ?? state?.requested ?? 'pending',
        reason: state ? state.reason : null,
        firstReceivedAt: state?.firstReceivedAt ?? e.occurredAt,
        entries: (state?.entries ?? 0) + 1,
        payoutMicros: state?.payoutMicros,
        rewardAmount: state?.rewardAmount,
        rewardCurrency: state?.rewardCurrency,
        payoutRuleId: state?.payoutRuleId,
        rewardRuleId: state?.rewardRuleId,
      };
  }
  return {
    conversionId: state ? state.conversionId : e.conversionId,
    partnerId: state ? state.partnerId : e.partnerId,
    status,
    amountMicros,
    currency: e.currency,
    requested: e.requested ?? state?.requested ?? 'pending',
    reason,
    firstReceivedAt: state?.firstReceivedAt ?? e.occurredAt,
    entries: (state?.entries ?? 0) + 1,
    payoutMicros: money?.payoutMicros,
    rewardAmount: money?.rewardAmount,
    rewardCurrency: money?.rewardCurrency,
    // Entries from before payout rules leave the rule ids as they were.
    payoutRuleId: money ? money.payoutRuleId : state?.payoutRuleId,
    rewardRuleId: money ? money.rewardRuleId : state?.rewardRuleId,
  };
}

/** A conversion rebuilt from its entries, oldest first; undefined for none. */
export function fold(entries: readonly EntryFacts[]): ConversionState | undefined {
  return entries.reduce<ConversionState | undefined>((s, e) => evolve(s, e), undefined);
}
