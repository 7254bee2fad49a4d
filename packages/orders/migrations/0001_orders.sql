-- The orders module's schema.
CREATE TABLE orders (
  id uuid PRIMARY KEY,
  customer_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'confirmed', 'shipped', 'delivered', 'cancelled')),
  total_cents bigint NOT NULL CHECK (total_cents >= 0),
  cancel_reason text,
  -- One order per (customer, key): racing retries collide here and read the winner.
  idempotency_key text NOT NULL,
  request_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT one_order_per_key UNIQUE (customer_id, idempotency_key)
);
CREATE INDEX orders_by_customer_newest_first ON orders (customer_id, created_at DESC, id DESC);

CREATE TABLE order_items (
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  line integer NOT NULL,
  product_id uuid NOT NULL, -- a product of the inventory module: no foreign key across schemas
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, line)
);
