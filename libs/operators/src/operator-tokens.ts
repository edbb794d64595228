import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { OPERATOR_ROLES, type OperatorRole } from '@app/persistence';

/** Who is acting: a token's name and role. */
export interface OperatorIdentity {
  name: string;
  role: OperatorRole;
}

/** The name ADMIN_TOKEN acts under (reserved: no operator token may take it). */
export const BOOTSTRAP_OPERATOR = 'bootstrap-admin';
export const OPERATOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** Tokens start with this, so a leaked one is recognisable (secret scanners, logs). */
export const OPERATOR_TOKEN_PREFIX = 'lop_';

export const isOperatorRole = (r: unknown): r is OperatorRole =>
  typeof r === 'string' && (OPERATOR_ROLES as readonly string[]).includes(r);

const ROLE_RANK: Record<OperatorRole, number> = { viewer: 0, reviewer: 1, admin: 2 };
/** viewer < reviewer < admin: each role may do what the ones below it may. */
export const roleAtLeast = (role: OperatorRole, needed: OperatorRole): boolean =>
  ROLE_RANK[role] >= ROLE_RANK[needed];

export const tokenDigest = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex');

export class OperatorTokenRefused extends Error {}

export interface OperatorTokenView {
  name: string;
  role: OperatorRole;
  created_at: string;
  created_by: string;
  last_used_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
}

interface Row {
  name: string;
  role: OperatorRole;
  created_at: Date;
  created_by: string;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

const view = (r: Row): OperatorTokenView => ({
  name: r.name,
  role: r.role,
  created_at: r.created_at.toISOString(),
  created_by: r.created_by,
  last_used_at: r.last_used_at?.toISOString() ?? null,
  revoked_at: r.revoked_at?.toISOString() ?? null,
  revoked_by: r.revoked_by,
});
const COLUMNS = 'name, role, created_at, created_by, last_used_at, revoked_at, revoked_by';

/** A new token (32 random bytes); only its SHA-256 is stored. The token is returned once. */
export async function createOperatorToken(
  em: EntityManager,
  input: { name: string; role: string; createdBy: string },
): Promise<{ token: string; operator: OperatorTokenView }> {
  if (!OPERATOR_NAME.test(input.name))
    throw new OperatorTokenRefused(
      'the name must be 1-64 of A-Z a-z 0-9 . _ @ - (starting with a letter or digit)',
    );
  if (input.name === BOOTSTRAP_OPERATOR)
    throw new OperatorTokenRefused(`${BOOTSTRAP_OPERATOR} is the name ADMIN_TOKEN acts under`);
  if (!isOperatorRole(input.role))
    throw new OperatorTokenRefused(`the role must be one of ${OPERATOR_ROLES.join(', ')}`);
  const token = `${OPERATOR_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const rows = await em.query<Row[]>(
    `INSERT INTO operator_tokens (name, role, token_sha256, created_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING ${COLUMNS}`,
    [input.name, input.role, tokenDigest(token), input.createdBy.slice(0, 64)],
  );
  if (!rows[0]) throw new OperatorTokenRefused(`an active token named ${input.name} exists; revoke it first`);
  return { token, operator: view(rows[0]) };
}

export async function listOperatorTokens(
  em: EntityManager,
  opts: { includeRevoked?: boolean } = {},
): Promise<OperatorTokenView[]> {
  const rows = await em.query<Row[]>(
    `SELECT ${COLUMNS} FROM operator_tokens WHERE $1 OR revoked_at IS NULL ORDER BY name, created_at`,
    [opts.includeRevoked === true],
  );
  return rows.map(view);
}

/** Revokes the active token of that name; undefined when there is none. Takes effect on the next request. */
export async function revokeOperatorToken(
  em: EntityManager,
  name: string,
  revokedBy: string,
): Promise<OperatorTokenView | undefined> {
  const [rows] = await em.query<[Row[], number]>(
    `UPDATE operator_tokens SET revoked_at = now(), revoked_by = $2 WHERE name = $1 AND revoked_at IS NULL
     RETURNING ${COLUMNS}`,
    [name, revokedBy.slice(0, 64)],
  );
  return rows[0] ? view(rows[0]) : undefined;
}

/** The operator a presented token belongs to (not revoked); marks it used at most once a minute. */
export async function findOperatorByToken(
  em: EntityManager,
  token: string,
): Promise<OperatorIdentity | undefined> {
  const [row] = await em.query<{ id: string; name: string; role: OperatorRole; stale: boolean }[]>(
    `SELECT id, name, role, last_used_at IS NULL OR last_used_at < now() - interval '1 minute' AS stale
       FROM operator_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL`,
    [tokenDigest(token)],
  );
  if (!row || !isOperatorRole(row.role)) return undefined;
  if (row.stale) await em.query(`UPDATE operator_tokens SET last_used_at = now() WHERE id = $1`, [row.id]);
  return { name: row.name, role: row.role };
}
