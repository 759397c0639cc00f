-- 0001 foundation: extensions, shared helpers, audit log, outbox.
--
-- Conventions used by every migration:
--   * ids are bigint identity/bigserial; timestamps are timestamptz;
--   * money is bigint minor units + currency char(3) CHECK '^[A-Z]{3}$';
--   * invariants live in the schema (FK, CHECK, UNIQUE, NOT NULL);
--   * migrations are never edited once they landed: a change is a new file.
-- scripts/migrate runs each file in one transaction; no BEGIN/COMMIT here.

CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- BEFORE UPDATE trigger: bump updated_at unless the statement set it itself.
CREATE FUNCTION nexus_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

-- The one timestamp format of the JSON API: UTC, second precision, 'Z'.
-- (e.g. 2024-03-01T09:30:00Z). The C code should format listing timestamps
-- the same way (or select nexus_json_ts(created_at)).
CREATE FUNCTION nexus_json_ts(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- Transaction-local request context, set by the C code with
--   SELECT set_config('nexus.actor_user_id', '42', true)
-- and read by triggers (stock movements, audit). Empty/absent => NULL.
CREATE FUNCTION nexus_setting(name text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting(name, true), '')
$$;

-- ---------------------------------------------------------------------------
-- Audit log: who did what to which entity. Append-only.
CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    actor_user_id bigint,                -- FK added in 0002 (users)
    actor_ip      inet,
    request_id    text,
    action        text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]*$'),  -- e.g. 'product.update'
    entity_type   text NOT NULL,
    entity_id     text,
    details       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, occurred_at DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, occurred_at DESC)
    WHERE actor_user_id IS NOT NULL;
CREATE INDEX audit_log_time_idx ON audit_log (occurred_at DESC);

CREATE FUNCTION audit_log_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();

-- ---------------------------------------------------------------------------
-- Transactional outbox: events that must not be lost (emails, webhooks,
-- payment verification, low-stock alerts) are inserted in the same
-- transaction as the change that caused them. Workers claim rows with
--   SELECT ... FROM outbox WHERE processed_at IS NULL AND available_at <= now()
--   ORDER BY available_at, id LIMIT n FOR UPDATE SKIP LOCKED
-- and on failure bump attempts and push available_at (backoff).
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    topic        text NOT NULL CHECK (topic ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$'),  -- 'email.password_reset'
    payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    available_at timestamptz NOT NULL DEFAULT now(),
    attempts     int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts int NOT NULL DEFAULT 10 CHECK (max_attempts > 0),
    processed_at timestamptz,
    failed_at    timestamptz,            -- gave up after max_attempts
    last_error   text,
    CHECK (processed_at IS NULL OR failed_at IS NULL)
);
CREATE INDEX outbox_pending_idx ON outbox (available_at, id)
    WHERE processed_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_topic_idx ON outbox (topic, created_at DESC);

-- Wake workers: one NOTIFY 'nexus_outbox' per inserting statement.
CREATE FUNCTION outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nexus_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
