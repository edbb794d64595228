import { Transform } from 'class-transformer';
import { IsIn, IsIP, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

/** Ids we mint or partners configure: short, URL-safe, no spaces. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/** Free-text source tags: printable, no control characters. */
export const TAG_PATTERN = /^[^\p{Cc}]*$/u;
export const DEVICES = ['mobile', 'tablet', 'desktop', 'other'] as const;
/** The wall's user id: 1-128 printable characters (no control, format, surrogate or line-separator characters). */
export const USER_ID_PATTERN = /^[^\p{C}\p{Zl}\p{Zp}]{1,128}$/u;
const USER_ID_MESSAGE = 'uid must be 1-128 printable characters';

const upper = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.toUpperCase() : value);
const lower = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value);

function Tag(max: number): PropertyDecorator {
  return (target, key) => {
    IsOptional()(target, key);
    IsString({ message: `${String(key)} must be a string` })(target, key);
    MaxLength(max, { message: `${String(key)} must be at most ${max} characters` })(target, key);
    Matches(TAG_PATTERN, { message: `${String(key)} must not contain control characters` })(target, key);
  };
}

/** The click schema, the first acceptance gate (seed, step 1). */
export class RecordClickDto {
  @IsString({ message: 'offer_id must be a string' })
  @Matches(ID_PATTERN, { message: 'offer_id must be 1-64 of A-Z a-z 0-9 . _ : -' })
  offer_id!: string;

  @IsString({ message: 'publisher_id must be a string' })
  @Matches(ID_PATTERN, { message: 'publisher_id must be 1-64 of A-Z a-z 0-9 . _ : -' })
  publisher_id!: string;

  @Tag(256) sub1?: string;
  @Tag(256) sub2?: string;
  @Tag(256) sub3?: string;
  @Tag(256) sub4?: string;
  @Tag(256) sub5?: string;
  @Tag(128) placement?: string;

  @IsOptional()
  @Transform(upper)
  @IsString({ message: 'geo must be a string' })
  @Length(2, 2, { message: 'geo must be an ISO 3166-1 alpha-2 country code' })
  @Matches(/^[A-Z]{2}$/, { message: 'geo must be an ISO 3166-1 alpha-2 country code' })
  geo?: string;

  @IsOptional()
  @Transform(lower)
  @IsIn(DEVICES, { message: `device must be one of ${DEVICES.join(', ')}` })
  device?: (typeof DEVICES)[number];

  @IsOptional()
  @IsIP(undefined, { message: 'ip must be an IPv4 or IPv6 address' })
  ip?: string;

  @Tag(512) user_agent?: string;

  /** The publisher app's id for its user, echoed in the publisher's postbacks ({uid}) and kept on the ledger. */
  @IsOptional()
  @IsString({ message: USER_ID_MESSAGE })
  @Matches(USER_ID_PATTERN, { message: USER_ID_MESSAGE })
  uid?: string;
}
