import type pg from 'pg';

/**
 * Runs `work` in a transaction on one connection of a plain pg pool (the owner's: the platform's
 * own tables), committing what it returns and rolling back what it throws. Modules use Kysely's
 * transactions through their unit of work instead.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
