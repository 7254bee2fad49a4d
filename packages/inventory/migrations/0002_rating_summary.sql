-- Each product's rating summary, kept from the reviews module's events (ReviewPosted adds a
-- rating, ReviewRemoved takes it out). The sum is stored, never the average: adding and
-- subtracting commute, so the events may arrive in any order (a removal before its posting)
-- and the summary still ends right; the inbox makes each event count once. The average is
-- computed on read. No CHECK (>= 0): a removal that overtook its posting leaves them
-- below zero for a moment.
ALTER TABLE products
  ADD COLUMN rating_sum bigint NOT NULL DEFAULT 0,
  ADD COLUMN review_count integer NOT NULL DEFAULT 0;
