import { Type } from 'typebox';
import { defineEvent, Uuid } from '@shop/contract-kit';
import { Channel, NotificationKind } from './dto.ts';


/** A notification left us: the SMTP server or the push service accepted it. */
export const NotificationSent = defineEvent(
  'NotificationSent',
  1,
  Type.Object({ notification_id: Uuid, customer_id: Uuid, order_id: Uuid, channel: Channel, kind: NotificationKind }),
);

export const NotificationEvents = [NotificationSent] as const;
