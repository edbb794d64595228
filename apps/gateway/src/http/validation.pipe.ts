import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { ApiError } from './api-error';

function firstError(errors: ValidationError[], path = ''): { field: string; message: string } | undefined {
  for (const e of errors) {
    const field = path ? `${path}.${e.property}` : e.property;
    const message = Object.values(e.constraints ?? {})[0];
    if (message) return { field, message };
    const nested = firstError(e.children ?? [], field);
    if (nested) return nested;
  }
  return undefined;
}

/** class-validator for request bodies and query DTOs, answering 400 with the first bad field named. */
@Injectable()
export class BodyValidationPipe implements PipeTransform {
  transform(value: unknown, meta: ArgumentMetadata): unknown {
    if ((meta.type !== 'body' && meta.type !== 'query') || !meta.metatype || meta.metatype === Object)
      return value;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ApiError(400, 'invalid_body', 'the body must be a JSON object');
    }
    let dto: object;
    try {
      dto = plainToInstance(meta.metatype as new () => object, value);
    } catch {
      // class-transformer throws on some hostile shapes (a `constructor` key holding an object).
      throw new ApiError(
        400,
        'invalid_body',
        `the ${meta.type === 'query' ? 'query' : 'body'} has a shape no field accepts`,
      );
    }
    const errors = validateSync(dto, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
    });
    const first = firstError(errors);
    if (first) {
      const unknown = first.message.includes('should not exist');
      throw ApiError.badField(
        first.field,
        unknown ? `unknown ${meta.type === 'query' ? 'parameter' : 'field'} ${first.field}` : first.message,
        unknown ? 'unknown_field' : 'invalid_field',
      );
    }
    return dto;
  }
}
