import type { EntityManager } from 'typeorm';
import type { OperatorIdentity } from './operator-tokens';

export interface AuditEntry {
  action: string;
  subject: string;
  /** What was asked (secrets are redacted here). */
  request?: unknown;
  before?: unknown;
  after?: unknown;
}

const SECRET_KEY = /secret|token|passw/i;

/**
 * A deep copy with every string (or list) under a secret-looking key replaced by `[redacted]`, and
 * strings made storable in jsonb (no NUL, no lone surrogate): a hostile request's text must not
 * make its audit record, and so its change, fail.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\ufffd').toWellFormed();
  if (depth > 8 || value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      SECRET_KEY.test(k) && (typeof v === 'string' || Array.isArray(v))
        ? '[redacted]'
        : redactSecrets(v, depth + 1),
    ]),
  );
}

// JSON with bigint as strings (ledger entries carry none today, but a view may).
const json = (v: unknown) =>
  v === undefined ? null : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

/** Appends one audit record, in the caller's transaction when it has one (so the change and its record commit together). */
export async function writeAudit(
  em: EntityManager,
  who: Pick<OperatorIdentity, 'name'> & { role: string },
  e: AuditEntry,
): Promise<void> {
  await em.query(
    `INSERT INTO admin_audit_log (operator, role, action, subject, request, before, after)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb)`,
    [
      who.name,
      who.role,
      e.action,
      e.subject.slice(0, 300),
      json(redactSecrets(e.request)),
      json(redactSecrets(e.before)),
      json(redactSecrets(e.after)),
    ],
  );
}

export interface AuditView {
  id: string;
  at: string;
  operator: string;
  role: string;
  action: string;
  subject: string;
  request: unknown;
  before: unknown;
  after: unknown;
}

/** Newest first; `beforeId` pages back (the previous page's `next_before_id`). */
export async function listAudit(
  em: EntityManager,
  q: { limit: number; beforeId?: string; operator?: string; action?: string; subject?: string },
): Promise<{ items: AuditView[]; next_before_id: string | null }> {
  const rows = await em.query<
    {
      id: string;
      at: Date;
      operator: string;
      role: string;
      action: string;
      subject: string;
      request: unknown;
      before: unknown;
      after: unknown;
    }[]
  >(
    `SELECT id::text AS id, at, operator, role, action, subject, request, before, after FROM admin_audit_log
      WHERE ($2::bigint IS NULL OR id < $2) AND ($3::varchar IS NULL OR operator = $3)
        AND ($4::varchar IS NULL OR action = $4) AND ($5::varchar IS NULL OR subject = $5)
      ORDER BY id DESC LIMIT $1`,
    [q.limit, q.beforeId ?? null, q.operator ?? null, q.action ?? null, q.subject ?? null],
  );
  const items = rows.map((r) => ({ ...r, at: r.at.toISOString() }));
  return {
    items,
    next_before_id: items.length === q.limit ? (items[items.length - 1]?.id ?? null) : null,
  };
}
