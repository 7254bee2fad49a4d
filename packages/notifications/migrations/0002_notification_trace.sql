-- The trace of the event handling that queued a notification (W3C traceparent): the send, which
-- happens later in the sender, continues it, so the email is part of the order's trace.
ALTER TABLE notifications ADD COLUMN traceparent text;
