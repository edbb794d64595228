import { isIP } from 'node:net';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Max, Min, registerDecorator } from 'class-validator';
import { CommonEnv, toInt } from './common.env';
import { secretsEnvProblems, type SecretsEnvVars } from './secret-box';

/** Fails with the problems secretsEnvProblems names for this variable. */
function SecretsKeyVariable(): PropertyDecorator {
  return (target, key) => {
    const name = String(key);
    let last = '';
    registerDecorator({
      name: 'secretsKeyVariable',
      target: target.constructor,
      propertyName: name,
      validator: {
        validate: (_v: unknown, args) => {
          const problems = secretsEnvProblems(args?.object as SecretsEnvVars).filter(
            (p) => p.variable === name,
          );
          last = problems.map((p) => p.message).join('; ');
          return problems.length === 0;
        },
        defaultMessage: () => last,
      },
    });
  };
}

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*$/;

/** An address, a CIDR range or a host name; the CIDR's host bits are checked where it is used. */
function isAllowEntry(entry: string): boolean {
  const slash = entry.indexOf('/');
  if (slash >= 0) {
    const family = isIP(entry.slice(0, slash));
    const prefix = entry.slice(slash + 1);
    return family !== 0 && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  }
  return isIP(entry) !== 0 || HOST_NAME.test(entry);
}

function ListOf(check: (entry: string) => boolean, message: string): PropertyDecorator {
  return (target, key) =>
    registerDecorator({
      name: 'listOf',
      target: target.constructor,
      propertyName: String(key),
      validator: {
        validate: (v: unknown) =>
          typeof v === 'string' &&
          v
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean)
            .every(check),
        defaultMessage: () => message,
      },
    });
}

const isDnsServer = (e: string) => {
  const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(e);
  if (bracketed) return isIP(bracketed[1]!) === 6 && Number(bracketed[2]) <= 65535;
  const v4port = /^([\d.]+):(\d{1,5})$/.exec(e);
  if (v4port) return isIP(v4port[1]!) === 4 && Number(v4port[2]) <= 65535;
  return isIP(e) !== 0;
};

/**
 * Variables of the apps that hold partner and publisher secrets and call publishers' URLs (the
 * gateway and the notifier): the secrets key ring and the outbound address policy.
 */
export class EdgeEnv extends CommonEnv {
  /** Seals and opens secrets at rest: `<key id>:<base64 of 32 bytes>`. Unset: the public dev key (refused in production). */
  @IsString()
  @SecretsKeyVariable()
  SECRETS_KEY = '';

  /** Older keys that still open secrets during a rotation: comma-separated `<key id>:<base64>`. */
  @IsString()
  @SecretsKeyVariable()
  SECRETS_OLD_KEYS = '';

  /** `production` refuses the development secrets key. */
  @IsString()
  NODE_ENV = '';

  /**
   * Publisher postback URLs may not point at loopback, private, link-local, unique-local or cloud
   * metadata addresses, unless named here: comma-separated addresses, CIDR ranges or host names.
   */
  @ListOf(
    isAllowEntry,
    'PUBLISHER_URL_ALLOW must be a comma-separated list of addresses, CIDR ranges or host names',
  )
  PUBLISHER_URL_ALLOW = '';

  /** DNS servers publisher host names are resolved with (`ip` or `ip:port`); empty: the system resolver. */
  @ListOf(isDnsServer, 'PUBLISHER_DNS_SERVERS must be a comma-separated list of ip or ip:port')
  PUBLISHER_DNS_SERVERS = '';

  /** A publisher host name that has not resolved by then: a failed attempt (or, when configuring, unchecked). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(30_000)
  PUBLISHER_DNS_TIMEOUT_MS = 2000;
}
