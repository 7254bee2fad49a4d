import type { ModuleNames } from './names.ts';

/** The module package: its kernel declaration, domain, repository, service, routes, handlers and first migration. */
export function moduleFiles(n: ModuleNames): Record<string, string> {
  const { module, Module, thing, Thing } = n;
  return {
    'package.json': `${JSON.stringify(
      {
        name: `@shop/${module}`,
        version: '0.1.0',
        private: true,
        type: 'module',
        description: `${Module} module`,
        exports: { '.': './src/index.ts', './contract-suite': './test/contract-suite.ts' },
        dependencies: {
          [`@shop/${module}-contract`]: '0.1.0',
          '@shop/platform': '0.1.0',
          fastify: '5.12.8',
          kysely: '0.28.18',
          typebox: '1.4.3',
        },
      },
      null,
      2,
    )}\n`,
    [`migrations/0001_${module}.sql`]: `-- The ${module} module's schema is its own: no other module reads or writes it.
CREATE TABLE ${thing}s (
  id uuid PRIMARY KEY,
  title text NOT NULL,
  created_by uuid NOT NULL,
  -- A create with an Idempotency-Key happens once per key (idempotentCreate); the request's
  -- fingerprint tells a retry from a reused key.
  idempotency_key text UNIQUE,
  request_hash text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ${thing}s_newest ON ${thing}s (created_at DESC, id DESC);
`,
    'src/index.ts': `import { ${Module}Contract, type ${Module}Api } from '@shop/${module}-contract';
import { createModuleRuntime, defineModule, type ModuleDeps, type ModuleInstance, type ModuleMigrations } from '@shop/platform';
import { ${module}Subscriptions } from './handlers.ts';
import { ${module}Routes } from './http.ts';
import { ${Module}Service } from './service.ts';

/** Builds the ${module} module: the kernel gives it its outbox, inbox, unit of work and metrics. */
export function create${Module}Module(deps: ModuleDeps): ModuleInstance<${Module}Api> {
  const runtime = createModuleRuntime('${module}', deps);
  const service = new ${Module}Service({ db: deps.db, uow: runtime.uow });
  return runtime.instance<${Module}Api>({ api: service, subscriptions: ${module}Subscriptions(runtime.uow) });
}

/** The module's public routes over any implementation of its interface (local, remote, or switched). */
export { ${module}Routes } from './http.ts';

/** The ${module} module as the composition root hosts it, reaches it, and serves its routes. */
export const ${module}Module = defineModule({
  contract: ${Module}Contract,
  migrations: new URL('../migrations/', import.meta.url),
  routes: (api) => ${module}Routes(api),
  create: (deps) => create${Module}Module(deps),
});

/** Its schema and migrations folder, as the definition derives them (what module tests migrate). */
export const ${module}Migrations: ModuleMigrations = ${module}Module.migrations;
`,
    'src/domain.ts': `import { invalidInput } from '@shop/platform';

/** A title as stored: trimmed, and not blank once trimmed. */
export function titleOf(raw: string): string {
  const title = raw.trim();
  if (title === '') throw invalidInput('body.title', 'must not be blank');
  return title;
}
`,
    'src/repository.ts': `import type { Generated, Kysely, Selectable } from 'kysely';
import type { PageResult } from '@shop/contract-kit';
import type { ${Thing} } from '@shop/${module}-contract';
import { fetchPage, findIdempotent, idempotentCreate, typedDb, type IdempotentCreated, type IdempotentTable } from '@shop/platform';

/** SQL on the ${module} schema only. */
interface ${Thing}Row {
  id: string;
  title: string;
  created_by: string;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: Generated<Date>;
}

interface ${Module}Tables {
  '${module}.${thing}s': ${Thing}Row;
}

const asDb = typedDb<${Module}Tables>;
type Stored${Thing} = Selectable<${Thing}Row>;
export type New${Thing} = Omit<Stored${Thing}, 'created_at'>;

const BY_KEY: IdempotentTable<${Module}Tables, '${module}.${thing}s', 'idempotency_key'> = { table: '${module}.${thing}s', key: ['idempotency_key'], what: '${thing}' };

export function to${Thing}(row: Stored${Thing}): ${Thing} {
  return { id: row.id, title: row.title, created_by: row.created_by, created_at: row.created_at.toISOString() };
}

/** Creates a ${thing} once per idempotency key (always, without one). */
export async function create${Thing}(db: Kysely<any>, ${thing}: New${Thing}): Promise<IdempotentCreated<Stored${Thing}>> {
  return idempotentCreate(db, BY_KEY, ${thing});
}

/** The ${thing} stored under this key, if any; refused (422) when stored for another request. */
export async function findByKey(db: Kysely<any>, request: Pick<New${Thing}, 'idempotency_key' | 'request_hash'>): Promise<Stored${Thing} | undefined> {
  return findIdempotent(db, BY_KEY, request);
}

export async function find${Thing}(db: Kysely<any>, id: string): Promise<Stored${Thing} | undefined> {
  return asDb(db).selectFrom('${module}.${thing}s').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function list${Module}(db: Kysely<any>, page: number): Promise<PageResult<${Thing}>> {
  const { rows, has_more } = await fetchPage(asDb(db).selectFrom('${module}.${thing}s').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc'), page);
  return { items: rows.map(to${Thing}), has_more };
}
`,
    'src/service.ts': `import { randomUUID } from 'node:crypto';
import { ModuleError, type PageResult } from '@shop/contract-kit';
import { ${Module}Errors, ${Thing}Created, type Create${Thing}Command, type Create${Thing}Result, type ${Module}Api, type ${Thing} } from '@shop/${module}-contract';
import { fingerprint, type ModuleDatabase, type UnitOfWork } from '@shop/platform';
import { titleOf } from './domain.ts';
import * as repo from './repository.ts';

/** The ${module} module's interface, in process. */
export class ${Module}Service implements ${Module}Api {
  readonly #db: ModuleDatabase;
  readonly #uow: UnitOfWork;

  constructor(deps: { db: ModuleDatabase; uow: UnitOfWork }) {
    this.#db = deps.db;
    this.#uow = deps.uow;
  }

  async create${Thing}(command: Create${Thing}Command, options: { idempotency_key?: string } = {}): Promise<Create${Thing}Result> {
    const key = options.idempotency_key ?? null;
    const title = titleOf(command.title);
    const created_by = command.created_by.toLowerCase();
    const request = { idempotency_key: key, request_hash: key ? fingerprint({ title, created_by }) : null };
    // The row and its event commit together (the outbox), once per key.
    const { created, row } = await this.#uow.run(async (tx) => {
      const result = await repo.create${Thing}(tx.db, { id: randomUUID(), title, created_by, ...request });
      if (result.created) tx.publish(${Thing}Created, { ${thing}_id: result.row.id, created_by, title });
      return result;
    });
    return { ${thing}: repo.to${Thing}(row), created };
  }

  async get${Thing}(id: string): Promise<${Thing}> {
    const row = await repo.find${Thing}(this.#db.kysely, id);
    if (!row) throw new ModuleError(${Module}Errors.${thing}NotFound, \`no ${thing} with id \${id}\`);
    return repo.to${Thing}(row);
  }

  async list${Module}(page: number): Promise<PageResult<${Thing}>> {
    return repo.list${Module}(this.#db.kysely, page);
  }
}
`,
    'src/http.ts': `import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PageQuery } from '@shop/contract-kit';
import { Create${Thing}Input, ${Module}Errors, ${Thing}, type ${Module}Api } from '@shop/${module}-contract';
import { idempotencyKeyOf, principalOf, sendPage } from '@shop/platform';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const tags = ['${module}'];
const security = [{ bearerAuth: [] }];

/** The ${module} routes (mounted under /api). */
export function ${module}Routes(api: ${Module}Api): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/${module}',
      {
        schema: {
          tags,
          security,
          operationId: 'create${Thing}',
          summary: 'Create a ${thing}. Accepts an Idempotency-Key header.',
          body: Create${Thing}Input,
          response: { 200: ${Thing}, 201: ${Thing} },
          idempotencyKey: 'header',
          errors: [${Module}Errors.idempotencyKeyReused],
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const key = idempotencyKeyOf(request, undefined);
        const result = await api.create${Thing}({ ...request.body, created_by: principal.sub }, key ? { idempotency_key: \`\${principal.sub}:\${key}\` } : {});
        return reply.code(result.created ? 201 : 200).send(result.${thing});
      },
    );

    app.get(
      '/${module}',
      { schema: { tags, security, operationId: 'list${Module}', summary: '${Thing}s, newest first', querystring: PageQuery, response: { 200: Type.Array(${Thing}) } } },
      async (request, reply) => {
        const page = request.query.page ?? 0;
        return sendPage(request, reply, page, await api.list${Module}(page));
      },
    );

    app.get(
      '/${module}/:id',
      { schema: { tags, security, operationId: 'get${Thing}', summary: 'One ${thing}', params: IdParams, response: { 200: ${Thing} }, errors: [${Module}Errors.${thing}NotFound] } },
      async (request) => api.get${Thing}(request.params.id),
    );
  };
}
`,
    'src/handlers.ts': `import type { Subscription, UnitOfWork } from '@shop/platform';

export const CONSUMER = '${module}';

/**
 * The events ${module} consumes: none yet. To react to another module's event, depend on its
 * contract (package.json) and return an \`inboxSubscription(uow, { consumer: CONSUMER, events,
 * effect })\`: the kernel delivers each event once, wherever the modules run, metered and traced.
 */
export function ${module}Subscriptions(_uow: UnitOfWork): Subscription[] {
  return [];
}
`,
  };
}
