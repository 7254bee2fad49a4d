import { describe, expect, it } from 'vitest';
import { ModuleError } from '@shop/contract-kit';
import type { OrderStatus } from '@shop/orders-contract';
import { assertDistinctProducts, priceLines, totalOf, transition, type Action } from '../src/domain.ts';

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const P3 = '33333333-3333-4333-8333-333333333333';

/** Runs `fn`, expecting it to throw a ModuleError, and returns that error for closer checks. */
function moduleErrorOf(fn: () => unknown): ModuleError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ModuleError);
    return error as ModuleError;
  }
  throw new Error('expected a ModuleError, but nothing was thrown');
}

describe('order state machine', () => {
  const statuses: OrderStatus[] = ['pending', 'confirmed', 'shipped', 'delivered', 'cancelled'];
  const actions: Action[] = ['confirm', 'cancel', 'ship', 'deliver'];
  // The whole table of allowed moves; every other (status, action) pair must be refused.
  const allowed: Record<string, OrderStatus> = {
    'pending confirm': 'confirmed',
    'pending cancel': 'cancelled',
    'confirmed cancel': 'cancelled',
    'confirmed ship': 'shipped',
    'shipped deliver': 'delivered',
  };
  const pairs = statuses.flatMap((from) => actions.map((action) => ({ from, action, to: allowed[`${from} ${action}`] })));

  it.each(pairs.filter((p) => p.to !== undefined))('$from --$action--> $to', ({ from, action, to }) => {
    expect(transition('o-1', from, action)).toBe(to);
  });

  it.each(pairs.filter((p) => p.to === undefined))('refuses to $action a $from order', ({ from, action }) => {
    const error = moduleErrorOf(() => transition('o-1', from, action));
    expect(error.code).toBe('invalid_state_transition');
    expect(error.status).toBe(409);
    expect(error.extensions).toEqual({ current_status: from });
    expect(error.detail).toContain('o-1');
  });

  it('covers all 20 (status, action) pairs: 5 allowed, 15 forbidden', () => {
    expect(pairs).toHaveLength(20);
    expect(pairs.filter((p) => p.to !== undefined)).toHaveLength(5);
  });
});

describe('assertDistinctProducts', () => {
  it('accepts distinct products', () => {
    expect(() => assertDistinctProducts([{ product_id: P1, quantity: 1 }, { product_id: P2, quantity: 3 }])).not.toThrow();
  });

  it('names the field of the second occurrence, ignoring case', () => {
    const error = moduleErrorOf(() =>
      assertDistinctProducts([
        { product_id: P1, quantity: 1 },
        { product_id: P1.toUpperCase(), quantity: 2 },
      ]),
    );
    expect(error.code).toBe('invalid_input');
    expect(error.status).toBe(400);
    expect(error.extensions).toEqual({ errors: [{ field: 'body.items[1].product_id', message: expect.any(String) }] });
  });
});

describe('priceLines', () => {
  const prices = new Map([
    [P1, 250],
    [P2, 1000],
  ]);

  it('prices each line from the catalog and lower-cases ids', () => {
    expect(priceLines([{ product_id: P1.toUpperCase(), quantity: 2 }, { product_id: P2, quantity: 1 }], prices)).toEqual([
      { product_id: P1, quantity: 2, unit_price_cents: 250 },
      { product_id: P2, quantity: 1, unit_price_cents: 1000 },
    ]);
  });

  it('refuses unknown products with product_not_found (422), listing every one', () => {
    const error = moduleErrorOf(() =>
      priceLines(
        [
          { product_id: P3, quantity: 1 },
          { product_id: P1, quantity: 1 },
          { product_id: '44444444-4444-4444-8444-444444444444', quantity: 1 },
        ],
        prices,
      ),
    );
    expect(error.code).toBe('product_not_found');
    expect(error.status).toBe(422);
    expect(error.extensions).toEqual({ product_ids: [P3, '44444444-4444-4444-8444-444444444444'] });
  });
});

describe('totalOf', () => {
  it('sums quantity × unit price', () => {
    expect(
      totalOf([
        { product_id: P1, quantity: 3, unit_price_cents: 250 },
        { product_id: P2, quantity: 2, unit_price_cents: 1000 },
      ]),
    ).toBe(2750);
  });

  it('is 0 for no lines', () => {
    expect(totalOf([])).toBe(0);
  });
});
