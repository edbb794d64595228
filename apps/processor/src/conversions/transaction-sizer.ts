/**
 * How many decisions the next transaction takes: at most `max`, and as many as were decided in
 * about `targetMs` lately. A transaction's length bounds how long the ledger topic can trail
 * the table (the relay's backpressure acts between transactions), and decisions get slower as
 * the stores grow and the box gets busier: a fixed count that takes 0.7 s on a small store
 * takes over a second on a large one. `targetMs` 0: always `max`.
 */
export class TransactionSizer {
  private size: number;
  private readonly min: number;

  constructor(
    private readonly max: number,
    private readonly targetMs: number,
    min = 50,
  ) {
    this.min = Math.max(1, Math.min(min, max));
    this.size = max;
  }

  /** The size of the next transaction. */
  next(): number {
    return this.size;
  }

  /** `n` decisions took `ms` in one transaction: the next one aims at the target from there. */
  took(n: number, ms: number): void {
    // A batch's short tail says little of the pace (a transaction's fixed costs dominate it).
    if (this.targetMs <= 0 || n < this.min || !(ms >= 0)) return;
    // What would have filled the target at this transaction's pace; halfway there, against noise.
    const aim = (n * this.targetMs) / Math.max(ms, 1);
    this.size = Math.min(this.max, Math.max(this.min, Math.round((this.size + aim) / 2)));
  }
}
