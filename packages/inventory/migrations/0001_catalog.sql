-- The inventory module's schema: the catalog, stock on hand and what reservations hold.
CREATE TABLE products (
  id uuid PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  name text NOT NULL,
  price_cents integer NOT NULL CHECK (price_cents >= 0),
  stock_quantity integer NOT NULL CHECK (stock_quantity >= 0),
  reserved_quantity integer NOT NULL DEFAULT 0 CHECK (reserved_quantity >= 0),
  -- Set when created with an Idempotency-Key: "<caller>:<key>", and a hash of the request.
  idempotency_key text UNIQUE,
  request_hash text,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Never oversell: what is reserved is always on hand.
  CONSTRAINT reserved_within_stock CHECK (reserved_quantity <= stock_quantity)
);
CREATE INDEX products_newest_first ON products (created_at DESC, id DESC);

CREATE TABLE reservations (
  id uuid PRIMARY KEY,
  order_id uuid NOT NULL, -- the order lives in the orders module: no foreign key across schemas
  product_id uuid NOT NULL REFERENCES products (id),
  quantity integer NOT NULL CHECK (quantity > 0),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'released', 'committed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (order_id, product_id)
);

-- Orders released before they were reserved (their OrderCancelled overtook a retried
-- OrderCreated): a late reservation for them must not happen.
CREATE TABLE closed_orders (
  order_id uuid PRIMARY KEY,
  closed_at timestamptz NOT NULL DEFAULT now()
);
