import { ModuleError } from '@shop/contract-kit';
import { OrdersErrors, type OrderLineInput, type OrderStatus } from '@shop/orders-contract';
import { invalidInput } from '@shop/platform';

/** Pure order rules, free of I/O. */

export type Action = 'confirm' | 'cancel' | 'ship' | 'deliver';

/** pending → confirmed → shipped → delivered, and pending|confirmed → cancelled. */
const TRANSITIONS: Record<Action, { from: readonly OrderStatus[]; to: OrderStatus }> = {
  confirm: { from: ['pending'], to: 'confirmed' },
  cancel: { from: ['pending', 'confirmed'], to: 'cancelled' },
  ship: { from: ['confirmed'], to: 'shipped' },
  deliver: { from: ['shipped'], to: 'delivered' },
};

export function targetOf(action: Action): OrderStatus {
  return TRANSITIONS[action].to;
}

/** The status after `action`, or `invalid_state_transition`. */
export function transition(id: string, from: OrderStatus, action: Action): OrderStatus {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(from)) {
    throw new ModuleError(OrdersErrors.invalidStateTransition, `order ${id} is ${from}; it cannot be ${rule.to}`, {
      current_status: from,
    });
  }
  return rule.to;
}

/** One line per product: a product named twice is a client mistake worth saying. */
export function assertDistinctProducts(items: readonly OrderLineInput[]): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const id = item.product_id.toLowerCase();
    if (seen.has(id)) throw invalidInput(`body.items[${index}].product_id`, 'names a product already in the order; raise its quantity instead');
    seen.add(id);
  });
}

export interface PricedLine extends OrderLineInput {
  unit_price_cents: number;
}

/** Prices each line from the catalog; `product_not_found` names what the catalog lacks. */
export function priceLines(items: readonly OrderLineInput[], prices: ReadonlyMap<string, number>): PricedLine[] {
  const missing = items.map((item) => item.product_id).filter((id) => !prices.has(id.toLowerCase()));
  if (missing.length > 0) {
    throw new ModuleError(OrdersErrors.productNotFound, `unknown product: ${missing.join(', ')}`, { product_ids: missing });
  }
  return items.map((item) => ({ ...item, product_id: item.product_id.toLowerCase(), unit_price_cents: prices.get(item.product_id.toLowerCase())! }));
}

export function totalOf(lines: readonly PricedLine[]): number {
  return lines.reduce((sum, line) => sum + line.quantity * line.unit_price_cents, 0);
}
