-- Aggregate snapshots (see crates/domain/src/snapshot.rs): the latest folded
-- state of an aggregate, written with its events so a command reads it and
-- the events after it instead of the whole history. Derived data: a row is
-- used only by code of the same version and may be deleted at any time.
CREATE TABLE snapshots (
    instance_id    TEXT    NOT NULL,
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    version        BIGINT  NOT NULL, -- hash of the code that folded the state
    sequence       BIGINT  NOT NULL, -- the last event folded in
    created_at     BIGINT  NOT NULL, -- when that event was stored (µs since the epoch)
    state          TEXT    NOT NULL, -- JSON
    PRIMARY KEY (instance_id, aggregate_type, aggregate_id)
);
