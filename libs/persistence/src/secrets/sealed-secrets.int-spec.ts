import { Client } from 'pg';
import { DEV_SECRETS_KEY, parseSecretKey, SecretBox, type SecretKey } from '@app/config';
import { resealSecrets, secretContext, secretsByKey } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';

const key = (id: string, fill: number) =>
  parseSecretKey(`${id}:${Buffer.alloc(32, fill).toString('base64')}`) as SecretKey;

describe('secrets at rest', () => {
  let db: TestDatabase;
  // The migration seals with this process's key ring: the development key here.
  const saved = { SECRETS_KEY: process.env.SECRETS_KEY, SECRETS_OLD_KEYS: process.env.SECRETS_OLD_KEYS };
  beforeAll(() => {
    delete process.env.SECRETS_KEY;
    delete process.env.SECRETS_OLD_KEYS;
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  });
  afterEach(async () => {
    await db?.drop();
  });

  const plantPlaintext = async () => {
    await db.ds.query(
      `INSERT INTO partners (id, name, auth_modes, hmac_secrets, token) VALUES ('p1', 'P', '{hmac,token}', $1, $2)`,
      [['partner-secret-one-0123456789abcdef', 'partner-secret-two-0123456789abcdef'], 'legacy-token-0123'],
    );
    await db.ds.query(`INSERT INTO publishers (id, name) VALUES ('w1', 'W')`);
    await db.ds.query(
      `INSERT INTO publisher_postbacks (publisher_id, url, secrets, legacy_hash_algorithm, legacy_hash_param, legacy_hash_fields, legacy_hash_secret)
       VALUES ('w1', 'https://wall.example/pb', $1, 'md5', 'h', '{click_id}', 'wall-md5-secret')`,
      [['publisher-signing-secret-0123456789ab']],
    );
  };
  const stored = async () => {
    const [p] = await db.ds.query(`SELECT hmac_secrets, token FROM partners WHERE id = 'p1'`);
    const [w] = await db.ds.query(
      `SELECT secrets, legacy_hash_secret FROM publisher_postbacks WHERE publisher_id = 'w1'`,
    );
    return { p, w } as {
      p: { hmac_secrets: string[]; token: string };
      w: { secrets: string[]; legacy_hash_secret: string };
    };
  };

  it('the migration seals what was stored in plain text (with the environment key ring), and its down opens it again', async () => {
    db = await createTestDatabase();
    // Back to the schema before OperatorsAndSecrets (and any migration after it).
    const applied = async () =>
      (
        (await db.ds.query(
          `SELECT 1 FROM schema_migrations WHERE name = 'OperatorsAndSecrets1795559000000'`,
        )) as unknown[]
      ).length > 0;
    while (await applied()) await db.ds.undoLastMigration({ transaction: 'each' });
    await plantPlaintext();
    await db.ds.runMigrations({ transaction: 'each' });
    const { p, w } = await stored();
    const box = new SecretBox(DEV_SECRETS_KEY);
    expect(p.hmac_secrets.every((s) => s.startsWith('enc:v1:dev:'))).toBe(true);
    expect(p.hmac_secrets.map((s) => box.open(s, secretContext.partnerHmac('p1')))).toEqual([
      'partner-secret-one-0123456789abcdef',
      'partner-secret-two-0123456789abcdef',
    ]);
    expect(box.open(p.token, secretContext.partnerToken('p1'))).toBe('legacy-token-0123');
    expect(box.open(w.secrets[0]!, secretContext.publisherSigning('w1'))).toBe(
      'publisher-signing-secret-0123456789ab',
    );
    expect(box.open(w.legacy_hash_secret, secretContext.publisherLegacyHash('w1'))).toBe('wall-md5-secret');

    while (await applied()) await db.ds.undoLastMigration({ transaction: 'each' });
    expect((await stored()).w.legacy_hash_secret).toBe('wall-md5-secret');
  });

  it('re-encrypts everything under the newest key; older keys only need to open', async () => {
    db = await createTestDatabase();
    await plantPlaintext();
    const k1 = key('k1', 1);
    const k2 = key('k2', 2);
    const first = await db.ds.transaction((em) => resealSecrets(em, new SecretBox(k1), 'seal'));
    expect(first).toMatchObject({ before: { plaintext: 5 }, changed: 5, partners: 1, publishers: 1 });
    expect(await secretsByKey(db.ds.manager)).toEqual({ k1: 5 });

    const rotated = new SecretBox(k2, [k1]);
    const second = await db.ds.transaction((em) => resealSecrets(em, rotated, 'seal'));
    expect(second).toMatchObject({ before: { k1: 5 }, changed: 5 });
    expect(await secretsByKey(db.ds.manager)).toEqual({ k2: 5 });
    // Nothing left to do.
    expect((await db.ds.transaction((em) => resealSecrets(em, rotated, 'seal'))).changed).toBe(0);
    const { p } = await stored();
    expect(new SecretBox(k2).open(p.hmac_secrets[1]!, secretContext.partnerHmac('p1'))).toBe(
      'partner-secret-two-0123456789abcdef',
    );
    // A ring without the sealing key stops the run, changing nothing.
    await expect(
      db.ds.transaction((em) => resealSecrets(em, new SecretBox(key('k3', 3)), 'seal')),
    ).rejects.toThrow(/key "k2", which is not configured/);
    expect(await secretsByKey(db.ds.manager)).toEqual({ k2: 5 });
  });

  it('gives the apps role the operator tables, and the audit log to append and read only', async () => {
    db = await createTestDatabase();
    const app = new Client({ connectionString: db.url });
    await app.connect();
    try {
      await app.query(
        `INSERT INTO operator_tokens (name, role, token_sha256, created_by) VALUES ('a', 'viewer', repeat('0', 64), 't')`,
      );
      await app.query(`UPDATE operator_tokens SET revoked_at = now() WHERE name = 'a'`);
      await app.query(
        `INSERT INTO admin_audit_log (operator, role, action, subject) VALUES ('a', 'admin', 'offer.create', 'offer:o')`,
      );
      expect((await app.query(`SELECT count(*)::int AS n FROM admin_audit_log`)).rows[0].n).toBe(1);
      await expect(app.query(`UPDATE admin_audit_log SET operator = 'b'`)).rejects.toThrow(
        /permission denied/,
      );
      await expect(app.query(`DELETE FROM admin_audit_log`)).rejects.toThrow(/permission denied/);
      await expect(app.query(`TRUNCATE admin_audit_log`)).rejects.toThrow(/permission denied/);
    } finally {
      await app.end();
    }
  });
});
