import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SecretBox } from '@app/config';
import {
  canonicalQuery,
  clientIp,
  type KeyDictionary,
  parseCidrList,
  type PartnerFormat,
  type PostbackStatus,
  requestSigningString,
  SIGNATURE_HEADER,
  SIGNATURE_PARAM,
  TIMESTAMP_HEADER,
  TIMESTAMP_PARAM,
  signatureSchemes,
  verifySignature,
} from '@app/domain';
import { type PartnerEntity, secretContext } from '@app/persistence';
import { CatalogCache } from '@app/catalog';
import { GatewayEnv } from '../gateway.env';
import { ApiError } from '../http/api-error';
import { TokenBucket } from './rate-limiter';

/** A partner's configuration prepared once per version, not per request. */
export interface CompiledPartner {
  entity: PartnerEntity;
  version: number;
  dict: KeyDictionary;
  /** Default status, no transaction id, decimal comma, reversal markers (applied after the dictionary). */
  format: PartnerFormat | undefined;
  ipAllowed: ((ip: string) => boolean) | undefined;
  tokenDigest: Buffer | undefined;
  /** The HMAC secrets, opened (they are stored sealed). */
  hmacSecrets: string[];
  /** Why the stored credentials did not open (a key missing from SECRETS_KEY / SECRETS_OLD_KEYS). */
  sealError: string | undefined;
  bucket: TokenBucket;
}

export interface AuthInput {
  partnerId: string;
  method: string;
  /** The request path as sent, without the query: part of what a v2 signature covers. */
  path: string;
  remoteAddress: string;
  headers: Record<string, string | string[] | undefined>;
  /** Query pairs in order, as received (duplicates kept). */
  query: Array<[string, string]>;
  /** Parameters from the body (JSON or form), for the token. */
  bodyParams: Record<string, unknown>;
  rawBody: string | undefined;
}

export interface AuthOk {
  partner: CompiledPartner;
  clientIp: string;
  /** Parameter names that carried credentials and must not be treated as data. */
  credentialParams: string[];
}

const digest = (s: string) => createHash('sha256').update(s).digest();
const header = (h: AuthInput['headers'], name: string) => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Who is calling: the partner must exist and be active, and every one of its auth modes must
 * pass (source IP, legacy token, HMAC signature). Rate limits apply per authenticated partner. Each failure
 * is an ApiError with the status PRODUCT.md names (403, 401, 429).
 */
@Injectable()
export class PartnerAuthenticator {
  private readonly log = new Logger('PartnerAuth');
  private readonly compiled = new Map<string, CompiledPartner>();
  private readonly trustedProxy: (ip: string) => boolean;

  constructor(
    @Inject(CatalogCache) private readonly catalog: CatalogCache,
    @Inject(GatewayEnv) env: GatewayEnv,
    @Inject(SecretBox) private readonly box: SecretBox,
  ) {
    const proxies = env.TRUSTED_PROXIES.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const parsed = parseCidrList(proxies);
    if (!parsed.ok) throw new Error(`TRUSTED_PROXIES: ${parsed.entry}: ${parsed.message}`);
    this.trustedProxy = parsed.matcher;
  }

  partner(id: string): CompiledPartner | undefined {
    const entity = this.catalog.partner(id);
    if (!entity) return undefined;
    const version = entity.updatedAt.getTime();
    const known = this.compiled.get(id);
    if (known && known.version === version) return known;
    const ips = parseCidrList(entity.ipAllowlist);
    let hmacSecrets: string[] = [];
    let token: string | null = null;
    let sealError: string | undefined;
    try {
      hmacSecrets = entity.hmacSecrets.map((s) => this.box.open(s, secretContext.partnerHmac(id)));
      token = entity.token === null ? null : this.box.open(entity.token, secretContext.partnerToken(id));
    } catch (e) {
      sealError = (e as Error).message;
      this.log.error(`partner ${id}: credentials do not open: ${sealError}`);
    }
    const c: CompiledPartner = {
      entity,
      version,
      dict: {
        aliases: entity.keyMap ?? undefined,
        statusMap: (entity.statusMap ?? undefined) as Record<string, PostbackStatus> | undefined,
        ignore: entity.format?.ignoreParams,
      },
      format: entity.format ?? undefined,
      // A list that no longer parses admits nobody rather than everybody.
      ipAllowed: entity.authModes.includes('ip') ? (ips.ok ? ips.matcher : () => false) : undefined,
      tokenDigest: token ? digest(token) : undefined,
      hmacSecrets,
      sealError,
      bucket:
        known && known.entity.rateLimitPerSecond === entity.rateLimitPerSecond
          ? known.bucket
          : new TokenBucket(entity.rateLimitPerSecond),
    };
    this.compiled.set(id, c);
    return c;
  }

  authenticate(input: AuthInput, nowMs = Date.now()): AuthOk {
    const p = this.partner(input.partnerId);
    if (!p) throw new ApiError(403, 'unknown_partner', 'unknown partner');
    if (p.entity.status !== 'active')
      throw new ApiError(403, 'partner_paused', 'this partner is paused; contact your account manager');
    // Our configuration, not the partner's request, is at fault: a retry helps once it is fixed.
    if (p.sealError)
      throw new ApiError(
        503,
        'unavailable',
        'partner credentials cannot be checked right now; retry later',
        undefined,
        {
          'retry-after': '30',
        },
      );
    const ip = clientIp(input.remoteAddress, header(input.headers, 'x-forwarded-for'), this.trustedProxy);
    if (p.ipAllowed && !p.ipAllowed(ip))
      throw new ApiError(403, 'ip_not_allowed', `source address ${ip} is not allowed for this partner`);
    const credentialParams: string[] = [];
    const modes = p.entity.authModes;
    if (modes.includes('token')) {
      const name = p.entity.tokenParam;
      credentialParams.push(name);
      const fromQuery = input.query.find(([k]) => k === name)?.[1];
      const fromBody = input.bodyParams[name];
      const given = fromQuery ?? (typeof fromBody === 'string' ? fromBody : undefined);
      if (!given) throw new ApiError(401, 'missing_token', `the ${name} parameter is required`, name);
      if (!p.tokenDigest || !timingSafeEqual(digest(given), p.tokenDigest))
        throw new ApiError(401, 'bad_token', 'bad token', name);
    }
    if (modes.includes('hmac')) {
      credentialParams.push(TIMESTAMP_PARAM, SIGNATURE_PARAM);
      const post = input.method === 'POST';
      const fromQuery = (name: string) => input.query.find(([k]) => k === name)?.[1];
      // `ts` and `sig` in the query are for GET-only systems; a POST signs in its headers.
      if (post && (fromQuery(TIMESTAMP_PARAM) !== undefined || fromQuery(SIGNATURE_PARAM) !== undefined))
        throw new ApiError(
          401,
          'bad_signature',
          'a POST sends its signature in the X-Postback-Signature and X-Postback-Timestamp headers, not ts/sig in the query',
        );
      const timestamp =
        header(input.headers, TIMESTAMP_HEADER) ?? (post ? undefined : fromQuery(TIMESTAMP_PARAM));
      const signature =
        header(input.headers, SIGNATURE_HEADER) ?? (post ? undefined : fromQuery(SIGNATURE_PARAM));
      const common = {
        secrets: p.hmacSecrets,
        timestamp,
        signature,
        nowSeconds: nowMs / 1000,
        toleranceSeconds: p.entity.toleranceSeconds,
      };
      let check;
      if (signatureSchemes(signature).v2) {
        // v2: the method, the path, the query and the body, all of it.
        const req = { method: input.method, path: input.path, query: input.query, body: input.rawBody ?? '' };
        check = verifySignature({
          ...common,
          payload: requestSigningString(timestamp ?? '', req),
          scheme: 'v2',
        });
      } else {
        // v1 signs a POST's body alone: then nothing in its query may become part of the postback.
        if (post && input.query.length > 0)
          throw new ApiError(
            401,
            'bad_signature',
            'a v1 signature of a POST covers its body only, and this request has query parameters: move them into the body, or sign the whole request with v2 (docs/partners/postbacks.md)',
          );
        const payload = post && input.rawBody ? input.rawBody : canonicalQuery(input.query);
        check = verifySignature({ ...common, payload });
      }
      if (!check.ok) throw new ApiError(401, check.code, check.message);
    }
    // Counted only once the caller proved who it is: a flood of forged requests naming a
    // partner must not spend that partner's rate and get its real postbacks refused.
    if (!p.bucket.take(nowMs)) {
      throw new ApiError(
        429,
        'rate_limited',
        `over ${p.entity.rateLimitPerSecond} postbacks per second; retry shortly`,
        undefined,
        { 'retry-after': '1' },
      );
    }
    return { partner: p, clientIp: ip, credentialParams };
  }
}
