/** Pure stock rules, free of I/O. */

export interface StockLevel {
  id: string;
  stock_quantity: number;
  reserved_quantity: number;
}

export interface Line {
  product_id: string;
  quantity: number;
}

export interface Shortage {
  product_id: string;
  requested: number;
  available: number;
}

/** Most a product may hold on hand (keeps every sum inside a 32-bit column). */
export const MAX_STOCK = 1_000_000_000;

export function available(level: StockLevel): number {
  return level.stock_quantity - level.reserved_quantity;
}

/** Lines of one order with the same product added up, in product id order (the lock order). */
export function mergeLines(lines: readonly Line[]): Line[] {
  const totals = new Map<string, number>();
  for (const line of lines) totals.set(line.product_id, (totals.get(line.product_id) ?? 0) + line.quantity);
  return [...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([product_id, quantity]) => ({ product_id, quantity }));
}

/** All or nothing: the shortages that forbid reserving these lines (none means reserve all). */
export function shortagesFor(levels: readonly StockLevel[], lines: readonly Line[]): Shortage[] {
  const byId = new Map(levels.map((level) => [level.id, level]));
  const shortages: Shortage[] = [];
  for (const line of lines) {
    const level = byId.get(line.product_id);
    const free = level ? available(level) : 0;
    if (free < line.quantity) shortages.push({ product_id: line.product_id, requested: line.quantity, available: free });
  }
  return shortages;
}

/**
 * Orders served in turn against the same stock, as if each were reserved after the one before
 * it: each holds all its lines or nothing (then its shortages say why).
 */
export function reserveInTurn<T extends { readonly lines: readonly Line[] }>(levels: readonly StockLevel[], orders: readonly T[]): Array<{ order: T; shortages: Shortage[] }> {
  const current = levels.map((level) => ({ ...level }));
  const byId = new Map(current.map((level) => [level.id, level]));
  return orders.map((order) => {
    const shortages = shortagesFor(current, order.lines);
    if (shortages.length === 0) for (const line of order.lines) byId.get(line.product_id)!.reserved_quantity += line.quantity;
    return { order, shortages };
  });
}

/** Whether stock may move by `delta`: never below what is reserved, never above the maximum. */
export function stockAfter(level: StockLevel, delta: number): { ok: true; stock: number } | { ok: false; reason: 'below_reserved' | 'above_max' } {
  const stock = level.stock_quantity + delta;
  if (stock < level.reserved_quantity) return { ok: false, reason: 'below_reserved' };
  if (stock > MAX_STOCK) return { ok: false, reason: 'above_max' };
  return { ok: true, stock };
}
