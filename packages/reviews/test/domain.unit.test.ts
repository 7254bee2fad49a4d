import { describe, expect, it } from 'vitest';
import { bodyOf, purchasedProducts } from '../src/domain.ts';

describe('reviews domain', () => {
  it('stores a review text trimmed', () => {
    expect(bodyOf('  Sturdy mug. ')).toBe('Sturdy mug.');
  });

  it('refuses a blank text, naming the field', () => {
    expect(() => bodyOf('  \t ')).toThrow(expect.objectContaining({ code: 'invalid_input', detail: expect.stringContaining('body.body') }));
  });

  it('takes each product of a delivered order once, in lower case', () => {
    const a = 'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA';
    expect(purchasedProducts([{ product_id: a }, { product_id: a.toLowerCase() }, { product_id: 'b0000000-0000-4000-8000-000000000000' }])).toEqual([a.toLowerCase(), 'b0000000-0000-4000-8000-000000000000']);
  });
});
