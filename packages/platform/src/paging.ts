import type { SelectQueryBuilder } from 'kysely';
import { PAGE_SIZE } from '@shop/contract-kit';

/**
 * One page of a list, newest first as the query orders it: 20 rows, and whether more follow.
 * One row more than a page is read, so `has_more` costs no second query.
 */
export async function fetchPage<Row>(query: SelectQueryBuilder<any, any, Row>, page: number): Promise<{ rows: Row[]; has_more: boolean }> {
  const rows = await query.limit(PAGE_SIZE + 1).offset(page * PAGE_SIZE).execute();
  return { rows: rows.slice(0, PAGE_SIZE), has_more: rows.length > PAGE_SIZE };
}
