import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

/** int8 (bigint, COUNT) as a JS number: our values (cents, counts) stay far below 2^53. */
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
};

export interface DatabaseOptions {
  url: string;
  maxConnections?: number;
  applicationName?: string;
}

/** The process's connection pool, and Kysely over it. */
export class Database {
  readonly pool: pg.Pool;
  readonly kysely: Kysely<any>;

  constructor(options: DatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 20,
      application_name: options.applicationName ?? 'shop',
      types,
      connectionTimeoutMillis: 5_000,
    });
    // An idle client losing its server (restart) must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
    this.kysely = new Kysely<any>({ dialect: new PostgresDialect({ pool: this.pool }) });
  }

  /** The handle a module receives. Today all modules share the pool; each keeps to its schema. */
  forModule(schema: string): ModuleDatabase {
    return { schema, kysely: this.kysely };
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.kysely.destroy();
  }
}

export interface ModuleDatabase {
  readonly schema: string;
  readonly kysely: Kysely<any>;
}
