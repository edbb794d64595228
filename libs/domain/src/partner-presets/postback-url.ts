import type { CanonicalField } from '../key-dictionary';
import { SIGNATURE_PARAM, TIMESTAMP_PARAM } from '../signature';
import type { PartnerPreset, TemplateParam } from './partner-preset';

export interface PostbackUrlInput {
  /** The gateway as partners reach it, e.g. `https://postbacks.example.com`. */
  baseUrl: string;
  partnerId: string;
  preset?: PartnerPreset;
  /** The partner's effective parameter names (preset and explicit key_map merged). */
  keyMap: Partial<Record<CanonicalField, string[]>>;
  authModes: readonly string[];
  tokenParam: string;
  ipAllowlist: readonly string[];
}

export interface PostbackUrlTemplate {
  partner_id: string;
  preset: string | null;
  macro_syntax: string;
  /** The URL to paste into the platform. REPLACE_… marks what the operator fills in. */
  url: string;
  parameters: { name: string; field: CanonicalField; value: string }[];
  click_id: string;
  auth: { modes: string[]; token_param?: string; instructions: string[] };
  caveats: string[];
  docs: string[];
}

/** Without a preset: the canonical fields, their values left for the operator. */
const GENERIC: readonly TemplateParam[] = [
  { field: 'click_id', param: 'click_id', macro: null },
  { field: 'transaction_id', param: 'transaction_id', macro: null },
  { field: 'status', param: 'status', macro: null },
  { field: 'payout', param: 'payout', macro: null },
  { field: 'currency', param: 'currency', macro: null },
];

const placeholder = (field: string) => `REPLACE_${field.toUpperCase()}`;

/**
 * The postback URL a partner pastes into its platform: our parameter names (the ones its key
 * dictionary reads), the platform's macros as values, and what its authentication needs. Macros
 * are written as the platform spells them, not URL-encoded.
 */
export function postbackUrlTemplate(i: PostbackUrlInput): PostbackUrlTemplate {
  const base = `${i.baseUrl.replace(/\/+$/, '')}/v1/postbacks/${encodeURIComponent(i.partnerId)}`;
  const params = (i.preset?.template ?? GENERIC).map((t) => {
    // The operator's key_map may have renamed the preset's parameter for this field.
    const names = i.keyMap[t.field];
    const name =
      names?.length && !names.some((n) => n.toLowerCase() === t.param.toLowerCase()) ? names[0]! : t.param;
    return { name, field: t.field, value: t.macro ?? placeholder(t.field) };
  });
  const pairs = params.map((p) => `${p.name}=${p.value}`);
  const instructions: string[] = [];
  if (i.authModes.includes('token')) {
    pairs.push(`${i.tokenParam}=REPLACE_TOKEN`);
    instructions.push(
      `token: send the token you were given in the ${i.tokenParam} parameter (replace REPLACE_TOKEN; we never show it)`,
    );
  }
  if (i.authModes.includes('hmac')) {
    instructions.push(
      `hmac: sign every request with HMAC-SHA256 over "<unix seconds>.<payload>" (payload: for GET every query parameter except ${TIMESTAMP_PARAM} and ${SIGNATURE_PARAM}, sorted, RFC 3986 encoded; for POST the raw body) and send X-Postback-Timestamp and X-Postback-Signature: v1=<hex>, or ${TIMESTAMP_PARAM}= and ${SIGNATURE_PARAM}= as query parameters (docs/partners/postbacks.md, Signing)`,
    );
    if (i.preset)
      instructions.push(
        `${i.preset.title} postback settings cannot compute a signature: give this partner a token or an IP allowlist instead`,
      );
  }
  if (i.authModes.includes('ip'))
    instructions.push(`ip: calls must come from ${i.ipAllowlist.join(', ') || '(no address configured)'}`);
  return {
    partner_id: i.partnerId,
    preset: i.preset?.name ?? null,
    macro_syntax: i.preset?.macroSyntax ?? 'REPLACE_<FIELD>',
    url: `${base}?${pairs.join('&')}`,
    parameters: params,
    click_id:
      i.preset?.clickIdHint ?? "put {click_id} in the offer's landing_url where your platform stores it",
    auth: {
      modes: [...i.authModes],
      ...(i.authModes.includes('token') ? { token_param: i.tokenParam } : {}),
      instructions,
    },
    caveats: [...(i.preset?.caveats ?? [])],
    docs: [...(i.preset?.docs ?? [])],
  };
}
