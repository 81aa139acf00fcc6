-- Facts about the database itself, one value per name: the master key check
-- (an HMAC of a fixed label under the master key, recorded at the first
-- start) and the row the writer's health probe rewrites.
CREATE TABLE server_meta (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
