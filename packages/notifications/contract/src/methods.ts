import { Type } from 'typebox';
import { EDGE, defineContract, Uuid, type AccessTable, type MethodTable } from '@shop/contract-kit';
import type { NotificationsApi } from './api.ts';
import { SetContactBody } from './dto.ts';

/** What each NotificationsApi method does to state: what may be retried and shadowed. */
export const NotificationsMethods = {
  setContact: 'idempotent-write', // replaces the settings: the same call twice leaves the same state
  getContact: 'read',
  getPushPublicKey: 'read',
  listNotifications: 'read',
} as const satisfies MethodTable<NotificationsApi>;

/** Who may call each NotificationsApi method from another process (the edge, for notifications' routes), and its argument schemas. */
export const NotificationsAccess = {
  setContact: { callers: [EDGE], args: [Uuid, SetContactBody] },
  getContact: { callers: [EDGE], args: [Uuid] },
  getPushPublicKey: { callers: [EDGE], args: [] },
  listNotifications: { callers: [EDGE], args: [Uuid, Type.Integer({ minimum: 0 })] },
} as const satisfies AccessTable<NotificationsApi>;

/**
 * Members of this module's answers that are a customer's personal data: never logged or shown to
 * operators as they are (shadow mismatches redact them, beside the platform's own list).
 */
export const NotificationsPersonalFields = ['email', 'push_subscription', 'endpoint', 'keys'] as const;

/** The notifications module's contract as the kernel reads it: its name, method kinds, access and personal fields. */
export const NotificationsContract = defineContract<NotificationsApi>({
  name: 'notifications',
  description: "A customer's contact settings and the notifications sent about its orders (module notifications).",
  methods: NotificationsMethods, access: NotificationsAccess, personal: NotificationsPersonalFields });
