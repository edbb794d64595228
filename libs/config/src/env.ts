import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function describe(errors: ValidationError[], source: Record<string, unknown>): string[] {
  return errors.map((e) => {
    const value = source[e.property];
    const shown = value === undefined ? '(unset)' : JSON.stringify(value);
    const why = Object.values(e.constraints ?? {}).join('; ');
    return `${e.property}=${shown}: ${why}`;
  });
}

/**
 * Reads and validates environment variables into a typed config object, failing fast with a
 * message that names every bad variable. Defaults live on the DTO's property initialisers.
 */
export function loadEnv<T extends object>(
  dto: new () => T,
  env: Record<string, string | undefined> = process.env,
): T {
  const known = Object.keys(new dto());
  const source: Record<string, unknown> = {};
  for (const key of known) {
    const v = env[key];
    if (v !== undefined && v !== '') source[key] = v;
  }
  const config = plainToInstance(dto, source, { enableImplicitConversion: false, exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: false, forbidUnknownValues: true });
  if (errors.length > 0) throw new ConfigError(describe(errors, source));
  return config;
}
