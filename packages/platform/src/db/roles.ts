import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type pg from 'pg';

/**
 * Per-module database roles: each module connects as a role of its own, with rights on its own
 * schema only, so a query reaching into another module's tables fails with "permission denied"
 * instead of quietly coupling the two. Migrations keep running as the owner (DATABASE_URL).
 *
 * - `auto` (default): a role per module where possible — the pre-created one named in
 *   configuration, else one the owner creates (it needs CREATEROLE); when it can do neither,
 *   one warning and the modules share the owner's connection as before.
 * - `on`: the same, but a module that cannot get its own role stops the start.
 * - `off`: every module shares the owner's connection (the behaviour before roles).
 */
export type ModuleRolesMode = 'auto' | 'on' | 'off';

/** What the migrator does for a module's role, after its migrations, under the same lock. */
export interface ModuleRoleGrant {
  /** The role that gets USAGE on the schema and ALL on its tables and sequences. */
  readonly role: string;
  /**
   * Set when the owner creates the role (`<database>_<schema>`) and sets its password each start.
   * Unset for a pre-created role: it only receives the grants.
   */
  readonly create?: { readonly database: string; readonly password: string | null };
}

/**
 * `<database>_<schema>`: roles are cluster-wide, and several databases (test files, deployments)
 * may share a server; the database in the name keeps theirs apart, and makes each role
 * database-local, so the migrator's advisory lock (database-local too) covers it.
 * Too long for an identifier (63 bytes): a shortened database name plus a hash of it.
 */
export function moduleRoleName(database: string, schema: string): string {
  let db = database.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (!/^[a-z_]/.test(db)) db = `db_${db}`;
  const name = `${db}_${schema}`;
  if (name.length <= 63) return name;
  const hash = createHash('sha256').update(database).digest('hex').slice(0, 8);
  return `${db.slice(0, Math.max(1, 63 - schema.length - hash.length - 2))}_${hash}_${schema}`;
}

/**
 * The module role's password, derived from the owner's (HMAC-SHA256 keyed by it): every process
 * with the same DATABASE_URL computes the same one, so replicas starting at different times
 * never lock each other out, and nothing needs storing. On the embedded server the owner's
 * password is the one kept under DATA_DIR. No owner password (trust authentication, say):
 * null, the role gets no password either.
 */
export function moduleRolePassword(ownerPassword: string | undefined, database: string, role: string): string | null {
  if (!ownerPassword) return null;
  return createHmac('sha256', ownerPassword).update(`shop module role\0${database}\0${role}`).digest('base64url');
}

/** The owner's URL with the module role's credentials instead. */
export function urlForRole(ownerUrl: string, role: string, password: string | null): string {
  const url = new URL(ownerUrl);
  url.username = encodeURIComponent(role);
  url.password = password === null ? '' : encodeURIComponent(password);
  return url.toString();
}

/** A role (or database) name as an SQL identifier; any name (a pre-created role may have capitals or dashes). */
export function quoteRole(name: string): string {
  if (name === '' || name.includes('\0')) throw new Error(`not a role name: ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}

/** Marks the roles we made, so an unrelated role that happens to have the name is never taken over. */
const marker = (database: string, schema: string) => `shop: module role for schema ${schema} of database ${database}`;

/**
 * Creates or refreshes the module's role and its grants. Runs as the owner, in the migrator's
 * session (schema lock held), in one transaction under a database-wide lock: two processes
 * migrating different modules both touch `public` and the database's ACL, and concurrent
 * catalog updates of one row fail ("tuple concurrently updated") instead of waiting.
 */
export async function applyModuleRole(client: pg.PoolClient, schema: string, schemaIdent: string, grant: ModuleRoleGrant): Promise<void> {
  const role = quoteRole(grant.role);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['migrate:module-roles']);
    if (grant.create) {
      const { database, password } = grant.create;
      const found = await client.query<{ note: string | null }>(`SELECT shobj_description(oid, 'pg_authid') AS note FROM pg_roles WHERE rolname = $1`, [grant.role]);
      if (found.rowCount === 0) {
        await client.query(`CREATE ROLE ${role} LOGIN NOINHERIT`);
        await client.query(`COMMENT ON ROLE ${role} IS ${literal(marker(database, schema))}`);
      } else if (found.rows[0]!.note !== marker(database, schema)) {
        throw new Error(
          `role ${grant.role} exists but was not created for schema ${schema} of this database; drop it, or name it as this module's pre-created role in configuration`,
        );
      }
      // A SCRAM verifier, not the password: it never appears in the server's logs or statements.
      await client.query(`ALTER ROLE ${role} WITH LOGIN PASSWORD ${password === null ? 'NULL' : literal(scramVerifier(password))}`);
    }
    const { rows } = await client.query<{ database: string; connect: boolean; public_usage: boolean; owns_public: boolean }>(
      `SELECT current_database() AS database, has_database_privilege($1, current_database(), 'CONNECT') AS connect,
              coalesce((SELECT has_schema_privilege($1, oid, 'USAGE') FROM pg_namespace WHERE nspname = 'public'), false) AS public_usage,
              coalesce((SELECT pg_has_role(current_user, nspowner, 'USAGE') FROM pg_namespace WHERE nspname = 'public'), false) AS owns_public`,
      [grant.role],
    );
    const state = rows[0]!;
    // Only when PUBLIC's CONNECT was revoked: otherwise a no-op an owner without grant rights would refuse.
    if (!state.connect) await client.query(`GRANT CONNECT ON DATABASE ${quoteRole(state.database)} TO ${role}`);
    // Nothing in `public` for anyone but its owner: a module's only schema is its own.
    if (state.public_usage && state.owns_public) await client.query('REVOKE ALL ON SCHEMA public FROM PUBLIC');
    await client.query(`GRANT USAGE ON SCHEMA ${schemaIdent} TO ${role}`);
    await client.query(`GRANT ALL ON ALL TABLES IN SCHEMA ${schemaIdent} TO ${role}`);
    await client.query(`GRANT ALL ON ALL SEQUENCES IN SCHEMA ${schemaIdent} TO ${role}`);
    // Its migration history is the owner's business.
    await client.query(`REVOKE ALL ON ${schemaIdent}.schema_migrations FROM ${role}`);
    // Tables and sequences the owner creates later (next migrations) are the module's too.
    await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schemaIdent} GRANT ALL ON TABLES TO ${role}`);
    await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schemaIdent} GRANT ALL ON SEQUENCES TO ${role}`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(`the database role of ${schema} (${grant.role}): ${(error as Error).message}`, { cause: error });
  }
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (RFC 5802/7677), as PostgreSQL
 * stores it. For the ASCII passwords made here (SASLprep leaves them as they are).
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
