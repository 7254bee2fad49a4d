import { randomUUID } from 'node:crypto';
import { ModuleError, type PageResult } from '@shop/contract-kit';
import { OrdersErrors, type CreateOrderResult, type Order, type OrderStatus, type OrdersApi } from '@shop/orders-contract';

/**
 * An in-memory stand-in for the orders module, through its contract only: payments' tests may
 * not import orders' implementation. Only what payments calls (getOrder) does anything.
 */
export class FakeOrders implements OrdersApi {
  readonly #orders = new Map<string, Order>();
  /** How many times payments asked for an order. */
  reads = 0;

  /** A pending order of a new customer (or the one given), for `total_cents`. */
  add(options: { total_cents?: number; customer_id?: string; status?: OrderStatus } = {}): Order {
    const now = new Date().toISOString();
    const order: Order = {
      id: randomUUID(),
      customer_id: options.customer_id ?? randomUUID(),
      status: options.status ?? 'pending',
      items: [{ product_id: randomUUID(), quantity: 1, unit_price_cents: options.total_cents ?? 2_500 }],
      total_cents: options.total_cents ?? 2_500,
      cancel_reason: null,
      created_at: now,
      updated_at: now,
    };
    this.#orders.set(order.id, order);
    return order;
  }

  setStatus(id: string, status: OrderStatus): void {
    const order = this.#orders.get(id);
    if (!order) throw new Error(`no fake order ${id}`);
    this.#orders.set(id, { ...order, status });
  }

  async getOrder(id: string): Promise<Order> {
    this.reads++;
    const order = this.#orders.get(id.toLowerCase());
    if (!order) throw new ModuleError(OrdersErrors.orderNotFound, `no order with id ${id}`);
    return structuredClone(order);
  }

  createOrder(): Promise<CreateOrderResult> {
    return unused('createOrder');
  }
  listOrdersForCustomer(): Promise<PageResult<Order>> {
    return unused('listOrdersForCustomer');
  }
  cancelOrder(): Promise<Order> {
    return unused('cancelOrder');
  }
  confirmOrder(): Promise<Order> {
    return unused('confirmOrder');
  }
  shipOrder(): Promise<Order> {
    return unused('shipOrder');
  }
  deliverOrder(): Promise<Order> {
    return unused('deliverOrder');
  }
}

async function unused(method: string): Promise<never> {
  throw new Error(`payments does not call OrdersApi.${method}`);
}
