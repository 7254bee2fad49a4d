import { invalidInput } from '@shop/platform';

/** A review's text as stored: trimmed, and not blank once trimmed. */
export function bodyOf(raw: string): string {
  const body = raw.trim();
  if (body === '') throw invalidInput('body.body', 'must not be blank');
  return body;
}

/** The products a delivered order held, each once (an order may list a product once, but a replayed event must not double it). */
export function purchasedProducts(items: readonly { product_id: string }[]): string[] {
  return [...new Set(items.map((item) => item.product_id.toLowerCase()))];
}
