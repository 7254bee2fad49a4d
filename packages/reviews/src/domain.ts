import { invalidInput } from '@shop/platform';

/** A title as stored: trimmed, and not blank once trimmed. */
export function titleOf(raw: string): string {
  const title = raw.trim();
  if (title === '') throw invalidInput('body.title', 'must not be blank');
  return title;
}
