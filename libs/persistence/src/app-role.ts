import { APP_ROLE, appRolePassword } from '@app/config';

type Query = (sql: string) => Promise<unknown>;

const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * Makes the application role able to log in (the migrations create it, without a login, with
 * its grants). Needs a role that may create roles: the owner on a fresh machine. Safe to run
 * at once from several processes.
 */
export async function ensureAppRole(query: Query): Promise<void> {
  const canLogin = async () =>
    ((await query(`SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}' AND rolcanlogin`)) as unknown[])
      .length > 0;
  for (let attempt = 0; !(await canLogin()); attempt++) {
    const exists =
      ((await query(`SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}'`)) as unknown[]).length > 0;
    try {
      await query(
        `${exists ? 'ALTER' : 'CREATE'} ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${quoteLiteral(appRolePassword())}`,
      );
    } catch (e) {
      // Another process created or altered it at the same moment: look again.
      if (attempt >= 5) throw e;
    }
  }
}
