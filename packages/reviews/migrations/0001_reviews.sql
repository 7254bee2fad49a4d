-- The reviews module's schema is its own: no other module reads or writes it.
CREATE TABLE reviews (
  id uuid PRIMARY KEY,
  title text NOT NULL,
  created_by uuid NOT NULL,
  -- A create with an Idempotency-Key happens once per key (idempotentCreate); the request's
  -- fingerprint tells a retry from a reused key.
  idempotency_key text UNIQUE,
  request_hash text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX reviews_newest ON reviews (created_at DESC, id DESC);
