import { ConfigError } from './config-error.ts';

/** Reads one environment variable through a parser; a bad value stops the process with one line naming it. */
export class EnvReader {
  readonly #env: Record<string, string | undefined>;

  constructor(env: Record<string, string | undefined>) {
    this.#env = env;
  }

  raw(name: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw bad(name, value, `an integer from ${min} to ${max}`);
    }
    return parsed;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!allowed.includes(value as T)) throw bad(name, value, `one of ${allowed.join(', ')}`);
    return value as T;
  }

  url(name: string, protocols: readonly string[]): URL | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw bad(name, redact(value), `a URL (${protocols.join(', ')})`);
    }
    if (!protocols.includes(url.protocol)) throw bad(name, redact(value), `a URL (${protocols.join(', ')})`);
    return url;
  }

  list(name: string): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  }
}

function bad(name: string, value: string, expected: string): ConfigError {
  return new ConfigError(`${name} must be ${expected} (got "${value}")`);
}

/**
 * Keeps credentials out of the one line we print. The password runs to the last "@" (a raw "@"
 * in it is common in hand-written URLs); hiding a little too much beats showing part of it.
 */
function redact(value: string): string {
  return value.replace(/\/\/([^:/@]+):.*@/, '//$1:***@');
}
