import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { Type } from 'typebox';
import { IDEMPOTENCY_KEY_RULE, PAGE_SIZE, type ErrorSpec } from '@shop/contract-kit';
import { PlatformErrors } from '../errors.ts';
import { PROBLEM_TYPE_BASE } from './problem.ts';

declare module 'fastify' {
  interface FastifySchema {
    /**
     * The errors this route answers on its own (a module's or the platform's ErrorSpecs, e.g.
     * `OrdersErrors.orderNotFound`, `PlatformErrors.forbidden` for an admin route). The OpenAPI
     * document adds what every route of its kind answers: 401 under `/api`, 400 with input,
     * 413/415 with a body, 503. Documentation only: nothing is checked at run time.
     */
    errors?: readonly ErrorSpec[];
    /**
     * Where the route takes an idempotency key: `body-or-header` (required, as the
     * `idempotency_key` field or the `Idempotency-Key` header), `header` (optional header).
     */
    idempotencyKey?: 'body-or-header' | 'header';
  }
}

/** The one problem+json schema every error response refers to (RFC 9457, plus our `code`). */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri', description: `${PROBLEM_TYPE_BASE}<code>`, examples: [`${PROBLEM_TYPE_BASE}order_not_found`] }),
    title: Type.String({ description: 'Short, human-readable summary of the kind of problem' }),
    status: Type.Integer({ minimum: 400, maximum: 599, description: 'The HTTP status code' }),
    detail: Type.String({ description: 'What went wrong in this occurrence; names the field at fault for invalid_input' }),
    code: Type.String({ description: 'Stable, machine-readable error code; never renamed', examples: ['order_not_found'] }),
    instance: Type.Optional(Type.String({ description: 'The path of the request' })),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String({ examples: ['body.items[0].quantity'] }), message: Type.String() }), {
        description: 'invalid_input only: every field at fault',
      }),
    ),
  },
  {
    $id: 'Problem',
    description: 'An RFC 9457 problem document with a stable `code`. Some codes add members (payment_declined: `payment_id`, the failed payment kept).',
    additionalProperties: true,
  },
);

export interface ApiTag {
  readonly name: string;
  readonly description: string;
}

/** The platform's own tags; each module's (its name, its contract's description) come before them. */
const PLATFORM_TAGS: readonly ApiTag[] = [
  { name: 'admin', description: 'Operators only (a token with the admin role): stuck events, the deployment topology and rollouts, the extraction report.' },
  { name: 'platform', description: 'Probes every process answers, without authentication.' },
];

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };
const JSON_SCHEMA_KEYS = ['body', 'querystring', 'params', 'headers'] as const;

/**
 * The @fastify/swagger options: OpenAPI 3.1, the tags, the bearer scheme, and, for every route,
 * the standard error responses, the idempotency and paging headers, and `$ref`s to the named
 * schemas (every schema with an `$id`, e.g. the contracts' DTOs) in `components.schemas`.
 */
export function swaggerOptions(version: string, moduleTags: readonly ApiTag[]): FastifyDynamicSwaggerOptions {
  const named = new Map<string, object>([['Problem', ProblemSchema]]);
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Shop API',
        version,
        description: [
          'A commerce backend: a modular monolith designed to be split.',
          '',
          'Every `/api` route needs `Authorization: Bearer <JWT>` (`sub` = the customer UUID, `roles` may hold `admin`). A customer sees its own resources only: another customer\'s answers 404 as if it did not exist.',
          '',
          'Errors are RFC 9457 `application/problem+json` (the `Problem` schema) with a stable `code`; each response lists the codes it may carry, and its schema narrows `code` to them.',
          '',
          `Lists are JSON arrays, ${PAGE_SIZE} items a page (\`?page=N\`, 0-based, newest first); a \`Link: <...>; rel="next"\` header says a next page exists.`,
          '',
          'Creating calls take an idempotency key: a retry with the same key and payload answers 200 with the first result and has no second effect; the same key with another payload is 422 `idempotency_key_reused`.',
        ].join('\n'),
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [],
      tags: [...moduleTags, ...PLATFORM_TAGS].map((tag) => ({ ...tag })),
    },
    transform: ({ schema, url }) => ({ schema: documentRoute(url, schema, named) as never, url }),
    transformObject: (documentObject) => {
      const document = (documentObject as { openapiObject: { components: { schemas: Record<string, unknown> } } }).openapiObject;
      // A named schema may name others in turn (Order holds OrderItem): until none is new.
      const done = new Map<string, unknown>();
      while (done.size < named.size) {
        for (const [name, schema] of named) if (!done.has(name)) done.set(name, toOpenApiSchema(withRefs(schema, named, true)));
      }
      for (const name of [...done.keys()].sort()) document.components.schemas[name] = done.get(name);
      return document as never;
    },
  };
}

/**
 * The document as served (`/openapi.json`, and `/docs/json` for the viewer's "Try it out"):
 * `servers` is this request's own origin, or, on the admin listener (ADMIN_PORT), the same host
 * on the public listener's port, where the API is. A shallow copy: the cached document is shared.
 */
export function servedDocument(document: object, app: FastifyInstance, request: FastifyRequest, adminListener: boolean): Record<string, unknown> {
  let origin = `${request.protocol}://${request.host}`;
  const address = app.server.address();
  if (adminListener && typeof address === 'object' && address) {
    const hostname = request.hostname.includes(':') ? `[${request.hostname}]` : request.hostname;
    origin = `${request.protocol}://${hostname}:${address.port}`;
  }
  return { ...document, servers: [{ url: origin, description: 'This server (the origin the document was requested from)' }] };
}

/** One route's schema as documented: a copy; the route's own schema (validation, serialisation) is untouched. */
function documentRoute(url: string, schema: FastifySchema | undefined, named: Map<string, object>): FastifySchema | undefined {
  if (!schema || schema.hide) return schema;
  const { errors: declared = [], idempotencyKey, ...rest } = schema;
  const api = url.startsWith('/api/');
  const out: Record<string, unknown> = { ...rest };
  for (const key of JSON_SCHEMA_KEYS) if (rest[key]) out[key] = withRefs(rest[key] as object, named, false);

  const errors: ErrorSpec[] = [];
  if (api) errors.push(PlatformErrors.unauthorized);
  if (JSON_SCHEMA_KEYS.some((key) => rest[key]) || idempotencyKey) errors.push(PlatformErrors.invalidInput);
  if (rest.body) errors.push(PlatformErrors.payloadTooLarge, PlatformErrors.unsupportedMediaType);
  errors.push(...declared);
  if (api) errors.push(PlatformErrors.unavailable, PlatformErrors.moduleUnavailable);
  if (api && !rest.security) out.security = [{ bearerAuth: [] }];

  if (idempotencyKey) {
    out.headers = Type.Object({
      'Idempotency-Key': Type.Optional(
        Type.String({
          ...IDEMPOTENCY_KEY_RULE,
          description:
            idempotencyKey === 'body-or-header'
              ? 'The idempotency key, unless the body has `idempotency_key`: one of the two is required, and sent in both they must be equal (else 400 invalid_input). A retry with the same key and payload answers 200 with the first result.'
              : 'Optional: makes a retry safe. A retry with the same key and payload answers 200 with the first result; another payload is 422 idempotency_key_reused.',
        }),
      ),
    });
  }

  const paged = isPaged(rest.querystring);
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries((rest.response ?? {}) as Record<string, object>)) {
    responses[status] = {
      description: successDescription(status, Boolean(idempotencyKey)),
      ...(paged ? { headers: PAGING_HEADERS } : {}),
      content: { 'application/json': { schema: withRefs(response, named, false) } },
    };
  }
  for (const [status, specs] of groupByStatus(errors)) {
    responses[status] = {
      description: specs.map((spec) => `\`${spec.code}\`: ${spec.title}`).join('; '),
      content: {
        'application/problem+json': {
          schema: { allOf: [PROBLEM_REF, { type: 'object', properties: { code: { type: 'string', enum: specs.map((spec) => spec.code) } } }] },
        },
      },
    };
  }
  out.response = responses;
  return out as FastifySchema;
}

const PAGING_HEADERS = {
  Link: { type: 'string', description: 'RFC 8288 link to the next page, present when there is one: `</api/...?page=N+1>; rel="next"`' },
  'X-Page-Size': { type: 'integer', description: `Items a page (${PAGE_SIZE})` },
};

function isPaged(querystring: unknown): boolean {
  const properties = (querystring as { properties?: Record<string, unknown> } | undefined)?.properties;
  return Boolean(properties && 'page' in properties);
}

function successDescription(status: string, idempotent: boolean): string {
  if (status === '201') return 'Created';
  if (status === '200' && idempotent) return 'A retry with the same idempotency key and payload: the first result, unchanged';
  if (status === '204') return 'Done, no content';
  return 'OK';
}

function groupByStatus(errors: readonly ErrorSpec[]): [string, ErrorSpec[]][] {
  const byStatus = new Map<number, ErrorSpec[]>();
  for (const spec of errors) {
    const list = byStatus.get(spec.status) ?? [];
    if (!list.some((known) => known.code === spec.code)) list.push(spec);
    byStatus.set(spec.status, list);
  }
  return [...byStatus].sort(([a], [b]) => a - b).map(([status, specs]) => [String(status), specs]);
}

/**
 * A copy of `schema` where every subschema with an `$id` is a `$ref` to `components.schemas`
 * (and is remembered in `named`), the root too unless `keepRoot`.
 */
function withRefs(schema: object, named: Map<string, object>, keepRoot: boolean): object {
  const visit = (node: unknown, root: boolean): unknown => {
    if (Array.isArray(node)) return node.map((item) => visit(item, false));
    if (typeof node !== 'object' || node === null) return node;
    const id = (node as { $id?: unknown }).$id;
    if (typeof id === 'string' && !(root && keepRoot)) {
      const known = named.get(id);
      if (known && known !== node) throw new Error(`two different schemas are named ${id} in the OpenAPI document`);
      named.set(id, node);
      return { $ref: `#/components/schemas/${id}` };
    }
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, visit(value, false)]));
  };
  return visit(schema, true) as object;
}

/** JSON Schema to an OpenAPI 3.1 schema object, as @fastify/swagger converts route schemas: no `$id`, `const` as `enum`. */
function toOpenApiSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toOpenApiSchema);
  if (typeof node !== 'object' || node === null) return node;
  // A union of string literals (TypeBox's `Type.Union([Type.Literal(...)])`) is one enum.
  const members = (node as { anyOf?: unknown }).anyOf;
  if (Array.isArray(members) && members.length > 0 && members.every((m) => typeof (m as { const?: unknown }).const === 'string' && Object.keys(m as object).every((k) => k === 'const' || k === 'type'))) {
    const { anyOf: _literals, ...rest } = node as Record<string, unknown>;
    return { ...toOpenApiSchema(rest) as object, type: 'string', enum: members.map((m) => (m as { const: string }).const) };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$id' || key === '$schema') continue;
    if (key === 'const') out.enum = [value];
    else if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as object).map(([name, property]) => [name, toOpenApiSchema(property)]));
    else out[key] = toOpenApiSchema(value);
  }
  return out;
}
