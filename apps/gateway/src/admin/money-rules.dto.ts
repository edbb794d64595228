import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches, registerDecorator } from 'class-validator';
import { PAYOUT_KINDS, REWARD_ROUNDINGS } from '@app/money-rules';
import { ID_PATTERN } from '../clicks/record-click.dto';

/**
 * Shapes only: the values (ranges, decimals, which fields a kind takes, the start) are checked by
 * @app/money-rules (parsePayoutRule, parseRewardRule), the one place the CLI uses too.
 */
function IsDecimalValue(): PropertyDecorator {
  return (target, key) =>
    registerDecorator({
      name: 'isDecimalValue',
      target: target.constructor,
      propertyName: String(key),
      validator: {
        validate: (v: unknown) =>
          (typeof v === 'string' && v.length <= 64) || (typeof v === 'number' && Number.isFinite(v)),
        defaultMessage: () => `${String(key)} must be a decimal string like "70.5" (or a number)`,
      },
    });
}

/** A decimal sent as a string (preferred: exact) or a JSON number. */
const DECIMAL = { oneOf: [{ type: 'string' }, { type: 'number' }] };

const ID_MESSAGE = (k: string) => `${k} must be 1-64 of A-Z a-z 0-9 . _ : -`;
const TIME =
  'ISO 8601 with its zone; default: now; never before an entry already written for the offer (409)';

export class CreatePayoutRuleDto {
  @ApiProperty({ example: 'offer-123' })
  @Matches(ID_PATTERN, { message: ID_MESSAGE('offer_id') })
  offer_id!: string;
  @ApiPropertyOptional({ example: 'install', description: "one of the offer's goals; absent: every goal" })
  @IsOptional()
  @Matches(ID_PATTERN, { message: ID_MESSAGE('goal') })
  goal?: string;
  @ApiPropertyOptional({
    example: 'pub-1',
    description: 'an override for this publisher; absent: every publisher',
  })
  @IsOptional()
  @Matches(ID_PATTERN, { message: ID_MESSAGE('publisher_id') })
  publisher_id?: string;
  @ApiProperty({ enum: PAYOUT_KINDS, description: 'share: share_percent of the revenue; fixed: amount' })
  @IsIn(PAYOUT_KINDS, { message: 'kind must be share or fixed' })
  kind!: 'share' | 'fixed';
  @ApiPropertyOptional({
    ...DECIMAL,
    example: '70',
    description: 'kind share: 0 to 100, at most 2 decimals (a string or a number)',
  })
  @IsOptional()
  @IsDecimalValue()
  share_percent?: string | number;
  @ApiPropertyOptional({
    example: '1.50',
    description: "kind fixed: a decimal string in the offer's currency (at most 6 decimals)",
  })
  @IsOptional()
  @IsDecimalValue()
  amount?: string;
  @ApiPropertyOptional({ example: '2030-01-01T00:00:00Z', description: TIME })
  @IsOptional()
  @IsString()
  @Length(1, 40)
  effective_from?: string;
  @ApiPropertyOptional({ example: 'rate card v3' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  note?: string;
}

export class CreateRewardRuleDto {
  @ApiProperty({ example: 'pub-1', description: 'the publisher app whose users get the reward' })
  @Matches(ID_PATTERN, { message: ID_MESSAGE('publisher_id') })
  publisher_id!: string;
  @ApiProperty({ example: 'coins', description: "the app's virtual currency, 1-32 characters" })
  @IsString()
  @Length(1, 64)
  currency_name!: string;
  @ApiProperty({
    ...DECIMAL,
    example: '100',
    description: 'reward units per 1 unit of payout, above 0, at most 6 decimals (a string or a number)',
  })
  @IsDecimalValue()
  units_per_unit!: string | number;
  @ApiProperty({ enum: REWARD_ROUNDINGS, description: 'to whole units; round is half to even' })
  @IsIn(REWARD_ROUNDINGS, { message: 'rounding must be floor, round or ceil' })
  rounding!: 'floor' | 'round' | 'ceil';
  @ApiPropertyOptional({
    type: 'integer',
    example: 1,
    description: 'the least reward for any payout above 0 (default 0)',
  })
  @IsOptional()
  @IsDecimalValue()
  minimum?: number | string;
  @ApiPropertyOptional({ example: '2030-01-01T00:00:00Z', description: TIME })
  @IsOptional()
  @IsString()
  @Length(1, 40)
  effective_from?: string;
  @ApiPropertyOptional({ example: 'launch rate' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  note?: string;
}

export class PayoutRulesQuery {
  @ApiPropertyOptional({ description: 'one offer (adds `applies`: the rule per goal and publisher)' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: ID_MESSAGE('offer_id') })
  offer_id?: string;
  @ApiPropertyOptional({
    description: "rules that can apply to this publisher: its overrides and everyone's",
  })
  @IsOptional()
  @Matches(ID_PATTERN, { message: ID_MESSAGE('publisher_id') })
  publisher_id?: string;
  @ApiPropertyOptional({ description: 'mark the rules in force at this time (ISO 8601; default now)' })
  @IsOptional()
  @IsString()
  @Length(1, 40)
  at?: string;
}

export class RewardRulesQuery {
  @ApiPropertyOptional({ description: 'one publisher' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: ID_MESSAGE('publisher_id') })
  publisher_id?: string;
  @ApiPropertyOptional({ description: 'mark the rules in force at this time (ISO 8601; default now)' })
  @IsOptional()
  @IsString()
  @Length(1, 40)
  at?: string;
}
