-- Up Migration
-- Change capture for the data plane: triggers on `resources` write an event into `outbox_events`
-- in the same transaction as the change, so every change (the API's, a flow's, or one made by hand
-- in SQL) reaches the cell's agents, and a rolled-back change never does. See docs/dataplane.md.

-- One counter per cell. The trigger increments it (an upsert, so a new cell needs no setup) and the
-- row lock that takes is held until the writer has committed: writers of one cell queue, so
-- sequences are gapless and become visible in order. A Postgres SEQUENCE would be neither:
-- nextval() is not rolled back (a gap for every aborted transaction), and a transaction holding 7
-- can commit before the one holding 6, so a reader reading "after 6" would see 7, and skip 6 forever
-- once it commits.
CREATE TABLE outbox_cells (
  cell_id text PRIMARY KEY,
  last_sequence bigint NOT NULL,
  -- changes if the counter is ever recreated (a restored or rebuilt database): part of the ETag, so
  -- an agent never takes "sequence 5" of one history for "sequence 5" of another
  epoch text NOT NULL DEFAULT left(replace(gen_random_uuid()::text, '-', ''), 8),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- no foreign keys: events outlive their resource (an organization purge deletes its rows) and
-- their organization
CREATE TABLE outbox_events (
  id bigserial PRIMARY KEY,
  cell_id text NOT NULL,
  sequence bigint NOT NULL,
  type text NOT NULL CHECK (type IN ('resource.created', 'resource.updated', 'resource.deleted')),
  org_id uuid NOT NULL,
  resource_id uuid NOT NULL,
  generation bigint NOT NULL,
  -- the resource's desired state after the change; none once it has left the cell
  desired jsonb CHECK ((type = 'resource.deleted') = (desired IS NULL)),
  -- the W3C traceparent of the transaction that made the change; NULL for a change made by hand
  traceparent text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (cell_id, sequence)
);

-- what an agent is told to do with a resource; the control plane's own bookkeeping phases (pending,
-- provisioning, ready, failed) all mean "run it as specified", so moving between them is no event
CREATE FUNCTION outbox_desired_phase(phase text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE phase WHEN 'suspended' THEN 'suspended' WHEN 'deprovisioning' THEN 'deprovisioning' ELSE 'active' END
$$;

-- the one definition of a resource's desired state: events and snapshots both use it, so an agent
-- that applies every event holds exactly what a snapshot would give it
CREATE FUNCTION outbox_desired_state(r resources) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('kind', r.kind, 'name', r.name, 'spec', r.spec, 'generation', r.generation,
    'phase', outbox_desired_phase(r.phase), 'orgId', r.org_id, 'cell', r.cell_id)
$$;

-- part of its cell's desired state: placed, and not finalized as deleted
CREATE FUNCTION outbox_resource_is_live(r resources) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT r.cell_id IS NOT NULL AND r.deleted_at IS NULL AND r.phase <> 'deleted'
$$;

CREATE FUNCTION outbox_emit(cell text, event_type text, r resources, desired jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  next_sequence bigint;
BEGIN
  INSERT INTO outbox_cells AS c (cell_id, last_sequence) VALUES (cell, 1)
  ON CONFLICT (cell_id) DO UPDATE SET last_sequence = c.last_sequence + 1, updated_at = clock_timestamp()
  RETURNING c.last_sequence INTO next_sequence;
  INSERT INTO outbox_events (cell_id, sequence, type, org_id, resource_id, generation, desired, traceparent)
  VALUES (cell, next_sequence, event_type, r.org_id, r.id, r.generation, desired,
    -- set by the application per transaction (set_config(..., true)); '' once a session has used it
    NULLIF(current_setting('planewright.traceparent', true), ''));
  -- only a wake-up for long-polls, delivered at commit; readers always read the table
  PERFORM pg_notify('planewright_outbox', cell || ':' || next_sequence);
END
$$;

CREATE FUNCTION outbox_capture_resource() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_cell text;
  new_cell text;
  new_desired jsonb;
BEGIN
  IF TG_OP <> 'INSERT' AND outbox_resource_is_live(OLD) THEN old_cell := OLD.cell_id; END IF;
  IF TG_OP <> 'DELETE' AND outbox_resource_is_live(NEW) THEN new_cell := NEW.cell_id; END IF;
  IF old_cell IS NOT NULL AND old_cell = new_cell THEN
    new_desired := outbox_desired_state(NEW);
    -- an observed-status write, or a bookkeeping phase change, leaves the desired state as it was
    IF outbox_desired_state(OLD) IS DISTINCT FROM new_desired THEN
      PERFORM outbox_emit(new_cell, 'resource.updated', NEW, new_desired);
    END IF;
    RETURN NULL;
  END IF;
  -- leaving a cell, entering one, or both (a move). Counters are locked in cell-id order, so two
  -- moves in opposite directions queue instead of deadlocking.
  IF old_cell IS NOT NULL AND (new_cell IS NULL OR old_cell < new_cell) THEN
    PERFORM outbox_emit(old_cell, 'resource.deleted', OLD, NULL);
    old_cell := NULL;
  END IF;
  IF new_cell IS NOT NULL THEN
    PERFORM outbox_emit(new_cell, 'resource.created', NEW, outbox_desired_state(NEW));
  END IF;
  IF old_cell IS NOT NULL THEN
    PERFORM outbox_emit(old_cell, 'resource.deleted', OLD, NULL);
  END IF;
  RETURN NULL;
END
$$;

-- TRUNCATE fires no row triggers: announce every live resource's removal before it goes
CREATE FUNCTION outbox_capture_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r resources;
BEGIN
  FOR r IN SELECT * FROM resources WHERE outbox_resource_is_live(resources) ORDER BY cell_id, id LOOP
    PERFORM outbox_emit(r.cell_id, 'resource.deleted', r, NULL);
  END LOOP;
  RETURN NULL;
END
$$;

-- Deferred to commit: the trigger runs, and so takes the cell's counter lock, only as the writing
-- transaction commits. Writers of one cell then queue for the commit alone, not for the rest of
-- a transaction that goes on to write a flow and an audit row after the change (bench/outbox.ts).
CREATE CONSTRAINT TRIGGER resources_outbox_insert AFTER INSERT ON resources
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION outbox_capture_resource();
-- the WHEN clause is checked without entering PL/pgSQL: status reports (status,
-- observed_generation, last_error, updated_at) cost the trigger nothing
CREATE CONSTRAINT TRIGGER resources_outbox_update AFTER UPDATE ON resources
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.cell_id IS NOT DISTINCT FROM NEW.cell_id AND (
    OLD.spec IS DISTINCT FROM NEW.spec OR OLD.generation IS DISTINCT FROM NEW.generation
    OR OLD.phase IS DISTINCT FROM NEW.phase OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
    OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.name IS DISTINCT FROM NEW.name
    OR OLD.org_id IS DISTINCT FROM NEW.org_id))
  EXECUTE FUNCTION outbox_capture_resource();
-- a move between cells: deleted in the old cell, created in the new one
CREATE CONSTRAINT TRIGGER resources_outbox_move AFTER UPDATE ON resources
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.cell_id IS DISTINCT FROM NEW.cell_id)
  EXECUTE FUNCTION outbox_capture_resource();
CREATE CONSTRAINT TRIGGER resources_outbox_delete AFTER DELETE ON resources
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION outbox_capture_resource();
CREATE TRIGGER resources_outbox_truncate BEFORE TRUNCATE ON resources
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_capture_truncate();

-- Resources placed before change capture existed are announced once, so each cell's history is
-- complete from sequence 1 and a snapshot at any sequence equals the events up to it.
DO $$
DECLARE
  r resources;
BEGIN
  FOR r IN SELECT * FROM resources WHERE outbox_resource_is_live(resources) ORDER BY cell_id, created_at, id LOOP
    PERFORM outbox_emit(r.cell_id, 'resource.created', r, outbox_desired_state(r));
  END LOOP;
END
$$;

-- Down Migration
DROP TRIGGER resources_outbox_truncate ON resources;
DROP TRIGGER resources_outbox_delete ON resources;
DROP TRIGGER resources_outbox_move ON resources;
DROP TRIGGER resources_outbox_update ON resources;
DROP TRIGGER resources_outbox_insert ON resources;
DROP FUNCTION outbox_capture_truncate();
DROP FUNCTION outbox_capture_resource();
DROP FUNCTION outbox_emit(text, text, resources, jsonb);
DROP FUNCTION outbox_resource_is_live(resources);
DROP FUNCTION outbox_desired_state(resources);
DROP FUNCTION outbox_desired_phase(text);
DROP TABLE outbox_events, outbox_cells;
