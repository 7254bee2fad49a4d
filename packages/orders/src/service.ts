import { randomUUID } from 'node:crypto';
import { ModuleError, type PageResult } from '@shop/contract-kit';
import type { InventoryApi } from '@shop/inventory-contract';
import {
  OrderCancelled,
  OrderConfirmed,
  OrderCreated,
  OrderDelivered,
  OrderShipped,
  OrdersErrors,
  type CreateOrderCommand,
  type CreateOrderResult,
  type Order,
  type OrdersApi,
} from '@shop/orders-contract';
import { fingerprint, type ModuleDatabase, type Tx, type UnitOfWork } from '@shop/platform';
import { assertDistinctProducts, priceLines, targetOf, totalOf, transition, type Action } from './domain.ts';
import * as repo from './repository.ts';

/** The orders module's interface, in process. */
export class OrdersService implements OrdersApi {
  readonly #db: ModuleDatabase;
  readonly #uow: UnitOfWork;
  readonly #inventory: InventoryApi;

  constructor(deps: { db: ModuleDatabase; uow: UnitOfWork; inventory: InventoryApi }) {
    this.#db = deps.db;
    this.#uow = deps.uow;
    this.#inventory = deps.inventory;
  }

  async createOrder(command: CreateOrderCommand): Promise<CreateOrderResult> {
    assertDistinctProducts(command.items);
    const customerId = command.customer_id.toLowerCase();
    const hash = fingerprint({ customer_id: customerId, items: command.items.map((i) => ({ ...i, product_id: i.product_id.toLowerCase() })) });
    const request = { customer_id: customerId, idempotency_key: command.idempotency_key, request_hash: hash };
    const earlier = await repo.findByKey(this.#db.kysely, request);
    if (earlier) return this.#replay(earlier);

    // Prices come from the catalog, through inventory's interface: never from the client.
    const products = await this.#inventory.getProducts(command.items.map((item) => item.product_id));
    const lines = priceLines(command.items, new Map(products.map((product) => [product.id.toLowerCase(), product.price_cents])));
    const id = randomUUID();
    const total = totalOf(lines);
    const { created, row } = await this.#uow.run(async (tx) => {
      const result = await repo.createOrder(tx.db, { ...request, id, total_cents: total, lines });
      if (result.created) tx.publish(OrderCreated, { order_id: id, customer_id: customerId, items: lines, total_cents: total });
      return result;
    });
    if (created) return { order: repo.toOrder(row, lines), created: true };
    // A racing request with the same key committed first: answer with its order.
    return this.#replay(row);
  }

  async getOrder(id: string): Promise<Order> {
    const order = await repo.findOrderWithItems(this.#db.kysely, id);
    if (!order) throw notFound(id);
    return order;
  }

  async listOrdersForCustomer(customerId: string, page: number): Promise<PageResult<Order>> {
    return repo.listForCustomer(this.#db.kysely, customerId.toLowerCase(), page);
  }

  cancelOrder(id: string, reason: string): Promise<Order> {
    return this.#move(id, 'cancel', reason);
  }

  confirmOrder(id: string): Promise<Order> {
    return this.#move(id, 'confirm');
  }

  shipOrder(id: string): Promise<Order> {
    return this.#move(id, 'ship');
  }

  deliverOrder(id: string): Promise<Order> {
    return this.#move(id, 'deliver');
  }

  /** Cancels a pending or confirmed order for the saga; a no-op (undefined) in any other state. */
  async cancelIfOpen(tx: Tx, id: string, reason: string): Promise<Order | undefined> {
    const row = await repo.findOrder(tx.db, id, true);
    if (!row || (row.status !== 'pending' && row.status !== 'confirmed')) return undefined;
    return this.#apply(tx, row, 'cancel', reason);
  }

  /** Confirms a pending order for the saga; a no-op (undefined) in any other state. */
  async confirmIfPending(tx: Tx, id: string): Promise<Order | undefined> {
    const row = await repo.findOrder(tx.db, id, true);
    if (!row || row.status !== 'pending') return undefined;
    return this.#apply(tx, row, 'confirm');
  }

  /** The order a request with the same key stored (its fingerprint already checked). */
  async #replay(earlier: repo.StoredOrder): Promise<CreateOrderResult> {
    return { order: await repo.withItems(this.#db.kysely, earlier), created: false };
  }

  /** One state change: row locked, rule checked, status written and event published together. */
  #move(id: string, action: Action, reason?: string): Promise<Order> {
    return this.#uow.run(async (tx) => {
      const row = await repo.findOrder(tx.db, id, true);
      if (!row) throw notFound(id);
      // Confirming twice (a redelivered PaymentCaptured) is not an error.
      if (action === 'confirm' && row.status === targetOf('confirm')) return repo.withItems(tx.db, row);
      return this.#apply(tx, row, action, reason);
    });
  }

  async #apply(tx: Tx, row: repo.StoredOrder, action: Action, reason?: string): Promise<Order> {
    const next = transition(row.id, row.status, action);
    const updated = await repo.updateStatus(tx.db, row.id, next, action === 'cancel' ? (reason ?? 'requested') : null);
    const order = await repo.withItems(tx.db, updated);
    const base = { order_id: order.id, customer_id: order.customer_id };
    if (action === 'confirm') tx.publish(OrderConfirmed, { ...base, total_cents: order.total_cents, items: order.items });
    if (action === 'cancel') {
      tx.publish(OrderCancelled, { ...base, reason: order.cancel_reason ?? 'requested', previous_status: row.status, items: order.items, total_cents: order.total_cents });
    }
    if (action === 'ship') tx.publish(OrderShipped, { ...base, items: order.items, total_cents: order.total_cents });
    if (action === 'deliver') {
      tx.publish(OrderDelivered, { ...base, items: order.items.map(({ product_id, quantity }) => ({ product_id, quantity })) });
    }
    return order;
  }
}

function notFound(id: string): ModuleError {
  return new ModuleError(OrdersErrors.orderNotFound, `no order with id ${id}`);
}
