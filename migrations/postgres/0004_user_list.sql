-- v2 ListUsers pages in SQL (crates/store/src/shared.rs `user_page_sql`):
-- a user document's org and creation date as columns computed from its
-- body, so the indexes below order and filter users without reading the
-- documents.
ALTER TABLE docs ADD COLUMN user_org TEXT
    GENERATED ALWAYS AS (CASE WHEN collection = 'user' THEN body::jsonb ->> 'org_id' END) STORED;
ALTER TABLE docs ADD COLUMN user_created BIGINT
    GENERATED ALWAYS AS (CASE WHEN collection = 'user' THEN (body::jsonb -> 'details' ->> 'creation_date')::bigint END) STORED;
CREATE INDEX docs_users_by_created ON docs (instance_id, user_created, id) WHERE collection = 'user';
-- `lookup` of a user document is its lower-cased user name, ordered as
-- Rust compares strings (bytes).
CREATE INDEX docs_users_by_name ON docs (instance_id, lookup COLLATE "C", id) WHERE collection = 'user';
CREATE INDEX docs_users_by_org ON docs (instance_id, user_org, user_created, id) WHERE collection = 'user';
