import type { FastifyReply, FastifyRequest } from 'fastify';
import { IDEMPOTENCY_KEY_RULE as RULE, PAGE_SIZE, type PageResult } from '@shop/contract-kit';
import { invalidInput } from '../errors.ts';

/** Sends one page as a JSON array, with a `Link: rel="next"` header when another page follows. */
export function sendPage<T>(request: FastifyRequest, reply: FastifyReply, page: number, result: PageResult<T>): T[] {
  if (result.has_more) {
    const url = new URL(request.url, 'http://placeholder');
    url.searchParams.set('page', String(page + 1));
    reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
  }
  reply.header('x-page-size', String(PAGE_SIZE));
  return result.items;
}

/** The contract's rule for a key, checked by hand for the header (a body key is checked by its route schema). */
const KEY_PATTERN = new RegExp(RULE.pattern);

/**
 * The idempotency key of a creating request: the body field or the `Idempotency-Key` header.
 * A header that breaks the contract's rule is a 400 naming it.
 */
export function idempotencyKeyOf(request: FastifyRequest, bodyKey: string | undefined): string | undefined {
  if (bodyKey !== undefined) return bodyKey;
  const header = request.headers['idempotency-key'];
  const key = typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
  if (key !== undefined && (key.length > RULE.maxLength || !KEY_PATTERN.test(key))) {
    throw invalidInput('headers.idempotency-key', `must be ${RULE.minLength} to ${RULE.maxLength} visible ASCII characters`);
  }
  return key;
}
