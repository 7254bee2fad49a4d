import { randomUUID } from 'node:crypto';
import { ModuleError, type EventEnvelope, type PageResult } from '@shop/contract-kit';
import { NotificationsErrors, type Contact, type Notification, type NotificationsApi, type SetContactBody } from '@shop/notifications-contract';
import { handlingTraceparent, type ModuleDatabase, type Tx } from '@shop/platform';
import { KIND_OF_EVENT, assertUsableContact, planNotifications, type ChannelAvailability, type OrderFacts } from './domain.ts';
import * as repo from './repository.ts';

/** The order event fields notifications reads (OrderConfirmed, OrderCancelled, OrderShipped alike). */
export interface OrderEventPayload extends OrderFacts {
  order_id: string;
  customer_id: string;
}

/** The notifications module's interface, in process, and what its event handlers do. */
export class NotificationsService implements NotificationsApi {
  readonly #db: ModuleDatabase;
  readonly #available: ChannelAvailability;

  readonly #pushPublicKey: string | null;

  constructor(deps: { db: ModuleDatabase; available: ChannelAvailability; pushPublicKey: string | null }) {
    this.#pushPublicKey = deps.pushPublicKey;
    this.#db = deps.db;
    this.#available = deps.available;
  }

  async getPushPublicKey(): Promise<string | null> {
    return this.#pushPublicKey;
  }

  async setContact(customerId: string, contact: SetContactBody): Promise<Contact> {
    assertUsableContact(contact);
    return repo.upsertContact(this.#db.kysely, customerId.toLowerCase(), contact.email ?? null, contact.push_subscription ?? null);
  }

  async getContact(customerId: string): Promise<Contact> {
    const row = await repo.findContact(this.#db.kysely, customerId.toLowerCase());
    if (!row) throw new ModuleError(NotificationsErrors.contactNotFound, `customer ${customerId} has no contact settings`);
    return repo.toContact(row);
  }

  async listNotifications(customerId: string, page: number): Promise<PageResult<Notification>> {
    return repo.listForCustomer(this.#db.kysely, customerId.toLowerCase(), page);
  }

  /**
   * Queues the notifications for one order event, in the handler's transaction: one row per
   * channel the customer set, read from the contact as it is now. Returns how many rows were
   * queued for sending (0: nothing for the sender to do).
   */
  async recordForEvent(tx: Tx, event: EventEnvelope, payload: OrderEventPayload): Promise<number> {
    const kind = KIND_OF_EVENT[event.type];
    if (!kind) throw new Error(`notifications does not handle ${event.type}`);
    const customerId = payload.customer_id.toLowerCase();
    const contact = await repo.findContact(tx.db, customerId);
    const planned = planNotifications(contact, this.#available);
    const facts: OrderFacts = { items: payload.items, total_cents: payload.total_cents, ...(payload.reason !== undefined ? { reason: payload.reason } : {}) };
    await repo.insertNotifications(tx.db, { event_id: event.id, traceparent: handlingTraceparent(event), customer_id: customerId, order_id: payload.order_id, kind, content: facts, planned }, randomUUID);
    return planned.filter((plan) => plan.status === 'pending').length;
  }
}
