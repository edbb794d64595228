/**
 * Two roles, two URLs. The owner (`OWNER_DATABASE_URL`) creates databases and runs migrations;
 * the apps and operator CLIs connect as `ledger_app` (`DATABASE_URL`), which may read and write
 * rows but only INSERT and SELECT on the ledger, and can never alter it, disable its triggers or
 * truncate it (docs/ledger.md, "Who can change what").
 */
export const APP_ROLE = 'ledger_app';
export const DEFAULT_OWNER_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export function appRolePassword(): string {
  return process.env.LEDGER_APP_PASSWORD || 'ledger_app';
}

/** The same server and database as `ownerUrl`, as the application role. */
export function appRoleUrl(ownerUrl: string): string {
  const u = new URL(ownerUrl);
  u.username = APP_ROLE;
  u.password = encodeURIComponent(appRolePassword());
  return u.toString();
}

export const DEFAULT_DATABASE_URL = appRoleUrl(DEFAULT_OWNER_DATABASE_URL);

/** What the apps and CLIs connect with: DATABASE_URL, by default the application role on the local server. */
export function appDatabaseUrl(): string {
  return process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
}

/** What migrations and database creation use: OWNER_DATABASE_URL, by default `postgres` on the local server. */
export function ownerDatabaseUrl(): string {
  return process.env.OWNER_DATABASE_URL || DEFAULT_OWNER_DATABASE_URL;
}
