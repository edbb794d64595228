import {
  type CanonicalField,
  checkPartnerFormat,
  type PartnerFormat,
  type PostbackStatus,
  type PostbackUrlTemplate,
  postbackUrlTemplate,
  presetByName,
  withPreset,
} from '@app/domain';
import type { DataSource } from 'typeorm';
import { PartnerEntity } from '@app/persistence';
import { ApiError } from '../http/api-error';
import type { CreatePartnerDto, PartnerFormatDto, UpdatePartnerDto } from './admin.dto';

type KeyMap = Partial<Record<CanonicalField, string[]>>;
type FormatColumns = Pick<
  PartnerEntity,
  'preset' | 'keyMap' | 'statusMap' | 'format' | 'lateAfterSeconds' | 'retryAttempts'
> & { tokenParam?: string };

/** The API's snake_case format as stored (@app/domain PartnerFormat), checked. */
export function toFormat(dto: PartnerFormatDto | null | undefined): PartnerFormat | undefined {
  if (!dto) return undefined;
  const r = dto.reversal;
  const f: PartnerFormat = {
    ...(dto.default_status !== undefined ? { defaultStatus: dto.default_status } : {}),
    ...(dto.missing_transaction_id !== undefined ? { missingTransactionId: dto.missing_transaction_id } : {}),
    ...(dto.decimal_comma !== undefined ? { decimalComma: dto.decimal_comma } : {}),
    ...(dto.ignore_params !== undefined ? { ignoreParams: dto.ignore_params } : {}),
    ...(r
      ? {
          reversal: {
            ...(r.negative_amount !== undefined ? { negativeAmount: r.negative_amount } : {}),
            ...(r.id_prefix !== undefined ? { idPrefix: r.id_prefix } : {}),
            ...(r.flag_param !== undefined ? { flagParam: r.flag_param } : {}),
            ...(r.flag_values !== undefined ? { flagValues: r.flag_values.map((v) => v.toLowerCase()) } : {}),
          },
        }
      : {}),
  };
  const bad = checkPartnerFormat(f);
  if (bad) throw ApiError.badField(`format.${bad[0]}`, bad[1]);
  return f;
}

/** What the admin API shows of a stored format: the same snake_case it accepts. */
export function formatView(f: PartnerFormat | null) {
  if (!f) return null;
  return {
    default_status: f.defaultStatus ?? null,
    missing_transaction_id: f.missingTransactionId ?? 'refuse',
    decimal_comma: f.decimalComma ?? false,
    reversal: f.reversal
      ? {
          negative_amount: f.reversal.negativeAmount ?? false,
          id_prefix: f.reversal.idPrefix ?? null,
          flag_param: f.reversal.flagParam ?? null,
          flag_values: f.reversal.flagParam ? (f.reversal.flagValues ?? ['1', 'true', 'yes']) : null,
        }
      : null,
    ignore_params: f.ignoreParams ?? [],
  };
}

const orNull = <T extends object>(o: T): T | null => (Object.keys(o).length ? o : null);

/**
 * The columns a new partner takes from its preset and the operator's explicit choices (key_map
 * and status_map already checked by the caller). The preset is applied once, here: the row holds
 * the result, so a later change to a preset never changes a live partner.
 */
export function createFormatColumns(
  dto: CreatePartnerDto,
  keyMap: KeyMap | undefined,
  statusMap: Record<string, string> | undefined,
): FormatColumns {
  const preset = presetByName(dto.preset);
  const c = withPreset(preset, {
    keyMap: keyMap ?? {},
    statusMap: (statusMap ?? {}) as Record<string, PostbackStatus>,
    format: toFormat(dto.format) ?? {},
    ...(dto.auth.token_param ? { tokenParam: dto.auth.token_param } : {}),
  });
  return {
    preset: preset?.name ?? null,
    keyMap: orNull(c.keyMap),
    statusMap: orNull(c.statusMap),
    format: orNull(c.format),
    lateAfterSeconds: dto.late_after_seconds ?? null,
    retryAttempts: dto.retry_attempts ?? null,
    ...(c.tokenParam ? { tokenParam: c.tokenParam } : {}),
  };
}

/**
 * A PATCH: `preset` applies the preset again (with this request's key_map, status_map, format
 * and token_param over it); otherwise key_map, status_map and format each replace what is stored.
 */
export function updateFormatColumns(
  dto: UpdatePartnerDto,
  keyMap: KeyMap | undefined,
  statusMap: Record<string, string> | undefined,
): Partial<FormatColumns> {
  const patch: Partial<FormatColumns> = {};
  if (dto.late_after_seconds !== undefined) patch.lateAfterSeconds = dto.late_after_seconds;
  if (dto.retry_attempts !== undefined) patch.retryAttempts = dto.retry_attempts;
  if (dto.preset !== undefined && dto.preset !== null) {
    const preset = presetByName(dto.preset);
    const c = withPreset(preset, {
      keyMap: keyMap ?? {},
      statusMap: (statusMap ?? {}) as Record<string, PostbackStatus>,
      format: toFormat(dto.format) ?? {},
      ...(dto.auth?.token_param ? { tokenParam: dto.auth.token_param } : {}),
    });
    return {
      ...patch,
      preset: preset?.name ?? null,
      keyMap: orNull(c.keyMap),
      statusMap: orNull(c.statusMap),
      format: orNull(c.format),
      ...(c.tokenParam ? { tokenParam: c.tokenParam } : {}),
    };
  }
  if (dto.preset === null) patch.preset = null;
  if (dto.format !== undefined) patch.format = toFormat(dto.format) ?? null;
  return patch;
}

/** GET /v1/admin/partners/:id/postback-url: the URL to paste into the partner's platform. */
export async function partnerPostbackUrl(
  ds: DataSource,
  id: string,
  baseUrl: string,
): Promise<PostbackUrlTemplate> {
  const p = await ds.getRepository(PartnerEntity).findOneBy({ id });
  if (!p) throw new ApiError(404, 'unknown_partner', `no partner ${id}`);
  return postbackUrlTemplate({
    baseUrl,
    partnerId: p.id,
    preset: presetByName(p.preset),
    keyMap: p.keyMap ?? {},
    authModes: p.authModes,
    tokenParam: p.tokenParam,
    ipAllowlist: p.ipAllowlist,
  });
}

/** Where partners reach this gateway: `?base_url=` when given (behind a proxy), else the request's own. */
export function publicBaseUrl(req: { protocol: string; host: string }, override?: string): string {
  if (override === undefined) return `${req.protocol}://${req.host}`;
  let u: URL;
  try {
    u = new URL(override);
  } catch {
    throw ApiError.badField(
      'base_url',
      'base_url must be an http(s) URL such as https://postbacks.example.com',
    );
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || u.search || u.hash)
    throw ApiError.badField(
      'base_url',
      'base_url must be an http(s) URL without credentials, query or fragment',
    );
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}
