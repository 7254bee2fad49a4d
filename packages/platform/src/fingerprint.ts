import { createHash } from 'node:crypto';
import { IdempotencyKeyReused, ModuleError } from '@shop/contract-kit';

/** A stable hash of a JSON value (object keys sorted): "the same payload" for idempotency. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * An idempotency key came back and found what an earlier request stored: the same request (its
 * fingerprint) replays it; a different one is refused with `idempotency_key_reused`, the same
 * code in every module.
 */
export function assertSameRequest(stored: { readonly request_hash: string | null }, requestHash: string | null, what: string): void {
  if (stored.request_hash !== requestHash) throw new ModuleError(IdempotencyKeyReused, `this idempotency key was already used for a different ${what}`);
}
