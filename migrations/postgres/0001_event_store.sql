-- The event log: append-only, one row per event.
CREATE TABLE events (
    position       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- global order (appends are serialised per instance)
    instance_id    TEXT    NOT NULL,
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    sequence       BIGINT  NOT NULL,  -- 1, 2, 3… per aggregate
    event_type     TEXT    NOT NULL,
    payload        TEXT,              -- JSON, NULL when none
    creator        TEXT    NOT NULL,
    owner          TEXT    NOT NULL,  -- resource owner
    created_at     BIGINT  NOT NULL,  -- microseconds since the epoch, UTC
    revision       INTEGER NOT NULL DEFAULT 1,
    UNIQUE (instance_id, aggregate_type, aggregate_id, sequence)
);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'events are append-only'; END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- Values that must be unique (user names, domains…), claimed with the events.
CREATE TABLE unique_constraints (
    scope TEXT NOT NULL, -- instance ID, or '' for system-wide
    kind  TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, kind, value)
);

-- Read models: JSON documents updated in the transaction of each append.
CREATE TABLE docs (
    instance_id TEXT NOT NULL,
    collection  TEXT NOT NULL,
    id          TEXT NOT NULL,
    lookup      TEXT,          -- secondary key (token hash, member's user ID…)
    body        TEXT NOT NULL, -- JSON
    PRIMARY KEY (instance_id, collection, id)
);
CREATE INDEX docs_by_lookup ON docs (instance_id, collection, lookup);
CREATE INDEX docs_by_id ON docs (collection, id);
