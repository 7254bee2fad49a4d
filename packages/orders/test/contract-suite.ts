import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { InventoryApi } from '@shop/inventory-contract';
import { OrdersAccess, OrdersErrors, type Order, type OrdersApi } from '@shop/orders-contract';
import type { PaymentsApi } from '@shop/payments-contract';
import { RFC3339, PlatformErrors, eventually, expectModuleError, type ContractTarget } from '@shop/platform/testing';

/** The interfaces the orders suite uses: orders', inventory's to stock the catalog, payments' to pay. */
export interface OrdersContractApis {
  readonly orders: OrdersApi;
  readonly inventory: InventoryApi;
  readonly payments: PaymentsApi;
}

/**
 * `getOrder` of an unknown id throws `order_not_found` (404), naming the id, with no extensions.
 * Exported on its own so a test can show the suite catching a client that loses the error.
 */
export async function checkOrderNotFound(orders: OrdersApi): Promise<void> {
  const id = randomUUID();
  await expectModuleError(orders.getOrder(id), OrdersErrors.orderNotFound, { detail: new RegExp(`no order with id ${id}`) });
}

/**
 * The contract of `OrdersApi`, written once and run against every implementation of it: the
 * module in process, and its HTTP client talking to a process that hosts it.
 */
export function ordersContractSuite(name: string, target: () => ContractTarget<OrdersContractApis>): void {
  describe(`OrdersApi contract (${name})`, () => {
    const orders = () => target().apis.orders;
    const inventory = () => target().apis.inventory;

    async function product(price_cents = 1_250, stock_quantity = 100) {
      const { product } = await inventory().createProduct({ sku: `CT-ORD-${randomUUID().slice(0, 13)}`, name: 'Contract tea', price_cents, stock_quantity });
      return product;
    }

    async function pendingOrder(quantity = 1) {
      const item = await product();
      const customer_id = randomUUID();
      const { order } = await orders().createOrder({ customer_id, items: [{ product_id: item.id, quantity }], idempotency_key: randomUUID() });
      return { order, item, customer_id };
    }

    /**
     * Whether this target may call `confirmOrder`: in process, yes; over HTTP, only if the
     * contract opens it to some caller (it opens it to none: orders confirms on PaymentCaptured).
     */
    const confirmable = () => !target().remote || (OrdersAccess.confirmOrder.callers as readonly string[]).length > 0;

    /** Confirms a pending order: directly where the target may, otherwise by paying for it, as the system does. */
    async function confirm(id: string): Promise<void> {
      if (confirmable()) {
        await orders().confirmOrder(id);
        return;
      }
      await target().apis.payments.processPayment({ order_id: id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() });
      await eventually(async () => expect((await orders().getOrder(id)).status).toBe('confirmed'));
    }

    /** An order whose stock inventory has reserved (so later steps don't race the reservation). */
    async function reservedOrder(quantity = 1) {
      const made = await pendingOrder(quantity);
      await eventually(async () => expect((await inventory().listReservations(made.order.id)).map((r) => r.status)).toEqual(['active']));
      return made;
    }

    it('createOrder prices the items from the catalog and answers the pending order (created: true)', async () => {
      const a = await product(1_250);
      const b = await product(300);
      const customer_id = randomUUID();
      const result = await orders().createOrder({
        customer_id,
        items: [
          { product_id: a.id, quantity: 2 },
          { product_id: b.id, quantity: 3 },
        ],
        idempotency_key: randomUUID(),
      });
      expect(result).toEqual({
        created: true,
        order: {
          id: expect.any(String),
          customer_id,
          status: 'pending',
          items: [
            { product_id: a.id, quantity: 2, unit_price_cents: 1_250 },
            { product_id: b.id, quantity: 3, unit_price_cents: 300 },
          ],
          total_cents: 3_400,
          cancel_reason: null,
          created_at: expect.stringMatching(RFC3339),
          updated_at: expect.stringMatching(RFC3339),
        },
      });
      expect(await orders().getOrder(result.order.id)).toEqual(result.order);
    });

    it('createOrder with ids in upper case answers them in lower case', async () => {
      const item = await product();
      const customer_id = randomUUID();
      const { order } = await orders().createOrder({
        customer_id: customer_id.toUpperCase(),
        items: [{ product_id: item.id.toUpperCase(), quantity: 1 }],
        idempotency_key: randomUUID(),
      });
      expect(order).toMatchObject({ customer_id, items: [{ product_id: item.id, quantity: 1, unit_price_cents: item.price_cents }] });
    });

    it('createOrder replayed with the same key and payload answers the first order (created: false) and makes no second', async () => {
      const item = await product();
      const command = { customer_id: randomUUID(), items: [{ product_id: item.id, quantity: 2 }], idempotency_key: randomUUID() };
      const first = await orders().createOrder(command);
      const again = await orders().createOrder(command);
      expect(again).toEqual({ created: false, order: first.order });
      expect((await orders().listOrdersForCustomer(command.customer_id, 0)).items.map((o) => o.id)).toEqual([first.order.id]);
    });

    it('createOrder retried concurrently with one key makes one order', async () => {
      const item = await product();
      const command = { customer_id: randomUUID(), items: [{ product_id: item.id, quantity: 1 }], idempotency_key: randomUUID() };
      const results = await Promise.all(Array.from({ length: 5 }, () => orders().createOrder(command)));
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(results.map((result) => result.order.id)).size).toBe(1);
      expect((await orders().listOrdersForCustomer(command.customer_id, 0)).items).toHaveLength(1);
    });

    it('createOrder with a used key and another payload throws idempotency_key_reused', async () => {
      const item = await product();
      const command = { customer_id: randomUUID(), items: [{ product_id: item.id, quantity: 2 }], idempotency_key: randomUUID() };
      await orders().createOrder(command);
      await expectModuleError(orders().createOrder({ ...command, items: [{ product_id: item.id, quantity: 3 }] }), OrdersErrors.idempotencyKeyReused);
    });

    it("createOrder: one customer's key does not replay another customer's order", async () => {
      const item = await product();
      const idempotency_key = randomUUID();
      const mine = await orders().createOrder({ customer_id: randomUUID(), items: [{ product_id: item.id, quantity: 1 }], idempotency_key });
      const theirs = await orders().createOrder({ customer_id: randomUUID(), items: [{ product_id: item.id, quantity: 1 }], idempotency_key });
      expect(theirs.created).toBe(true);
      expect(theirs.order.id).not.toBe(mine.order.id);
    });

    it('createOrder throws product_not_found (422) naming exactly the unknown products in product_ids', async () => {
      const known = await product();
      const missing = randomUUID();
      const customer_id = randomUUID();
      await expectModuleError(
        orders().createOrder({
          customer_id,
          items: [
            { product_id: known.id, quantity: 1 },
            { product_id: missing, quantity: 1 },
          ],
          idempotency_key: randomUUID(),
        }),
        OrdersErrors.productNotFound,
        { detail: new RegExp(`unknown product: ${missing}`), extensions: { product_ids: [missing] } },
      );
      expect(await orders().listOrdersForCustomer(customer_id, 0)).toEqual({ items: [], has_more: false });
    });

    it('createOrder naming a product twice throws invalid_input naming the line', async () => {
      const item = await product();
      await expectModuleError(
        orders().createOrder({
          customer_id: randomUUID(),
          items: [
            { product_id: item.id, quantity: 1 },
            { product_id: item.id, quantity: 2 },
          ],
          idempotency_key: randomUUID(),
        }),
        PlatformErrors.invalidInput,
        { detail: /^body\.items\[1\]\.product_id: /, extensions: { errors: [{ field: 'body.items[1].product_id', message: expect.any(String) }] } },
      );
    });

    it('an order the stock cannot cover is cancelled by the saga with cancel_reason insufficient_stock', async () => {
      const item = await product(100, 1);
      const { order } = await orders().createOrder({ customer_id: randomUUID(), items: [{ product_id: item.id, quantity: 2 }], idempotency_key: randomUUID() });
      await eventually(async () => expect(await orders().getOrder(order.id)).toMatchObject({ status: 'cancelled', cancel_reason: 'insufficient_stock' }));
    });

    it('getOrder throws order_not_found for an unknown id', async () => {
      await checkOrderNotFound(orders());
    });

    it("listOrdersForCustomer pages a customer's orders newest first, and nobody else's", async () => {
      const item = await product();
      const customer_id = randomUUID();
      const made: Order[] = [];
      for (let i = 0; i < 3; i += 1) {
        made.push((await orders().createOrder({ customer_id, items: [{ product_id: item.id, quantity: 1 }], idempotency_key: randomUUID() })).order);
      }
      await orders().createOrder({ customer_id: randomUUID(), items: [{ product_id: item.id, quantity: 1 }], idempotency_key: randomUUID() });
      const page = await orders().listOrdersForCustomer(customer_id, 0);
      expect(Object.keys(page).sort()).toEqual(['has_more', 'items']);
      expect(page.has_more).toBe(false);
      // Compared by id and shape: the saga may have moved them on (reservations) meanwhile.
      expect(page.items.map((order) => order.id)).toEqual(made.map((order) => order.id).reverse());
      expect(page.items[0]).toMatchObject({ customer_id, items: made[2]!.items, total_cents: made[2]!.total_cents });
      expect(await orders().listOrdersForCustomer(customer_id.toUpperCase(), 0)).toEqual(page);
      expect(await orders().listOrdersForCustomer(customer_id, 1)).toEqual({ items: [], has_more: false });
      expect(await orders().listOrdersForCustomer(randomUUID(), 0)).toEqual({ items: [], has_more: false });
    });

    it('cancelOrder cancels a pending order with the reason; cancelling again throws invalid_state_transition', async () => {
      const { order } = await reservedOrder();
      const cancelled = await orders().cancelOrder(order.id, 'changed my mind');
      expect(cancelled).toEqual({ ...order, status: 'cancelled', cancel_reason: 'changed my mind', updated_at: expect.stringMatching(RFC3339) });
      expect(await orders().getOrder(order.id)).toEqual(cancelled);
      await expectModuleError(orders().cancelOrder(order.id, 'again'), OrdersErrors.invalidStateTransition, {
        detail: new RegExp(`order ${order.id} is cancelled; it cannot be cancelled`),
        extensions: { current_status: 'cancelled' },
      });
      // The saga releases what was reserved.
      await eventually(async () => expect((await inventory().listReservations(order.id)).map((r) => r.status)).toEqual(['released']));
    });

    it('cancelOrder cancels a confirmed order', async () => {
      const { order } = await reservedOrder();
      await confirm(order.id);
      expect(await orders().cancelOrder(order.id, 'too late?')).toMatchObject({ status: 'cancelled', cancel_reason: 'too late?' });
    });

    it('cancelOrder, confirmOrder, shipOrder and deliverOrder throw order_not_found for an unknown order', async () => {
      const id = randomUUID();
      const detail = new RegExp(`no order with id ${id}`);
      await expectModuleError(orders().cancelOrder(id, 'x'), OrdersErrors.orderNotFound, { detail });
      if (confirmable()) await expectModuleError(orders().confirmOrder(id), OrdersErrors.orderNotFound, { detail });
      await expectModuleError(orders().shipOrder(id), OrdersErrors.orderNotFound, { detail });
      await expectModuleError(orders().deliverOrder(id), OrdersErrors.orderNotFound, { detail });
    });

    it('confirmOrder is refused to every caller over HTTP (forbidden, naming caller and method); the order stays pending', async () => {
      if (confirmable()) return; // in process, the module's own callers may confirm (the tests below)
      const { order } = await reservedOrder();
      await expectModuleError(orders().confirmOrder(order.id), PlatformErrors.forbidden, { detail: /^caller edge may not call orders\.confirmOrder$/ });
      expect((await orders().getOrder(order.id)).status).toBe('pending');
    });

    it('confirmOrder moves pending → confirmed, and is a no-op on a confirmed order', async () => {
      if (!confirmable()) return; // refused over HTTP: see above
      const { order } = await reservedOrder();
      const confirmed = await orders().confirmOrder(order.id);
      expect(confirmed).toEqual({ ...order, status: 'confirmed', updated_at: expect.stringMatching(RFC3339) });
      expect(await orders().confirmOrder(order.id)).toEqual(confirmed);
      expect(await orders().getOrder(order.id)).toEqual(confirmed);
    });

    it('confirmOrder on a cancelled order throws invalid_state_transition with current_status', async () => {
      if (!confirmable()) return; // refused over HTTP
      const { order } = await reservedOrder();
      await orders().cancelOrder(order.id, 'gone');
      await expectModuleError(orders().confirmOrder(order.id), OrdersErrors.invalidStateTransition, {
        detail: new RegExp(`order ${order.id} is cancelled; it cannot be confirmed`),
        extensions: { current_status: 'cancelled' },
      });
    });

    it('shipOrder needs a confirmed order, deliverOrder a shipped one; then neither goes back nor cancels', async () => {
      const { order } = await reservedOrder(2);
      await expectModuleError(orders().shipOrder(order.id), OrdersErrors.invalidStateTransition, {
        detail: new RegExp(`order ${order.id} is pending; it cannot be shipped`),
        extensions: { current_status: 'pending' },
      });
      await expectModuleError(orders().deliverOrder(order.id), OrdersErrors.invalidStateTransition, { extensions: { current_status: 'pending' } });
      await confirm(order.id);
      await expectModuleError(orders().deliverOrder(order.id), OrdersErrors.invalidStateTransition, {
        detail: new RegExp(`order ${order.id} is confirmed; it cannot be delivered`),
        extensions: { current_status: 'confirmed' },
      });
      const shipped = await orders().shipOrder(order.id);
      expect(shipped).toMatchObject({ id: order.id, status: 'shipped', cancel_reason: null, items: order.items, total_cents: order.total_cents });
      await expectModuleError(orders().shipOrder(order.id), OrdersErrors.invalidStateTransition, { extensions: { current_status: 'shipped' } });
      await expectModuleError(orders().cancelOrder(order.id, 'no'), OrdersErrors.invalidStateTransition, { extensions: { current_status: 'shipped' } });
      if (confirmable()) await expectModuleError(orders().confirmOrder(order.id), OrdersErrors.invalidStateTransition, { extensions: { current_status: 'shipped' } });
      // The saga commits the reservation: the stock leaves for good.
      await eventually(async () => expect((await inventory().listReservations(order.id)).map((r) => r.status)).toEqual(['committed']));

      const delivered = await orders().deliverOrder(order.id);
      expect(delivered).toMatchObject({ id: order.id, status: 'delivered' });
      expect(await orders().getOrder(order.id)).toEqual(delivered);
      await expectModuleError(orders().deliverOrder(order.id), OrdersErrors.invalidStateTransition, {
        detail: new RegExp(`order ${order.id} is delivered; it cannot be delivered`),
        extensions: { current_status: 'delivered' },
      });
      await expectModuleError(orders().cancelOrder(order.id, 'no'), OrdersErrors.invalidStateTransition, { extensions: { current_status: 'delivered' } });
    });
  });
}
