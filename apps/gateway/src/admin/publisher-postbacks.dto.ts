import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  registerDecorator,
  ValidateNested,
} from 'class-validator';
import {
  checkTemplate,
  isMacroName,
  isUrlHash,
  LEGACY_HASH_ALGORITHMS,
  LEGACY_HASH_SEPARATOR_MAX,
  type LegacyHashAlgorithm,
  POSTBACK_MACROS,
} from '@app/domain';
import { SECRET_FLOOR } from './secret-length';

const isLegacyHashAlgorithm = (a: unknown): a is LegacyHashAlgorithm =>
  (LEGACY_HASH_ALGORITHMS as readonly unknown[]).includes(a);

/** A postback URL template: known macros only (an unknown one is named), http(s), no credentials. */
function IsPostbackTemplate(): PropertyDecorator {
  return (target, key) => {
    let last = '';
    registerDecorator({
      name: 'isPostbackTemplate',
      target: target.constructor,
      propertyName: String(key),
      validator: {
        validate: (v: unknown) => {
          if (v === null || v === undefined) return true;
          const c = checkTemplate(v as string);
          last = c.ok ? '' : c.message;
          return c.ok;
        },
        defaultMessage: () => `${String(key)} ${last}`,
      },
    });
  };
}

const ALGORITHMS = LEGACY_HASH_ALGORITHMS.join(', ');

/** Why `fields` or `separator` does not fit the algorithm, or undefined when it does. */
function legacyHashProblem(key: string, v: unknown, algorithm: unknown): string | undefined {
  // An unknown algorithm is named by its own check.
  if (!isLegacyHashAlgorithm(algorithm)) return undefined;
  const urlHash = isUrlHash(algorithm);
  const absent = v === undefined || v === null;
  if (key === 'fields') {
    if (urlHash)
      return absent || (Array.isArray(v) && v.length === 0)
        ? undefined
        : `fields: ${algorithm} signs the whole URL; give no fields`;
    if (!Array.isArray(v) || v.length === 0)
      return `fields is required for ${algorithm}: the macros whose values are hashed, in order`;
    if (v.length > 20) return 'fields holds at most 20 macros';
    const unknown = (v as unknown[]).find((f) => typeof f !== 'string' || !isMacroName(f));
    if (unknown !== undefined)
      return `fields: unknown macro ${JSON.stringify(unknown)}; known: ${POSTBACK_MACROS.join(', ')}`;
    return undefined;
  }
  if (absent) return undefined;
  if (typeof v !== 'string' || v.length > LEGACY_HASH_SEPARATOR_MAX)
    return `separator must be a string of 0-${LEGACY_HASH_SEPARATOR_MAX} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) return 'separator must not hold control characters';
  if (urlHash && v !== '') return `separator: ${algorithm} signs the whole URL; give no separator`;
  return undefined;
}

/** `fields` and `separator` as the algorithm needs them: macros to hash, or none for a URL hash. */
function FitsLegacyHashAlgorithm(): PropertyDecorator {
  return (target, key) => {
    registerDecorator({
      name: 'fitsLegacyHashAlgorithm',
      target: target.constructor,
      propertyName: String(key),
      validator: {
        validate: (v: unknown, args) =>
          legacyHashProblem(String(key), v, (args?.object as { algorithm?: unknown }).algorithm) ===
          undefined,
        defaultMessage: (args) =>
          legacyHashProblem(String(key), args?.value, (args?.object as { algorithm?: unknown }).algorithm) ??
          `${String(key)} is invalid`,
      },
    });
  };
}

export class LegacyHashDto {
  @ApiProperty({
    enum: LEGACY_HASH_ALGORITHMS,
    description:
      'md5 / sha1: hex digest of the values and the secret, joined by the separator; hmac-sha256 / hmac-sha1: hex HMAC(secret, the values joined by the separator); hmac-sha1-url: hex HMAC-SHA1(secret, the URL called, before this parameter)',
  })
  @IsIn(LEGACY_HASH_ALGORITHMS, { message: `algorithm must be one of ${ALGORITHMS}` })
  algorithm!: (typeof LEGACY_HASH_ALGORITHMS)[number];
  @ApiProperty({ example: 'hash', description: 'query parameter the hash is sent in (appended last)' })
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'param must be 1-64 of A-Z a-z 0-9 _ -' })
  param!: string;
  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    example: ['click_id', 'payout'],
    description:
      'macro values hashed, in this order (1-20); required except for hmac-sha1-url, which takes none',
  })
  @FitsLegacyHashAlgorithm()
  fields?: string[] | null;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: LEGACY_HASH_SEPARATOR_MAX,
    example: ':',
    description: `joins the values (and, for md5 and sha1, the secret): "a:b:secret"; 0-${LEGACY_HASH_SEPARATOR_MAX} characters, default none; not for hmac-sha1-url`,
  })
  @FitsLegacyHashAlgorithm()
  separator?: string | null;
  @ApiProperty({ description: 'hash secret (write only)' })
  @IsString()
  @Length(8, 256, { message: 'legacy_hash.secret must be 8-256 characters' })
  secret!: string;
}

export class PublisherPostbackDto {
  @ApiPropertyOptional({
    example: 'https://wall.example/pb?click={click_id}&amount={payout}&status={status}',
    description: `template for every status without its own; macros: ${POSTBACK_MACROS.map((m) => `{${m}}`).join(' ')}`,
  })
  @IsOptional()
  @IsPostbackTemplate()
  url?: string | null;
  @ApiPropertyOptional({ description: 'template for approved (and released) conversions' })
  @IsOptional()
  @IsPostbackTemplate()
  approved_url?: string | null;
  @ApiPropertyOptional({ description: 'template for reversed conversions' })
  @IsOptional()
  @IsPostbackTemplate()
  reversed_url?: string | null;
  @ApiPropertyOptional({ description: 'signing secret (write only); omit to keep the configured ones' })
  @IsOptional()
  @IsString()
  @Length(SECRET_FLOOR, 256, {
    message: `secret must be ${SECRET_FLOOR}-256 characters (32 by default: SECRET_MIN_LENGTH)`,
  })
  secret?: string;
  @ApiPropertyOptional({ description: 'two secrets during a rotation: every call carries both signatures' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(2, { message: 'secrets holds at most 2 (the old and the new during a rotation)' })
  @IsString({ each: true })
  @Length(SECRET_FLOOR, 256, { each: true, message: `secrets must be ${SECRET_FLOOR}-256 characters each` })
  secrets?: string[];
  @ApiPropertyOptional({
    type: LegacyHashDto,
    description: 'for walls that check a hash parameter; null: none',
  })
  @IsOptional()
  @IsObject({ message: 'legacy_hash must be an object or null' })
  @ValidateNested()
  @Type(() => LegacyHashDto)
  legacy_hash?: LegacyHashDto | null;
}
