import type { ErrorSpec } from '@shop/contract-kit';

/** Stable error codes of the notifications module, with the HTTP status each maps to. */
export const NotificationsErrors = {
  contactNotFound: { code: 'contact_not_found', status: 404, title: 'No contact settings for this customer' },
} as const satisfies Record<string, ErrorSpec>;
