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

  /**
   * A duration in milliseconds: `90m`, `36h`, `7d`, `2w`, or a bare number of hours (`168`).
   * Whole units only; the range is checked on the result and named in the error.
   */
  duration(name: string, fallbackMs: number, minMs: number, maxMs: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallbackMs;
    const match = /^(\d+)\s*(m|h|d|w)?$/.exec(value);
    const ms = match ? Number(match[1]) * DURATION_UNITS[(match[2] ?? 'h') as keyof typeof DURATION_UNITS] : Number.NaN;
    if (!Number.isSafeInteger(ms) || ms < minMs || ms > maxMs) {
      throw bad(name, value, `a duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)}, like 36h, 7d or 2w (a bare number is hours)`);
    }
    return ms;
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

const DURATION_UNITS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** A duration as its largest whole unit (`14d`, `36h`, `90m`), for messages. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (ms % DURATION_UNITS[unit] === 0 && ms >= DURATION_UNITS[unit]) return `${ms / DURATION_UNITS[unit]}${unit}`;
  }
  return `${ms} ms`;
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
