import type { MethodTable } from '@shop/contract-kit';
import type { NotificationsApi } from './api.ts';

/** What each NotificationsApi method does to state: what may be retried and shadowed. */
export const NotificationsMethods = {
  setContact: 'idempotent-write', // replaces the settings: the same call twice leaves the same state
  getContact: 'read',
  getPushPublicKey: 'read',
  listNotifications: 'read',
} as const satisfies MethodTable<NotificationsApi>;
