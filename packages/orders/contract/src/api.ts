import type { PageResult } from '@shop/contract-kit';
import type { Order, OrderLineInput } from './dto.ts';

export interface CreateOrderCommand {
  customer_id: string;
  items: OrderLineInput[];
  /** Required: a retry with the same key and payload returns the first order. */
  idempotency_key: string;
}

export interface CreateOrderResult {
  order: Order;
  /** false when an earlier request with the same idempotency key created it. */
  created: boolean;
}

/**
 * Everything another module may ask of orders. Implemented in process by the module and over
 * HTTP by its client: both throw the same `ModuleError` codes (see `OrdersErrors`).
 * Ownership (a customer sees its own orders only) is enforced at the HTTP edge, not here:
 * callers of this interface are trusted modules.
 */
export interface OrdersApi {
  /**
   * Prices come from the catalog (inventory), never from the caller. Throws
   * `product_not_found` (422) for an unknown product, `idempotency_key_reused` when the key
   * was used with another payload. Safe under racing retries: one key makes one order.
   */
  createOrder(command: CreateOrderCommand): Promise<CreateOrderResult>;
  /** Throws `order_not_found`. */
  getOrder(id: string): Promise<Order>;
  /** A customer's orders, newest first, 20 a page. */
  listOrdersForCustomer(customerId: string, page: number): Promise<PageResult<Order>>;
  /** pending|confirmed → cancelled; otherwise `invalid_state_transition`. */
  cancelOrder(id: string, reason: string): Promise<Order>;
  /** pending → confirmed (called when payment is captured). Idempotent on a confirmed order. */
  confirmOrder(id: string): Promise<Order>;
  /** confirmed → shipped. */
  shipOrder(id: string): Promise<Order>;
  /** shipped → delivered. */
  deliverOrder(id: string): Promise<Order>;
}
