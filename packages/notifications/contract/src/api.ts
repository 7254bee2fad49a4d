import type { PageResult } from '@shop/contract-kit';
import type { Contact, Notification, SetContactBody } from './dto.ts';

/**
 * Everything another module may ask of notifications. Implemented in process by the module
 * and over HTTP by its client. Ownership is enforced at the HTTP edge, not here.
 */
export interface NotificationsApi {
  /** Replaces the customer's contact settings; a channel left out (or null) is switched off. */
  setContact(customerId: string, contact: SetContactBody): Promise<Contact>;
  /** Throws `contact_not_found` when the customer never set any. */
  getContact(customerId: string): Promise<Contact>;
  /** The VAPID public key browsers subscribe with (`applicationServerKey`); null when Web Push is off. */
  getPushPublicKey(): Promise<string | null>;
  /** The customer's notifications, newest first, 20 a page. */
  listNotifications(customerId: string, page: number): Promise<PageResult<Notification>>;
}
