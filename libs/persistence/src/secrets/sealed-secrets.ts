import type { EntityManager } from 'typeorm';
import { sealedKeyId, type SecretBox } from '@app/config';

/**
 * Where each sealed secret lives: the context it is bound to (a value copied elsewhere does not
 * open). The admin API seals with these, the gateway and the notifier open with them.
 */
export const secretContext = {
  partnerHmac: (partnerId: string) => `partners.hmac_secrets:${partnerId}`,
  partnerToken: (partnerId: string) => `partners.token:${partnerId}`,
  publisherSigning: (publisherId: string) => `publisher_postbacks.secrets:${publisherId}`,
  publisherLegacyHash: (publisherId: string) => `publisher_postbacks.legacy_hash_secret:${publisherId}`,
};

export interface ResealReport {
  /** Stored values by the key that sealed them before the run (`plaintext` for unsealed ones). */
  before: Record<string, number>;
  /** Values written again. */
  changed: number;
  partners: number;
  publishers: number;
}

type Mode = 'seal' | 'unseal';

/** A stored value's plaintext: opened with any key of the ring; a value that was never sealed is its own. */
function plaintextOf(box: SecretBox, value: string, context: string): string {
  return sealedKeyId(value) === undefined ? value : box.open(value, context);
}

function redo(box: SecretBox, mode: Mode, value: string, context: string, tally: Record<string, number>) {
  const id = sealedKeyId(value) ?? 'plaintext';
  tally[id] = (tally[id] ?? 0) + 1;
  if (mode === 'seal')
    return box.isCurrent(value) ? value : box.seal(plaintextOf(box, value, context), context);
  return plaintextOf(box, value, context);
}

/**
 * Every stored secret sealed with the ring's current key (`seal`: what `ledger secrets reencrypt`
 * and the migration that introduced sealing do), or opened back to plaintext (`unseal`: that
 * migration's down). Rows are locked while rewritten; a value that does not open stops the run
 * (in the caller's transaction: nothing is half done).
 */
export async function resealSecrets(em: EntityManager, box: SecretBox, mode: Mode): Promise<ResealReport> {
  const report: ResealReport = { before: {}, changed: 0, partners: 0, publishers: 0 };
  const partners = await em.query<{ id: string; hmac_secrets: string[]; token: string | null }[]>(
    `SELECT id, hmac_secrets, token FROM partners ORDER BY id FOR UPDATE`,
  );
  for (const p of partners) {
    const secrets = p.hmac_secrets.map((s) =>
      redo(box, mode, s, secretContext.partnerHmac(p.id), report.before),
    );
    const token =
      p.token === null ? null : redo(box, mode, p.token, secretContext.partnerToken(p.id), report.before);
    const changed = secrets.filter((s, i) => s !== p.hmac_secrets[i]).length + (token !== p.token ? 1 : 0);
    if (changed === 0) continue;
    await em.query(`UPDATE partners SET hmac_secrets = $2, token = $3 WHERE id = $1`, [p.id, secrets, token]);
    report.changed += changed;
    report.partners++;
  }
  const publishers = await em.query<
    { publisher_id: string; secrets: string[]; legacy_hash_secret: string | null }[]
  >(
    `SELECT publisher_id, secrets, legacy_hash_secret FROM publisher_postbacks ORDER BY publisher_id FOR UPDATE`,
  );
  for (const p of publishers) {
    const id = p.publisher_id;
    const secrets = p.secrets.map((s) =>
      redo(box, mode, s, secretContext.publisherSigning(id), report.before),
    );
    const legacy =
      p.legacy_hash_secret === null
        ? null
        : redo(box, mode, p.legacy_hash_secret, secretContext.publisherLegacyHash(id), report.before);
    const changed =
      secrets.filter((s, i) => s !== p.secrets[i]).length + (legacy !== p.legacy_hash_secret ? 1 : 0);
    if (changed === 0) continue;
    await em.query(
      `UPDATE publisher_postbacks SET secrets = $2, legacy_hash_secret = $3 WHERE publisher_id = $1`,
      [id, secrets, legacy],
    );
    report.changed += changed;
    report.publishers++;
  }
  return report;
}

/** Stored secrets by the key that sealed them (`plaintext`: not sealed). */
export async function secretsByKey(em: EntityManager): Promise<Record<string, number>> {
  const rows = await em.query<{ v: string }[]>(
    `SELECT unnest(hmac_secrets) AS v FROM partners
     UNION ALL SELECT token FROM partners WHERE token IS NOT NULL
     UNION ALL SELECT unnest(secrets) FROM publisher_postbacks
     UNION ALL SELECT legacy_hash_secret FROM publisher_postbacks WHERE legacy_hash_secret IS NOT NULL`,
  );
  const out: Record<string, number> = {};
  for (const r of rows) {
    const id = sealedKeyId(r.v) ?? 'plaintext';
    out[id] = (out[id] ?? 0) + 1;
  }
  return out;
}
