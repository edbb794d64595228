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
import { checkTemplate, LEGACY_HASH_ALGORITHMS, POSTBACK_MACROS } from '@app/domain';
import { SECRET_FLOOR } from './secret-length';

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

export class LegacyHashDto {
  @ApiProperty({ enum: LEGACY_HASH_ALGORITHMS })
  @IsIn(LEGACY_HASH_ALGORITHMS, { message: `algorithm must be ${LEGACY_HASH_ALGORITHMS.join(' or ')}` })
  algorithm!: (typeof LEGACY_HASH_ALGORITHMS)[number];
  @ApiProperty({ example: 'hash', description: 'query parameter the hash is sent in' })
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'param must be 1-64 of A-Z a-z 0-9 _ -' })
  param!: string;
  @ApiProperty({ example: ['click_id', 'payout'], description: 'macro values hashed, in this order' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsIn([...POSTBACK_MACROS], {
    each: true,
    message: (a) =>
      `fields: unknown macro ${String(a.value as unknown)}; known: ${POSTBACK_MACROS.join(', ')}`,
  })
  fields!: string[];
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
