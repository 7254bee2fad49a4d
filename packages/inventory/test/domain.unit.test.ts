import { describe, expect, it } from 'vitest';
import { MAX_STOCK, mergeLines, reserveInTurn, shortagesFor, stockAfter } from '../src/domain.ts';

describe('mergeLines', () => {
  it('adds up lines of the same product and sorts by product id (the lock order)', () => {
    expect(
      mergeLines([
        { product_id: 'c', quantity: 1 },
        { product_id: 'a', quantity: 2 },
        { product_id: 'c', quantity: 4 },
        { product_id: 'b', quantity: 3 },
      ]),
    ).toEqual([
      { product_id: 'a', quantity: 2 },
      { product_id: 'b', quantity: 3 },
      { product_id: 'c', quantity: 5 },
    ]);
  });

  it('is empty for no lines', () => {
    expect(mergeLines([])).toEqual([]);
  });
});

describe('shortagesFor', () => {
  const levels = [
    { id: 'a', stock_quantity: 10, reserved_quantity: 4 }, // 6 available
    { id: 'b', stock_quantity: 5, reserved_quantity: 0 }, // 5 available
  ];

  it('is empty when every line fits in what is available', () => {
    expect(shortagesFor(levels, [{ product_id: 'a', quantity: 6 }, { product_id: 'b', quantity: 5 }])).toEqual([]);
  });

  it('counts available as stock minus reserved, not stock', () => {
    // 7 <= stock (10) but > available (6): a shortage.
    expect(shortagesFor(levels, [{ product_id: 'a', quantity: 7 }])).toEqual([{ product_id: 'a', requested: 7, available: 6 }]);
  });

  it('reports every short line, not only the first, and leaves out lines that fit', () => {
    expect(
      shortagesFor(levels, [
        { product_id: 'a', quantity: 7 },
        { product_id: 'b', quantity: 1 },
        { product_id: 'zz', quantity: 1 },
      ]),
    ).toEqual([
      { product_id: 'a', requested: 7, available: 6 },
      { product_id: 'zz', requested: 1, available: 0 },
    ]);
  });

  it('treats an unknown product as having nothing available', () => {
    expect(shortagesFor([], [{ product_id: 'nope', quantity: 1 }])).toEqual([{ product_id: 'nope', requested: 1, available: 0 }]);
  });
});

describe('stockAfter', () => {
  const level = { id: 'a', stock_quantity: 10, reserved_quantity: 4 };

  it('allows a move that keeps stock at or above what is reserved', () => {
    expect(stockAfter(level, -6)).toEqual({ ok: true, stock: 4 });
    expect(stockAfter(level, 5)).toEqual({ ok: true, stock: 15 });
  });

  it('refuses to go below what is reserved', () => {
    expect(stockAfter(level, -7)).toEqual({ ok: false, reason: 'below_reserved' });
  });

  it('allows exactly the maximum and refuses beyond it', () => {
    expect(stockAfter(level, MAX_STOCK - 10)).toEqual({ ok: true, stock: MAX_STOCK });
    expect(stockAfter(level, MAX_STOCK - 9)).toEqual({ ok: false, reason: 'above_max' });
  });
});

describe('reserveInTurn', () => {
  const levels = [
    { id: 'a', stock_quantity: 5, reserved_quantity: 1 },
    { id: 'b', stock_quantity: 3, reserved_quantity: 0 },
  ];

  it('serves each order against what the ones before it left, all or nothing', () => {
    const orders = [
      { name: 'first', lines: [{ product_id: 'a', quantity: 3 }] },
      { name: 'too much of a', lines: [{ product_id: 'a', quantity: 2 }, { product_id: 'b', quantity: 1 }] },
      // b is untouched by the refused order above: all or nothing.
      { name: 'last', lines: [{ product_id: 'a', quantity: 1 }, { product_id: 'b', quantity: 3 }] },
    ];
    expect(reserveInTurn(levels, orders).map(({ order, shortages }) => [order.name, shortages])).toEqual([
      ['first', []],
      ['too much of a', [{ product_id: 'a', requested: 2, available: 1 }]],
      ['last', []],
    ]);
  });

  it('leaves the levels it was given alone', () => {
    reserveInTurn(levels, [{ lines: [{ product_id: 'a', quantity: 4 }] }]);
    expect(levels[0]).toEqual({ id: 'a', stock_quantity: 5, reserved_quantity: 1 });
  });
});
