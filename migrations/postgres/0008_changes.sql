-- What each commit changed, so that every node can cache reads (see
-- crates/store/src/postgres.rs): before a request's first read, a node
-- forgets what other nodes' commits since its last look changed. `seq`
-- numbers commits without gaps in commit order: each write transaction
-- takes the next one from `change_head` last, and holds that row's lock
-- until it commits. Only the latest rows are kept; a node that finds a gap
-- forgets everything.
CREATE TABLE change_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT  NOT NULL
);
INSERT INTO change_head (id, seq) VALUES (1, 0);
CREATE TABLE changes (
    seq  BIGINT PRIMARY KEY,
    node TEXT   NOT NULL, -- the process that committed it
    keys TEXT   NOT NULL  -- JSON [documents, aggregates]; anything else: everything
);
