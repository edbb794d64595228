import { ApiError } from '../http/api-error';

/** No configuration may accept a signing secret shorter than this (SECRET_MIN_LENGTH's floor). */
export const SECRET_FLOOR = 8;

/**
 * New signing secrets must be at least `min` characters (SECRET_MIN_LENGTH, 32 by default). The
 * DTOs hold the absolute floor; this holds the configured one, naming the field that fell short.
 */
export function requireSecretLength(field: string, secrets: readonly string[], min: number): void {
  const short = secrets.find((s) => s.length < min);
  if (short !== undefined)
    throw ApiError.badField(
      field,
      `${field} must be at least ${min} characters (e.g. 32 random bytes, hex or base64); got ${short.length}`,
    );
}
