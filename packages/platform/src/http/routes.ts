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
 * The rule for the two places a key may come from, for the OpenAPI description of every route
 * that reads a body field as well as the header.
 */
export const IDEMPOTENCY_KEY_SOURCES =
  'The idempotency key may come as the `idempotency_key` body field or the `Idempotency-Key` header: either alone is enough. Sent in both, the two must be equal; different values answer 400 invalid_input naming both, and neither wins.';

/**
 * The idempotency key of a creating request, from the one place that decides it: the body field
 * (checked by the route's schema) or the `Idempotency-Key` header. A header that breaks the
 * contract's rule, or that disagrees with the body field, is a 400 naming it; with `required`, so
 * is a request with neither.
 */
export function idempotencyKeyOf(request: FastifyRequest, bodyKey: string | undefined, options: { required: true }): string;
export function idempotencyKeyOf(request: FastifyRequest, bodyKey?: string, options?: { required?: boolean }): string | undefined;
export function idempotencyKeyOf(request: FastifyRequest, bodyKey?: string, options: { required?: boolean } = {}): string | undefined {
  const header = request.headers['idempotency-key'];
  const headerKey = typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
  if (headerKey !== undefined && (headerKey.length > RULE.maxLength || !KEY_PATTERN.test(headerKey))) {
    throw invalidInput('headers.idempotency-key', `must be ${RULE.minLength} to ${RULE.maxLength} visible ASCII characters`);
  }
  if (bodyKey !== undefined && headerKey !== undefined && bodyKey !== headerKey) {
    throw invalidInput(
      'headers.idempotency-key',
      'differs from body.idempotency_key: send the key in one of them, or the same value in both',
    );
  }
  const key = bodyKey ?? headerKey;
  if (key === undefined && options.required) throw invalidInput('body.idempotency_key', 'is required (or send an Idempotency-Key header)');
  return key;
}
