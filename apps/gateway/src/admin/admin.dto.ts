import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  registerDecorator,
  ValidateNested,
} from 'class-validator';
import {
  isCurrency,
  MISSING_TRANSACTION_ID,
  type MissingTransactionId,
  parseMicros,
  POSTBACK_STATUSES,
  type PostbackStatus,
  PRESET_NAMES,
} from '@app/domain';
import { ID_PATTERN } from '../clicks/record-click.dto';
import { SECRET_FLOOR } from './secret-length';

const GOAL_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

function IsMoney(): PropertyDecorator {
  return (target, key) =>
    registerDecorator({
      name: 'isMoney',
      target: target.constructor,
      propertyName: String(key),
      validator: {
        validate: (v: unknown) => typeof v === 'string' && parseMicros(v).ok,
        defaultMessage: () =>
          `${String(key)} must be a decimal string like "1.25" (at most 6 decimals, not negative)`,
      },
    });
}

function IsCurrencyCode(): PropertyDecorator {
  return (target, key) =>
    registerDecorator({
      name: 'isCurrencyCode',
      target: target.constructor,
      propertyName: String(key),
      validator: {
        validate: (v: unknown) => typeof v === 'string' && isCurrency(v),
        defaultMessage: () => `${String(key)} must be an ISO 4217 code such as USD`,
      },
    });
}

/** http(s) only, no credentials in it: a landing or callback URL partners and users follow. */
export function IsSafeUrl(): PropertyDecorator {
  return (target, key) =>
    registerDecorator({
      name: 'isSafeUrl',
      target: target.constructor,
      propertyName: String(key),
      validator: {
        validate: (v: unknown) => {
          if (typeof v !== 'string' || v.length > 2048) return false;
          try {
            // Macros like {click_id} are not valid URL characters everywhere; check with them filled.
            const u = new URL(v.replace(/\{[a-z0-9_]+\}/g, 'x'));
            return (
              (u.protocol === 'http:' || u.protocol === 'https:') &&
              !u.username &&
              !u.password &&
              u.hostname !== ''
            );
          } catch {
            return false;
          }
        },
        defaultMessage: () =>
          `${String(key)} must be an http(s) URL without credentials, at most 2048 characters`,
      },
    });
}

export class CreateOfferDto {
  @ApiProperty({ example: 'offer-123' })
  @IsString()
  @Matches(ID_PATTERN, { message: 'id must be 1-64 of A-Z a-z 0-9 . _ : -' })
  id!: string;
  @ApiProperty() @IsString() @Length(1, 200) name!: string;
  @ApiProperty({ example: 'https://adv.example/land?c={click_id}&p={pub}' })
  @IsSafeUrl()
  landing_url!: string;
  @ApiProperty({ example: '1.25', description: 'decimal string, default payout of a conversion' })
  @IsMoney()
  payout!: string;
  @ApiProperty({ example: 'USD' }) @IsCurrencyCode() currency!: string;
  @ApiPropertyOptional({ example: ['US', 'DE'], description: 'ISO 3166-1 alpha-2; absent or null: all geos' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(300)
  @Matches(/^[A-Z]{2}$/, {
    each: true,
    message: 'allowed_geos must hold ISO 3166-1 alpha-2 codes in upper case',
  })
  allowed_geos?: string[] | null;
  @ApiPropertyOptional({ description: 'conversions per UTC day' })
  @IsOptional()
  @IsInt()
  @Min(1)
  daily_cap?: number | null;
  @ApiPropertyOptional({ example: '500.00', description: 'payout per UTC day' })
  @IsOptional()
  @IsMoney()
  payout_cap?: string | null;
  @ApiPropertyOptional({ default: 720 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(8760)
  attribution_window_hours?: number;
  @ApiPropertyOptional({ example: ['install', 'purchase'], description: 'the first is the default goal' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @Matches(GOAL_PATTERN, { each: true, message: 'goals must be 1-64 of A-Z a-z 0-9 . _ : -' })
  goals?: string[];
  @ApiPropertyOptional({
    description: 'a conversion faster than this after its click is held (fraud_suspected)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86400 * 30)
  min_conversion_seconds?: number | null;
  @ApiPropertyOptional({
    example: '50.00',
    description: 'a payout above this is held (payout_above_threshold)',
  })
  @IsOptional()
  @IsMoney()
  hold_payout_above?: string | null;
  @ApiPropertyOptional({
    example: ['RU'],
    description: 'clicks from these geos are held (compliance_review)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(300)
  @Matches(/^[A-Z]{2}$/, {
    each: true,
    message: 'review_geos must hold ISO 3166-1 alpha-2 codes in upper case',
  })
  review_geos?: string[] | null;
  @ApiPropertyOptional({
    example: ['partner_a'],
    description:
      'the partners allowed to report this offer; absent or null: any active partner. Others are refused partner_not_allowed',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(ID_PATTERN, {
    each: true,
    message: 'partner_ids must hold partner ids (1-64 of A-Z a-z 0-9 . _ : -)',
  })
  partner_ids?: string[] | null;
  @ApiPropertyOptional({
    example: '500.00',
    description: 'an approval above this payout is refused (payout_above_max); absent or null: no maximum',
  })
  @IsOptional()
  @IsMoney()
  max_payout?: string | null;
  @ApiPropertyOptional({
    description:
      'with burst_window_seconds: more new conversions than this from one source (publisher + sub1) are held',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  burst_max_conversions?: number | null;
  @ApiPropertyOptional({ description: 'the burst window, 1 s to 1 day' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86400)
  burst_window_seconds?: number | null;
}

export class UpdateOfferDto extends PartialType(OmitType(CreateOfferDto, ['id'] as const)) {}

export class CreatePublisherDto {
  @ApiProperty({ example: 'pub-1' })
  @IsString()
  @Matches(ID_PATTERN, { message: 'id must be 1-64 of A-Z a-z 0-9 . _ : -' })
  id!: string;
  @ApiProperty() @IsString() @Length(1, 200) name!: string;
}

export class UpdatePublisherDto extends PartialType(OmitType(CreatePublisherDto, ['id'] as const)) {}

export const AUTH_MODES = ['hmac', 'token', 'ip'] as const;

export class PartnerAuthDto {
  @ApiProperty({
    oneOf: [{ enum: [...AUTH_MODES] }, { type: 'array', items: { enum: [...AUTH_MODES] } }],
    description: 'one mode or several that must all pass',
  })
  @IsIn(AUTH_MODES, { each: true, message: `mode must be ${AUTH_MODES.join(', ')} or a list of them` })
  mode!: (typeof AUTH_MODES)[number] | (typeof AUTH_MODES)[number][];
  @ApiPropertyOptional({ description: 'HMAC secret (write only)' })
  @IsOptional()
  @IsString()
  @Length(SECRET_FLOOR, 256, {
    message: `secret must be ${SECRET_FLOOR}-256 characters (32 by default: SECRET_MIN_LENGTH)`,
  })
  secret?: string;
  @ApiPropertyOptional({ description: 'several HMAC secrets during a rotation (write only)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(5)
  @IsString({ each: true })
  @Length(SECRET_FLOOR, 256, { each: true, message: `secrets must be ${SECRET_FLOOR}-256 characters each` })
  secrets?: string[];
  @ApiPropertyOptional({ description: 'legacy static token (write only)' })
  @IsOptional()
  @IsString()
  @Length(8, 256, { message: 'token must be 8-256 characters' })
  token?: string;
  @ApiPropertyOptional({ default: 'token' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'token_param must be 1-64 of A-Z a-z 0-9 _ -' })
  token_param?: string;
  @ApiPropertyOptional({ example: ['203.0.113.0/24'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  ips?: string[];
}

const PARAM_NAME = /^[A-Za-z0-9_.[\]-]{1,64}$/;

export class ReversalDto {
  @ApiPropertyOptional({ description: 'payout=-2.50 reverses the transaction' })
  @IsOptional()
  @IsBoolean()
  negative_amount?: boolean;
  @ApiPropertyOptional({ example: 'r-', description: 'transaction_id=r-123 reverses transaction 123' })
  @IsOptional()
  @Matches(/^[\x21-\x7e]{1,16}$/, {
    message: 'reversal.id_prefix must be 1-16 printable characters without spaces',
  })
  id_prefix?: string;
  @ApiPropertyOptional({ example: 'is_chargeback', description: 'this parameter with a flag value reverses' })
  @IsOptional()
  @Matches(PARAM_NAME, { message: 'reversal.flag_param must be a 1-64 character parameter name' })
  flag_param?: string;
  @ApiPropertyOptional({ example: ['1', 'true', 'yes'], description: 'default 1, true, yes (any case)' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @Matches(/^\S{1,32}$/, {
    each: true,
    message: 'reversal.flag_values must be 1-32 characters without spaces',
  })
  flag_values?: string[];
}

/** How a partner's postbacks differ from the canonical shape beyond names and codes. */
export class PartnerFormatDto {
  @ApiPropertyOptional({ enum: POSTBACK_STATUSES, description: 'applied when a postback sends no status' })
  @IsOptional()
  @IsIn(POSTBACK_STATUSES, { message: `default_status must be one of ${POSTBACK_STATUSES.join(', ')}` })
  default_status?: PostbackStatus;
  @ApiPropertyOptional({
    enum: MISSING_TRANSACTION_ID,
    description: 'per_click: no transaction id means one conversion per click and goal (refuse: 400)',
  })
  @IsOptional()
  @IsIn(MISSING_TRANSACTION_ID, { message: 'missing_transaction_id must be refuse or per_click' })
  missing_transaction_id?: MissingTransactionId;
  @ApiPropertyOptional({ description: 'amounts use a decimal comma: 12,34 is 12.34' })
  @IsOptional()
  @IsBoolean()
  decimal_comma?: boolean;
  @ApiPropertyOptional({ type: ReversalDto })
  @IsOptional()
  @IsObject({ message: 'format.reversal must be an object' })
  @ValidateNested()
  @Type(() => ReversalDto)
  reversal?: ReversalDto;
  @ApiPropertyOptional({ example: ['offer_id'], description: 'parameters kept for audit, never read' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @Matches(PARAM_NAME, { each: true, message: 'ignore_params must hold 1-64 character parameter names' })
  ignore_params?: string[];
}

export class CreatePartnerDto {
  @ApiProperty({ example: 'network-1' })
  @IsString()
  @Matches(ID_PATTERN, { message: 'id must be 1-64 of A-Z a-z 0-9 . _ : -' })
  id!: string;
  @ApiProperty() @IsString() @Length(1, 200) name!: string;
  @ApiProperty({ type: PartnerAuthDto })
  @IsObject({ message: 'auth must be an object' })
  @ValidateNested()
  @Type(() => PartnerAuthDto)
  auth!: PartnerAuthDto;
  @ApiPropertyOptional({ example: { click_id: ['aff_sub'], transaction_id: ['conv_id'] } })
  @IsOptional()
  @IsObject()
  key_map?: Record<string, string[]>;
  @ApiPropertyOptional({ example: { '1': 'approved', '3': 'rejected' } })
  @IsOptional()
  @IsObject()
  status_map?: Record<string, string>;
  @ApiPropertyOptional({
    enum: PRESET_NAMES,
    description:
      "a platform's native postback shape: fills in key_map, status_map, format and auth.token_param; explicit ones override it",
  })
  @IsOptional()
  @IsIn(PRESET_NAMES, { message: `preset must be one of ${PRESET_NAMES.join(', ')}` })
  preset?: string | null;
  @ApiPropertyOptional({ type: PartnerFormatDto })
  @IsOptional()
  @IsObject({ message: 'format must be an object' })
  @ValidateNested()
  @Type(() => PartnerFormatDto)
  format?: PartnerFormatDto | null;
  @ApiPropertyOptional({
    description:
      "a first-time postback later than this after its click is flagged late; null: the processor's LATE_AFTER_MS",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(90 * 86400)
  late_after_seconds?: number | null;
  @ApiPropertyOptional({
    description:
      'retries while the click is not visible yet; null: one per RETRY_DELAYS_MS entry (the last delay repeats)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(50)
  retry_attempts?: number | null;
  @ApiPropertyOptional({ default: 300 })
  @IsOptional()
  @IsInt()
  @Min(5)
  @Max(86400)
  tolerance_seconds?: number;
  @ApiPropertyOptional({ default: 200 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  rate_limit_per_second?: number;
}

export class UpdatePartnerDto extends PartialType(OmitType(CreatePartnerDto, ['id'] as const)) {}

export class PostbackUrlQueryDto {
  @ApiPropertyOptional({
    example: 'https://postbacks.example.com',
    description: "where partners reach this gateway (default: this request's own address)",
  })
  @IsOptional()
  @IsString()
  @Length(1, 512)
  base_url?: string;
}
