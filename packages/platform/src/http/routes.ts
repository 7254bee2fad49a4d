import type { FastifyReply, FastifyRequest } from 'fastify';
import { PAGE_SIZE, type PageResult } from '@shop/contract-kit';

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

/** The idempotency key of a creating request: the body field or the `Idempotency-Key` header. */
export function idempotencyKeyOf(request: FastifyRequest, bodyKey: string | undefined): string | undefined {
  const header = request.headers['idempotency-key'];
  return bodyKey ?? (typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined);
}
