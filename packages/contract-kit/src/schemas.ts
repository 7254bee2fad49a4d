import { Type } from 'typebox';

/**
 * An idempotency key: 1 to 200 visible ASCII characters. It is stored in a unique index, so it
 * stays short and plain.
 */
export const IDEMPOTENCY_KEY_RULE = { minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7E]+$' } as const;
export const IdempotencyKey = Type.String(IDEMPOTENCY_KEY_RULE);

/** Text a person types: no control characters (PostgreSQL refuses a NUL byte in text). */
export const FreeText = (options: { minLength?: number; maxLength: number }) =>
  Type.String({ minLength: options.minLength ?? 1, maxLength: options.maxLength, pattern: '^[^\\u0000-\\u001F\\u007F]*$' });

/** An id: every id in the API is a UUID. */
export const Uuid = Type.String({ format: 'uuid' });
