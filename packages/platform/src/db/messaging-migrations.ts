import type { Migration } from './migration.ts';

/**
 * The outbox and inbox every module gets in its own schema. They live here, beside the code
 * that reads them (dispatcher, unit of work), so their shape has one source.
 * Ids start with "platform-" so they never clash with a module's own migrations.
 */
export function messagingMigrations(schema: string): Migration[] {
  return [
    {
      id: 'platform-0001_outbox_inbox',
      sql: `
        CREATE TABLE "${schema}".outbox (
          seq bigserial PRIMARY KEY,
          id uuid NOT NULL UNIQUE,
          event_type text NOT NULL,
          event_version integer NOT NULL,
          payload jsonb NOT NULL,
          traceparent text,
          occurred_at timestamptz NOT NULL DEFAULT now(),
          status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
          attempts integer NOT NULL DEFAULT 0,
          next_attempt_at timestamptz NOT NULL DEFAULT now(),
          last_error text,
          delivered_at timestamptz
        );
        -- The dispatcher only ever scans what is still to deliver.
        CREATE INDEX outbox_pending ON "${schema}".outbox (next_attempt_at, seq) WHERE status = 'pending';
        CREATE INDEX outbox_failed ON "${schema}".outbox (seq) WHERE status = 'failed';

        -- What this module's consumers have handled: one row per (consumer, event), written in
        -- the same transaction as the effect, so a redelivered event has no second effect.
        CREATE TABLE "${schema}".inbox (
          consumer text NOT NULL,
          event_id uuid NOT NULL,
          event_type text NOT NULL,
          handled_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (consumer, event_id)
        );
      `,
    },
    {
      // The claim reads pending rows in seq order and stops at a batch. Through the index above
      // PostgreSQL had to fetch every due row and sort them first: with a backlog (NATS down for
      // a while) that was ~16 ms a round at 20,000 pending, and it repeats every round. In seq
      // order it reads one batch's worth. Rows waiting out a retry are skipped by the filter.
      id: 'platform-0002_outbox_claim_in_order',
      sql: `
        DROP INDEX "${schema}".outbox_pending;
        CREATE INDEX outbox_pending ON "${schema}".outbox (seq) WHERE status = 'pending';
      `,
    },
    {
      // Retention (events/retention.ts) deletes delivered outbox rows and inbox rows by age, a
      // batch at a time: each batch is an index range scan on the age instead of a scan of the
      // whole table. The hot paths already had theirs and keep them: the claim reads
      // `outbox_pending` (pending rows only, in seq order), the inbox write looks up its primary
      // key. Both indexes grow at their right-hand end (ages only increase), the cheapest insert
      // a B-tree has. Built inside the migration's transaction (no CONCURRENTLY), so writes to
      // the two tables wait for the build once: seconds at millions of rows.
      id: 'platform-0003_retention',
      sql: `
        CREATE INDEX outbox_delivered_at ON "${schema}".outbox (delivered_at) WHERE status = 'delivered';
        CREATE INDEX inbox_handled_at ON "${schema}".inbox (handled_at);
      `,
    },
  ];
}
