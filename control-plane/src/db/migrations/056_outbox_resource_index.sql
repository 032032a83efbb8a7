-- Up Migration
-- A resource's latest event, found by index: a status report that changes nothing is skipped only
-- when the resource was already reported after its latest event (status.ts), so flows that wait for
-- "a report since the last re-send" (plan-change) still see the first one.
CREATE INDEX outbox_events_resource_idx ON outbox_events (resource_id, created_at);

-- Down Migration
DROP INDEX outbox_events_resource_idx;
