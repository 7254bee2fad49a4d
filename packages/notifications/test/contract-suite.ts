import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { InventoryApi } from '@shop/inventory-contract';
import { NotificationsErrors, type NotificationsApi, type PushSubscription } from '@shop/notifications-contract';
import type { OrdersApi } from '@shop/orders-contract';
import { RFC3339, PlatformErrors, eventually, expectModuleError, type ContractTarget } from '@shop/platform/testing';

/** The interfaces the notifications suite uses: notifications', and orders', inventory's and payments' to raise order events. */
export interface NotificationsContractApis {
  readonly notifications: NotificationsApi;
  readonly orders: OrdersApi;
  readonly inventory: InventoryApi;
  /** The one PaymentsApi method the suite uses (notifications does not depend on payments' contract). */
  readonly payments: { processPayment(command: { order_id: string; payment_method: string; idempotency_key: string }): Promise<unknown> };
}

/** A subscription as a browser makes one: a real P-256 key, a 16-byte secret (never sent to). */
function pushSubscription(): PushSubscription {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint: `https://push.example.test/send/${randomUUID()}`,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

/**
 * The contract of `NotificationsApi`, written once and run against every implementation of it:
 * the module in process, and its HTTP client talking to a process that hosts it.
 */
export function notificationsContractSuite(name: string, target: () => ContractTarget<NotificationsContractApis>): void {
  describe(`NotificationsApi contract (${name})`, () => {
    const notifications = () => target().apis.notifications;

    /** An order of the customer's, confirmed and then cancelled: two order events. */
    async function confirmedThenCancelled(customerId: string) {
      const { product } = await target().apis.inventory.createProduct({ sku: `CT-NTF-${randomUUID().slice(0, 13)}`, name: 'Contract lamp', price_cents: 900, stock_quantity: 5 });
      const { order } = await target().apis.orders.createOrder({ customer_id: customerId, items: [{ product_id: product.id, quantity: 1 }], idempotency_key: randomUUID() });
      // Paid, as the system confirms an order (no process may call confirmOrder remotely).
      await target().apis.payments.processPayment({ order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() });
      await eventually(async () => expect((await notifications().listNotifications(customerId, 0)).items).toHaveLength(1));
      await target().apis.orders.cancelOrder(order.id, 'contract test');
      return order;
    }

    it('setContact stores an email and answers the contact; getContact answers the same', async () => {
      const customer = randomUUID();
      const contact = await notifications().setContact(customer, { email: 'buyer@example.test' });
      expect(contact).toEqual({ customer_id: customer, email: 'buyer@example.test', push_subscription: null, updated_at: expect.stringMatching(RFC3339) });
      expect(await notifications().getContact(customer)).toEqual(contact);
    });

    it('setContact stores a Web Push subscription as given', async () => {
      const customer = randomUUID();
      const subscription = pushSubscription();
      const contact = await notifications().setContact(customer, { email: null, push_subscription: subscription });
      expect(contact).toEqual({ customer_id: customer, email: null, push_subscription: subscription, updated_at: expect.stringMatching(RFC3339) });
      expect(await notifications().getContact(customer)).toEqual(contact);
    });

    it('setContact replaces the settings: a channel left out is switched off; ids are answered in lower case', async () => {
      const customer = randomUUID();
      await notifications().setContact(customer, { email: 'first@example.test', push_subscription: pushSubscription() });
      const replaced = await notifications().setContact(customer.toUpperCase(), { email: 'second@example.test' });
      expect(replaced).toMatchObject({ customer_id: customer, email: 'second@example.test', push_subscription: null });
      const off = await notifications().setContact(customer, {});
      expect(off).toMatchObject({ customer_id: customer, email: null, push_subscription: null });
      expect(await notifications().getContact(customer.toUpperCase())).toEqual(off);
    });

    it('setContact with a push key that is not a P-256 point throws invalid_input naming the field', async () => {
      const customer = randomUUID();
      const subscription = pushSubscription();
      const bad = { ...subscription, keys: { ...subscription.keys, p256dh: Buffer.alloc(65, 7).toString('base64url') } };
      await expectModuleError(notifications().setContact(customer, { push_subscription: bad }), PlatformErrors.invalidInput, {
        detail: /^body\.push_subscription\.keys\.p256dh: /,
        extensions: { errors: [{ field: 'body.push_subscription.keys.p256dh', message: expect.any(String) }] },
      });
      await expectModuleError(notifications().getContact(customer), NotificationsErrors.contactNotFound);
    });

    it('getContact throws contact_not_found for a customer who never set any', async () => {
      const customer = randomUUID();
      await expectModuleError(notifications().getContact(customer), NotificationsErrors.contactNotFound, { detail: new RegExp(`customer ${customer} has no contact settings`) });
    });

    it('getPushPublicKey answers the VAPID public key (an uncompressed P-256 point, base64url), or null', async () => {
      const key = await notifications().getPushPublicKey();
      if (key !== null) {
        expect(key).toMatch(/^[A-Za-z0-9_-]+$/);
        const point = Buffer.from(key, 'base64url');
        expect([point.length, point[0]]).toEqual([65, 0x04]);
      }
      expect(await notifications().getPushPublicKey()).toBe(key);
    });

    it('listNotifications answers the notifications order events made, newest first', async () => {
      const customer = randomUUID();
      const order = await confirmedThenCancelled(customer);
      const page = await eventually(async () => {
        const found = await notifications().listNotifications(customer, 0);
        expect(found.items).toHaveLength(2);
        return found;
      });
      // No contact set: one notification per event, recorded as skipped.
      const expected = (kind: string) => ({
        id: expect.any(String),
        customer_id: customer,
        channel: 'none',
        kind,
        order_id: order.id,
        status: 'skipped',
        attempts: 0,
        detail: expect.any(String),
        created_at: expect.stringMatching(RFC3339),
      });
      expect(page).toEqual({ items: [expected('order_cancelled'), expected('order_confirmed')], has_more: false });
      expect(await notifications().listNotifications(customer.toUpperCase(), 0)).toEqual(page);
      expect(await notifications().listNotifications(customer, 1)).toEqual({ items: [], has_more: false });
    });

    it('listNotifications answers an empty page for a customer with none', async () => {
      expect(await notifications().listNotifications(randomUUID(), 0)).toEqual({ items: [], has_more: false });
    });
  });
}
