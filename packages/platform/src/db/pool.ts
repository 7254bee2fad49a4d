import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { migrateModule, type ModuleMigrations } from './migrate.ts';
import { moduleRoleName, moduleRolePassword, urlForRole, type ModuleRoleGrant, type ModuleRolesMode } from './roles.ts';

/** int8 (bigint, COUNT) as a JS number: our values (cents, counts) stay far below 2^53. */
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
};

/** What the owner's pool keeps once modules have their own: migrations, readiness, admin checks. */
const OWNER_CONNECTIONS = 2;
const CONNECTIONS_PER_MODULE = 10;

export interface DatabaseOptions {
  /** The owner: runs migrations, creates the module roles (roles.ts). */
  url: string;
  /**
   * Connections each hosted module may open (default 10): its own role's pool, or its part of
   * the owner's pool when it shares that. Not a share of a process-wide total: split evenly,
   * the busiest module (orders, under a burst of orders) starved on a quarter of the budget
   * while the others' connections sat idle (docs/performance.md). Pools open connections on
   * demand and close idle ones, so a quiet module holds few.
   */
  connectionsPerModule?: number;
  applicationName?: string;
  /** How modules connect after `migrate` (roles.ts); default `auto`. */
  moduleRoles?: ModuleRolesMode;
  /** Pre-created roles, by schema: a URL connecting as the module's role; it gets the grants, nothing is created. */
  moduleUrls?: Readonly<Record<string, string | undefined>>;
}

interface ModuleLogin {
  readonly role: string;
  readonly url: string;
  readonly grant: ModuleRoleGrant;
  /** Created here with a derived password (or none), rather than named in configuration. */
  readonly created: boolean;
}

/** The process's connections: the owner's pool, and once migrated, one small pool per module role. */
export class Database {
  readonly pool: pg.Pool;
  readonly kysely: Kysely<any>;
  readonly #options: DatabaseOptions;
  readonly #modules = new Map<string, { readonly pool: pg.Pool; readonly handle: ModuleDatabase }>();

  constructor(options: DatabaseOptions) {
    this.#options = options;
    // Until `migrate` gives modules their own pools, a module may use the owner's.
    this.pool = createPool(options.url, OWNER_CONNECTIONS + this.#perModule, options.applicationName ?? 'shop');
    this.kysely = new Kysely<any>({ dialect: new PostgresDialect({ pool: this.pool }) });
  }

  /**
   * Migrates the modules as the owner, then (unless roles are off) gives each its role and
   * connects as it: from then on `forModule(schema)` can reach that schema and no other.
   * Call once, with every module this process hosts.
   */
  async migrate(modules: readonly ModuleMigrations[], logger?: Logger): Promise<void> {
    const logins = await this.#plan(modules, logger);
    for (const module of modules) await migrateModule(this.pool, module, { role: logins.get(module.schema)?.grant });
    // The owner keeps a couple, plus the connections of modules still on its pool.
    this.pool.options.max = OWNER_CONNECTIONS + this.#perModule * (modules.length - logins.size);
    if (logins.size === 0) return;
    const application = this.#options.applicationName ?? 'shop';
    for (const [schema, login] of logins) {
      const pool = createPool(login.url, this.#perModule, `${application}:${schema}`);
      this.#modules.set(schema, { pool, handle: { schema, kysely: new Kysely<any>({ dialect: new PostgresDialect({ pool }) }) } });
      await this.#check(schema, login, pool);
    }
  }

  /** Every pool of the process by name (`owner`, and each module role's), for metrics. */
  pools(): ReadonlyMap<string, pg.Pool> {
    return new Map([['owner', this.pool], ...[...this.#modules].map(([schema, { pool }]) => [schema, pool] as const)]);
  }

  /** How many connections each pool may open: the owner's, and each module's own. */
  connectionLimits(): Record<string, number> {
    const limits: Record<string, number> = { owner: this.pool.options.max };
    for (const [schema, { pool }] of this.#modules) limits[schema] = pool.options.max;
    return limits;
  }

  get #perModule(): number {
    return this.#options.connectionsPerModule ?? CONNECTIONS_PER_MODULE;
  }

  /** The handle a module receives: its own role's pool once migrated with roles, else the owner's. */
  forModule(schema: string): ModuleDatabase {
    return this.#modules.get(schema)?.handle ?? { schema, kysely: this.kysely };
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await Promise.all([...this.#modules.values()].map(({ handle }) => handle.kysely.destroy()));
    await this.kysely.destroy();
  }

  /** Which role each module connects as; a module missing from the map shares the owner's connection. */
  async #plan(modules: readonly ModuleMigrations[], logger: Logger | undefined): Promise<Map<string, ModuleLogin>> {
    const logins = new Map<string, ModuleLogin>();
    const mode = this.#options.moduleRoles ?? 'auto';
    if (mode === 'off' || modules.length === 0) return logins;
    const { rows } = await this.pool.query<{ owner: string; database: string; can_create: boolean }>(
      `SELECT current_user AS owner, current_database() AS database, rolsuper OR rolcreaterole AS can_create FROM pg_roles WHERE rolname = current_user`,
    );
    const { owner, database, can_create: canCreate } = rows[0]!;
    const ownerUrl = new URL(this.#options.url);
    const ownerPassword = decodeURIComponent(ownerUrl.password) || process.env.PGPASSWORD || undefined;
    const shared: string[] = [];
    for (const { schema } of modules) {
      const given = this.#options.moduleUrls?.[schema];
      if (given) {
        const role = decodeURIComponent(new URL(given).username);
        if (!role || role === owner) throw new Error(`the database URL of ${schema} must connect as the module's own role, not ${role ? `the owner ${owner}` : 'a default user'}`);
        logins.set(schema, { role, url: given, grant: { role }, created: false });
      } else if (canCreate) {
        const role = moduleRoleName(database, schema);
        const password = moduleRolePassword(ownerPassword, database, role);
        logins.set(schema, { role, url: urlForRole(this.#options.url, role, password), grant: { role, create: { database, password } }, created: true });
      } else {
        shared.push(schema);
      }
    }
    if (shared.length > 0) {
      const why = `the database user ${owner} may not create roles (no CREATEROLE)`;
      const fix = `grant it CREATEROLE, or name pre-created roles (${shared.map((schema) => `${schema.toUpperCase()}_DATABASE_URL`).join(', ')})`;
      if (mode === 'on') throw new Error(`DB_MODULE_ROLES=on but ${why}: ${fix}`);
      logger?.warn(
        { modules: shared },
        `${why}: ${shared.join(', ')} share its connection, with rights on every schema; ${fix}, or set DB_MODULE_ROLES=off to keep this on purpose`,
      );
    }
    return logins;
  }

  /** A role that cannot log in, or lands elsewhere, stops the start with what to change. */
  async #check(schema: string, login: ModuleLogin, pool: pg.Pool): Promise<void> {
    let found: { role: string; database: string };
    try {
      found = (await pool.query<{ role: string; database: string }>('SELECT current_user AS role, current_database() AS database')).rows[0]!;
    } catch (error) {
      const hint = login.created
        ? 'allow the role in pg_hba.conf (its password is derived from the one in DATABASE_URL), name a pre-created role in configuration, or set DB_MODULE_ROLES=off'
        : 'check the URL, its password and pg_hba.conf';
      throw new Error(`${schema} could not connect as its database role ${login.role}: ${(error as Error).message}; ${hint}`, { cause: error });
    }
    const { rows } = await this.pool.query<{ database: string }>('SELECT current_database() AS database');
    if (found.database !== rows[0]!.database || found.role !== login.role) {
      throw new Error(`${schema}'s database URL connects to ${found.database} as ${found.role}, not to ${rows[0]!.database} as ${login.role}`);
    }
  }
}

function createPool(url: string, max: number, applicationName: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: applicationName, types, connectionTimeoutMillis: 5_000 });
  // An idle client losing its server (restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}

export interface ModuleDatabase {
  readonly schema: string;
  readonly kysely: Kysely<any>;
}

/** A module's database handle (its pool or the transaction under way) typed with its own tables. */
export type TypedDb<Tables> = Kysely<Tables> | Transaction<Tables>;

/** Types a handle with the module's tables: what its repository reads and writes through (`const asDb = typedDb<OrdersTables>`). */
export function typedDb<Tables>(db: Kysely<any> | Transaction<any>): TypedDb<Tables> {
  return db as TypedDb<Tables>;
}
