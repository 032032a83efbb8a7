-- Up Migration
-- the last time each signal was sent: a step that decides to wait for a signal sent while it ran
-- sees it here and runs again at once instead of sleeping through it
CREATE TABLE flow_signals (
  name text PRIMARY KEY,
  sent_at timestamptz NOT NULL
);

-- Down Migration
DROP TABLE flow_signals;
