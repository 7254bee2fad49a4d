import { describe, expect, it } from 'vitest';
import { fingerprint } from '../src/fingerprint.ts';

describe('fingerprint', () => {
  it('ignores the order of object keys, at any depth', () => {
    expect(fingerprint({ a: 1, b: { c: [1, { d: 2, e: 3 }], f: 'x' } })).toBe(fingerprint({ b: { f: 'x', c: [1, { e: 3, d: 2 }] }, a: 1 }));
  });

  it('treats an undefined member as absent (as JSON does)', () => {
    expect(fingerprint({ a: 1, b: undefined })).toBe(fingerprint({ a: 1 }));
  });

  it('keeps the order of array items', () => {
    expect(fingerprint([1, 2])).not.toBe(fingerprint([2, 1]));
  });

  it('tells apart values that differ only in type or nesting', () => {
    const values = [{ a: 1 }, { a: '1' }, { a: [1] }, { a: { b: 1 } }, { 'a.b': 1 }, { a: null }, {}, [], null, '', 0];
    const hashes = new Set(values.map(fingerprint));
    expect(hashes.size).toBe(values.length);
  });

  it('is stable and URL-safe (a sha256 in base64url)', () => {
    const hash = fingerprint({ customer_id: 'c', items: [{ product_id: 'p', quantity: 2 }] });
    expect(hash).toBe(fingerprint({ items: [{ quantity: 2, product_id: 'p' }], customer_id: 'c' }));
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
