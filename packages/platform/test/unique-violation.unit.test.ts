import { describe, expect, it } from 'vitest';
import { isUniqueViolation } from '../src/index.ts';

describe('isUniqueViolation', () => {
  it("tells PostgreSQL's unique violation, of a named constraint when asked, from anything else", () => {
    const violation = Object.assign(new Error('duplicate key'), { code: '23505', constraint: 'one_review_per_customer_and_product' });
    expect(isUniqueViolation(violation)).toBe(true);
    expect(isUniqueViolation(violation, 'one_review_per_customer_and_product')).toBe(true);
    expect(isUniqueViolation(violation, 'one_review_per_key')).toBe(false);
    expect(isUniqueViolation(Object.assign(new Error('deadlock'), { code: '40P01' }))).toBe(false);
    expect(isUniqueViolation(undefined)).toBe(false);
  });
});
