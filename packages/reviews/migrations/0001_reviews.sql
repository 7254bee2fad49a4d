-- The reviews module's schema is its own: no other module reads or writes it.

-- What each customer received, learned from orders' OrderDelivered events (version 2 carries the
-- items), never from the orders schema: a customer may review what is here.
CREATE TABLE purchases (
  customer_id uuid NOT NULL,
  product_id uuid NOT NULL,
  -- The first delivered order that held it.
  order_id uuid NOT NULL,
  delivered_at timestamptz NOT NULL,
  PRIMARY KEY (customer_id, product_id)
);

CREATE TABLE reviews (
  id uuid PRIMARY KEY,
  product_id uuid NOT NULL,
  customer_id uuid NOT NULL,
  rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  body text NOT NULL,
  -- A post with an Idempotency-Key happens once per customer and key (idempotentCreate); the
  -- request's fingerprint tells a retry from a reused key.
  idempotency_key text,
  request_hash text,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- One review per customer and product, decided by the database whatever the replicas do.
  CONSTRAINT one_review_per_customer_and_product UNIQUE (customer_id, product_id),
  CONSTRAINT one_review_per_key UNIQUE (customer_id, idempotency_key)
);

CREATE INDEX reviews_of_product ON reviews (product_id, created_at DESC, id DESC);
