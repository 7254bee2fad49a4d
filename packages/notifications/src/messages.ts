import type { NotificationKind } from '@shop/notifications-contract';
import { orderNumber, type OrderFacts } from './domain.ts';

/** What the customer reads: pure text rendering, free of I/O. */

export interface MessageInput {
  kind: NotificationKind;
  order_id: string;
  facts: OrderFacts;
  /** Product names by id; an id missing here is shown as the id itself. */
  productNames: ReadonlyMap<string, string>;
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export interface PushPayload {
  title: string;
  body: string;
  kind: NotificationKind;
  order_id: string;
}

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
export const formatCents = (cents: number): string => money.format(cents / 100);

/** Cancel reasons the platform itself writes, said the way a customer would. */
const REASONS: Record<string, string> = {
  insufficient_stock: 'some items were out of stock',
  cancelled_by_customer: 'you asked us to cancel it',
  cancelled_by_admin: 'cancelled by our staff',
};

function reasonText(reason: string | undefined): string {
  return REASONS[reason ?? ''] ?? reason ?? 'requested';
}

export function subjectOf(kind: NotificationKind, orderId: string): string {
  const number = orderNumber(orderId);
  if (kind === 'order_confirmed') return `Your order ${number} is confirmed`;
  if (kind === 'order_cancelled') return `Your order ${number} was cancelled`;
  return `Your order ${number} has shipped`;
}

function introOf(input: MessageInput): string[] {
  if (input.kind === 'order_confirmed') return ['Thank you! We received your payment and your order is confirmed.'];
  if (input.kind === 'order_shipped') return ['Good news: your order is on its way.'];
  return ['Your order was cancelled.', `Reason: ${reasonText(input.facts.reason)}.`, 'Any payment you made for it is refunded.'];
}

function linesOf(input: MessageInput): string[] {
  return input.facts.items.map((item) => {
    const name = input.productNames.get(item.product_id.toLowerCase()) ?? item.product_id;
    return `${item.quantity} × ${name} — ${formatCents(item.quantity * item.unit_price_cents)}`;
  });
}

export function renderEmail(input: MessageInput): EmailContent {
  const subject = subjectOf(input.kind, input.order_id);
  const intro = introOf(input);
  const lines = linesOf(input);
  const total = `Total: ${formatCents(input.facts.total_cents)}`;
  const text = [subject, '', ...intro, '', ...lines, '', total, ''].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif">',
    `<h1>${escapeHtml(subject)}</h1>`,
    ...intro.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    '<ul>',
    ...lines.map((line) => `<li>${escapeHtml(line)}</li>`),
    '</ul>',
    `<p><strong>${escapeHtml(total)}</strong></p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

/** Short enough for a lock screen: no product names, so no catalog lookup is needed. */
export function renderPush(input: Omit<MessageInput, 'productNames'>): PushPayload {
  const count = input.facts.items.reduce((sum, item) => sum + item.quantity, 0);
  const summary = `${count} ${count === 1 ? 'item' : 'items'}, ${formatCents(input.facts.total_cents)}`;
  const body =
    input.kind === 'order_cancelled'
      ? `${summary}. Reason: ${reasonText(input.facts.reason)}. Any payment is refunded.`
      : `${summary}.`;
  return { title: subjectOf(input.kind, input.order_id), body, kind: input.kind, order_id: input.order_id };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
