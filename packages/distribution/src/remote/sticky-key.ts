import { createHash } from 'node:crypto';
import { stableJson } from './normalise.ts';

/** Members that name the entity a call is about, most specific first. */
const ENTITY_FIELDS = ['order_id', 'id', 'customer_id', 'idempotency_key'] as const;

/**
 * The key that keeps one entity's calls on one side of a traffic split: the first string
 * argument (an id: `getOrder(id)`, `listOrdersForCustomer(customerId, page)`), or the first
 * object argument's `order_id` ?? `id` ?? `customer_id` ?? `idempotency_key`; failing both,
 * the arguments as canonical JSON (stable across key order). Pure.
 */
export function stickyKeyOf(args: readonly unknown[]): string {
  for (const arg of args) {
    if (typeof arg === 'string') return arg;
    if (arg !== null && typeof arg === 'object' && !Array.isArray(arg)) {
      for (const field of ENTITY_FIELDS) {
        const value = (arg as Record<string, unknown>)[field];
        if (typeof value === 'string' || typeof value === 'number') return String(value);
      }
    }
  }
  return stableJson(args);
}

/**
 * The key's bucket, 0–99: the first 4 bytes of its sha256, modulo 100. A hash rather than,
 * say, the key's last characters because ids may share prefixes or suffixes; the same key
 * gives the same bucket in every process and after every restart. Pure.
 */
export function bucketOf(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % 100;
}
