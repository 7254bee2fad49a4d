-- The notifications module's schema.

-- How each customer is reached. A null channel is switched off.
CREATE TABLE contacts (
  customer_id uuid PRIMARY KEY,
  email text,
  push_subscription jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per (order event, channel): what was to be said, to whom, and how far sending got.
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  event_id uuid NOT NULL, -- the order event that caused it
  customer_id uuid NOT NULL,
  order_id uuid NOT NULL, -- an order of the orders module: no foreign key across schemas
  kind text NOT NULL CHECK (kind IN ('order_confirmed', 'order_cancelled', 'order_shipped')),
  channel text NOT NULL CHECK (channel IN ('email', 'push', 'none')),
  status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
  -- Where it goes, as the contact said when the event arrived (an address, or a push
  -- subscription): a later change of contact does not redirect what is already queued.
  recipient jsonb,
  -- The order facts the message is written from (items, total, cancel reason).
  content jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  detail text,
  -- When the sender may take it (next): null once it is settled (sent, skipped, failed for good).
  -- While a send is under way it holds the end of the sender's lease.
  next_attempt_at timestamptz,
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Exactly one notification per channel per event, whatever the redeliveries.
  CONSTRAINT one_notification_per_event_and_channel UNIQUE (event_id, channel),
  CONSTRAINT settled_rows_are_not_due CHECK (status IN ('pending', 'failed') OR next_attempt_at IS NULL)
);
CREATE INDEX notifications_by_customer_newest_first ON notifications (customer_id, created_at DESC, id DESC);
-- The sender only ever scans what is still to send.
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
