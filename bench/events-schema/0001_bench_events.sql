-- The benchmark's own module schema (bench/events.ts): the platform adds the outbox and inbox.
CREATE TABLE handled (event_id uuid PRIMARY KEY, handled_at timestamptz NOT NULL DEFAULT now());
