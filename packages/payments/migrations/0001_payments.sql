-- The payments module's schema: every payment attempt, and the orders it knows are closed.
CREATE TABLE payments (
  id uuid PRIMARY KEY,
  order_id uuid NOT NULL,     -- an order of the orders module: no foreign key across schemas
  customer_id uuid NOT NULL,  -- the order's customer when paid: idempotency keys are scoped to it
  amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
  payment_method text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'captured', 'failed', 'refunded')),
  failure_reason text,
  provider_ref text,
  idempotency_key text NOT NULL,
  request_hash text NOT NULL,
  -- Set (in the transaction that decides it) when a captured payment must be given back;
  -- the refund itself happens after commit, or in the reconciler after a crash.
  refund_requested_at timestamptz,
  refund_ref text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- One payment per (customer, key): racing retries collide here and read the winner.
  CONSTRAINT one_payment_per_key UNIQUE (customer_id, idempotency_key),
  CONSTRAINT failed_has_reason CHECK (status <> 'failed' OR failure_reason IS NOT NULL),
  CONSTRAINT refunded_was_requested CHECK (status <> 'refunded' OR (refund_requested_at IS NOT NULL AND refund_ref IS NOT NULL))
);

-- Money never moves twice for one order: while one payment is in flight or captured, no other
-- attempt (another key, a racing request) can even start. A failed attempt frees the order.
CREATE UNIQUE INDEX one_live_payment_per_order ON payments (order_id) WHERE status IN ('pending', 'captured');

CREATE INDEX payments_by_order_newest_first ON payments (order_id, created_at DESC, id DESC);

-- What the reconciler looks for: charges not settled, refunds requested and not done.
CREATE INDEX payments_unsettled ON payments (updated_at)
  WHERE status = 'pending' OR (status = 'captured' AND refund_requested_at IS NOT NULL);

-- Orders whose OrderCancelled payments has handled: a capture settling later is refunded.
CREATE TABLE closed_orders (
  order_id uuid PRIMARY KEY,
  closed_at timestamptz NOT NULL DEFAULT now()
);
