/**
 * The envelope every internal event travels in. `id` is unique per event (a ULID), `key` is
 * the Kafka message key, and `schema_version` is bumped on any incompatible payload change.
 */
export interface EventEnvelope<TType extends string, TPayload> {
  id: string;
  type: TType;
  schema_version: number;
  /** When it happened at the source (ISO 8601, UTC). */
  occurred_at: string;
  /** When this system recorded it (ISO 8601, UTC). */
  recorded_at: string;
  key: string;
  /** Follows one request from the gateway to its ledger entry. */
  correlation_id: string;
  payload: TPayload;
}
