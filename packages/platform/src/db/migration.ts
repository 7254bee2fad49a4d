/** One schema change: its id (its file name, ordered) and its SQL. */
export interface Migration {
  readonly id: string;
  readonly sql: string;
}
