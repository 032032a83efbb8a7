-- Up Migration
-- a fresh token per claim: a step result is applied only by the claim that ran it, even when the
-- same process claims the flow again (after a cancel and retry, or a lease it failed to renew)
ALTER TABLE flows ADD COLUMN lease_token uuid;
-- what a step could see when it started: a signal sent by a transaction not visible in it may have
-- been missed by the step's check, so a wait for that signal runs the step again at once
ALTER TABLE flow_steps ADD COLUMN snapshot pg_snapshot;
ALTER TABLE flow_signals ADD COLUMN sent_xid xid8;

-- Down Migration
ALTER TABLE flow_signals DROP COLUMN sent_xid;
ALTER TABLE flow_steps DROP COLUMN snapshot;
ALTER TABLE flows DROP COLUMN lease_token;
