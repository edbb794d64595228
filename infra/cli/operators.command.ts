/**
 * `ledger tokens ...` and `ledger secrets ...`: named operator tokens with roles, and the key ring
 * of secrets at rest (docs/operators.md, docs/secrets.md). Every change is
 * written to the audit log under `cli:<$USER>`.
 */
import type { DataSource } from 'typeorm';
import { newSecretKey, secretBoxFromEnv } from '@app/config';
import { OPERATOR_ROLES, resealSecrets, secretsByKey } from '@app/persistence';
import {
  createOperatorToken,
  listOperatorTokens,
  OperatorTokenRefused,
  revokeOperatorToken,
  writeAudit,
} from '@app/operators';
import { UsageError as CommandUsage } from './command-line';
import { out, outJson } from './output';
import { table } from './table';

export { CommandUsage, OperatorTokenRefused };

const cliOperator = () => ({ name: `cli:${process.env.USER ?? 'unknown'}`.slice(0, 64), role: 'cli' });

export async function tokensCommand(
  ds: DataSource,
  cmd: string | undefined,
  opts: Map<string, string>,
  json = false,
): Promise<number> {
  const only = (allowed: string[]) => {
    for (const k of opts.keys()) if (!allowed.includes(k)) throw new CommandUsage(`unknown option --${k}`);
  };
  if (cmd === 'create') {
    only(['name', 'role']);
    const name = opts.get('name');
    const role = opts.get('role');
    if (!name) throw new CommandUsage('tokens create: --name is required');
    if (!role) throw new CommandUsage(`tokens create: --role is required (${OPERATOR_ROLES.join(', ')})`);
    const who = cliOperator();
    const { token, operator } = await ds.transaction(async (em) => {
      const created = await createOperatorToken(em, { name, role, createdBy: who.name });
      await writeAudit(em, who, {
        action: 'token.create',
        subject: `token:${name}`,
        request: { name, role },
        before: null,
        after: created.operator,
      });
      return created;
    });
    process.stderr.write(
      `operator token for ${operator.name} (${operator.role}); shown once, only its SHA-256 is kept:\n`,
    );
    if (json) outJson({ name: operator.name, role: operator.role, token });
    else out(token);
    return 0;
  }
  if (cmd === 'list') {
    only(['all']);
    const rows = await listOperatorTokens(ds.manager, { includeRevoked: opts.has('all') });
    if (json) {
      outJson(rows);
      return 0;
    }
    const t = (s: string | null) => (s ? s.slice(0, 19).replace('T', ' ') : '-');
    out(
      table(
        ['name', 'role', 'created (UTC)', 'created by', 'last used (UTC)', 'revoked (UTC)'],
        rows.map((r) => [r.name, r.role, t(r.created_at), r.created_by, t(r.last_used_at), t(r.revoked_at)]),
      ),
    );
    out(`\n${rows.length} token(s)${opts.has('all') ? '' : ' (--all adds the revoked ones)'}`);
    return 0;
  }
  if (cmd === 'revoke') {
    only(['name']);
    const name = opts.get('name');
    if (!name) throw new CommandUsage('tokens revoke: --name is required');
    const who = cliOperator();
    const revoked = await ds.transaction(async (em) => {
      const r = await revokeOperatorToken(em, name, who.name);
      if (r)
        await writeAudit(em, who, {
          action: 'token.revoke',
          subject: `token:${name}`,
          before: { ...r, revoked_at: null, revoked_by: null },
          after: r,
        });
      return r;
    });
    if (!revoked) {
      console.error(`no active token named ${name}`);
      return 1;
    }
    if (json) outJson(revoked);
    else out(`revoked ${name} (${revoked.role}); refused from the next request on`);
    return 0;
  }
  throw new CommandUsage(`unknown tokens command '${cmd ?? ''}'`);
}

/** `ds` may be undefined for new-key (no database needed). */
export async function secretsCommand(
  ds: DataSource | undefined,
  cmd: string | undefined,
  opts: Map<string, string>,
  json = false,
): Promise<number> {
  if (cmd === 'new-key') {
    const id = opts.get('id') ?? `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`;
    const key = newSecretKey(id);
    if (json) outJson({ id, key });
    else out(key);
    return 0;
  }
  if (!ds) throw new CommandUsage(`secrets ${cmd ?? ''}: needs the database`);
  if (cmd === 'status') {
    const box = secretBoxFromEnv(process.env);
    const counts = await secretsByKey(ds.manager);
    const keys = Object.entries(counts).map(([k, n]) => ({
      key: k,
      values: n,
      state: k === box.current.id ? 'current' : box.keyIds.includes(k) ? 'old' : 'missing',
    }));
    const ok = keys.every((k) => k.state !== 'missing');
    if (json) outJson({ current_key: box.current.id, keys, ok });
    else
      out(
        table(
          ['sealed with', 'values', 'note'],
          keys.map((k) => [
            k.key,
            String(k.values),
            k.state === 'current'
              ? 'current key'
              : k.state === 'old'
                ? 'old key: run secrets reencrypt'
                : 'KEY MISSING',
          ]),
        ),
      );
    return ok ? 0 : 1;
  }
  if (cmd === 'reencrypt') {
    const box = secretBoxFromEnv(process.env);
    const who = cliOperator();
    const report = await ds.transaction(async (em) => {
      const r = await resealSecrets(em, box, 'seal');
      await writeAudit(em, who, {
        action: 'secrets.reencrypt',
        subject: 'secrets',
        before: r.before,
        after: { [box.current.id]: Object.values(r.before).reduce((a, b) => a + b, 0), changed: r.changed },
      });
      return r;
    });
    if (json) {
      outJson({ key: box.current.id, ...report });
      return 0;
    }
    out(
      `${report.changed} secret(s) of ${report.partners} partner(s) and ${report.publishers} publisher(s) now sealed with key ${box.current.id}` +
        ` (before: ${
          Object.entries(report.before)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ') || 'none stored'
        })`,
    );
    return 0;
  }
  throw new CommandUsage(`unknown secrets command '${cmd ?? ''}'`);
}
