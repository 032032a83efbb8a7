-- Up Migration
-- Vendor webhooks received (issue 7): one row per event, so a delivery Stripe repeats (it does:
-- retries, duplicates) is recognised and starts nothing twice. See docs/control-plane.md.
CREATE TABLE webhook_events (
  provider text NOT NULL,
  event_id text NOT NULL,
  type text NOT NULL,
  -- the object the event is about (an invoice, a subscription), for support and tests
  object_id text,
  -- deliveries of this event received, the first included
  deliveries integer NOT NULL DEFAULT 1,
  received_at timestamptz NOT NULL DEFAULT now(),
  last_received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, event_id)
);

-- Down Migration
DROP TABLE webhook_events;
