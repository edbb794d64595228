import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from './env';

/**
 * Secrets at rest (partner HMAC secrets and tokens, publisher signing secrets): AES-256-GCM with
 * a key from the environment. A sealed value names the key that sealed it, so a new key seals
 * while older keys still open (docs/secrets.md describes the rotation):
 *
 *   enc:v1:<key id>:<base64url(12-byte IV | ciphertext | 16-byte tag)>
 *
 * Each value is bound to where it is stored (the "context", e.g. `partners.hmac_secrets:p-1`):
 * a sealed secret copied onto another partner does not open there.
 */
export interface SecretKey {
  id: string;
  key: Buffer;
}

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

const PREFIX = 'enc:v1:';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The key `npm start` and the tests use when SECRETS_KEY is unset. It is public (it is in this
 * file), so it protects nothing: refused when NODE_ENV=production.
 */
export const DEV_SECRETS_KEY: SecretKey = {
  id: 'dev',
  key: createHash('sha256')
    .update('conversion-ledger development secrets key (public; never in production)')
    .digest(),
};

/** `<id>:<base64 of 32 bytes>` (standard or URL-safe base64). */
export function parseSecretKey(text: string): SecretKey | string {
  const s = text.trim();
  const colon = s.indexOf(':');
  if (colon < 0) return 'must be <key id>:<base64 of 32 random bytes>';
  const id = s.slice(0, colon);
  const b64 = s.slice(colon + 1);
  if (!KEY_ID.test(id)) return `key id "${id.slice(0, 40)}" must be 1-32 of A-Z a-z 0-9 _ -`;
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) return `key ${id}: not base64`;
  const key = Buffer.from(b64.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32) return `key ${id}: decodes to ${key.length} bytes; AES-256 needs 32`;
  return { id, key };
}

/** A fresh key line for SECRETS_KEY: `<id>:<base64>`. */
export function newSecretKey(id: string): string {
  if (!KEY_ID.test(id)) throw new Error(`key id "${id}" must be 1-32 of A-Z a-z 0-9 _ -`);
  return `${id}:${randomBytes(32).toString('base64')}`;
}

export class SecretBox {
  private readonly keys = new Map<string, Buffer>();

  constructor(
    readonly current: SecretKey,
    previous: readonly SecretKey[] = [],
  ) {
    for (const k of [...previous, current]) this.keys.set(k.id, k.key);
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(`${this.current.id}|${context}`, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.current.id}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  open(sealed: string, context: string): string {
    const id = sealedKeyId(sealed);
    if (id === undefined) throw new SecretBoxError('the stored value is not an encrypted secret');
    const key = this.keys.get(id);
    if (!key)
      throw new SecretBoxError(
        `secret sealed with key "${id}", which is not configured (SECRETS_KEY / SECRETS_OLD_KEYS)`,
      );
    const raw = Buffer.from(sealed.slice(PREFIX.length + id.length + 1), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('the stored secret is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`${id}|${context}`, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SecretBoxError(`the secret sealed with key "${id}" does not open here (altered or moved)`);
    }
  }

  /** Whether a stored value is sealed with the current key (nothing to re-encrypt). */
  isCurrent(sealed: string): boolean {
    return sealedKeyId(sealed) === this.current.id;
  }
}

/** The key id of a sealed value; undefined for anything else (e.g. a plaintext secret). */
export function sealedKeyId(value: string): string | undefined {
  if (typeof value !== 'string' || !value.startsWith(PREFIX)) return undefined;
  const rest = value.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  const id = colon < 0 ? '' : rest.slice(0, colon);
  return KEY_ID.test(id) ? id : undefined;
}

export interface SecretsEnvVars {
  SECRETS_KEY?: string;
  SECRETS_OLD_KEYS?: string;
  NODE_ENV?: string;
}

/** What is wrong with the secrets variables, by variable; empty when they are usable. */
export function secretsEnvProblems(env: SecretsEnvVars): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  const production = env.NODE_ENV === 'production';
  const current = env.SECRETS_KEY?.trim() ?? '';
  if (current === '') {
    if (production)
      problems.push({
        variable: 'SECRETS_KEY',
        message: 'is required when NODE_ENV=production (the development key is public)',
      });
  } else {
    const k = parseSecretKey(current);
    if (typeof k === 'string') problems.push({ variable: 'SECRETS_KEY', message: k });
    else if (production && (k.id === DEV_SECRETS_KEY.id || timingSafeEqual(k.key, DEV_SECRETS_KEY.key)))
      problems.push({
        variable: 'SECRETS_KEY',
        message: 'the development key is refused when NODE_ENV=production',
      });
  }
  const currentId = current === '' ? DEV_SECRETS_KEY.id : current.slice(0, current.indexOf(':'));
  for (const entry of (env.SECRETS_OLD_KEYS ?? '').split(',').filter((e) => e.trim() !== '')) {
    const k = parseSecretKey(entry);
    if (typeof k === 'string') problems.push({ variable: 'SECRETS_OLD_KEYS', message: k });
    else if (k.id === currentId)
      problems.push({ variable: 'SECRETS_OLD_KEYS', message: `repeats the key id "${k.id}" of SECRETS_KEY` });
  }
  return problems;
}

/**
 * The key ring from SECRETS_KEY (seals and opens) and SECRETS_OLD_KEYS (comma-separated, open
 * only). Unset SECRETS_KEY: the public development key, refused when NODE_ENV=production. Outside
 * production the development key also opens, so data written by `npm start` stays readable after
 * a real key is set (until `ledger secrets reencrypt` moves it).
 */
export function secretBoxFromEnv(env: SecretsEnvVars = process.env): SecretBox {
  const problems = secretsEnvProblems(env);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${p.variable}: ${p.message}`));
  const current = env.SECRETS_KEY?.trim() ? (parseSecretKey(env.SECRETS_KEY) as SecretKey) : DEV_SECRETS_KEY;
  const previous = (env.SECRETS_OLD_KEYS ?? '')
    .split(',')
    .filter((e) => e.trim() !== '')
    .map((e) => parseSecretKey(e) as SecretKey);
  if (current.id !== DEV_SECRETS_KEY.id && env.NODE_ENV !== 'production') previous.push(DEV_SECRETS_KEY);
  return new SecretBox(
    current,
    previous.filter((k) => k.id !== current.id),
  );
}
