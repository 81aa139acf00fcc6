-- v2 ListUsers pages in SQL (crates/store/src/shared.rs `user_page_sql`):
-- a user document's org and creation date as columns computed from its
-- body, so the indexes below order and filter users without reading the
-- documents. Virtual: nothing is stored in the table, only in the indexes,
-- which SQLite updates with each write of a user document.
ALTER TABLE docs ADD COLUMN user_org TEXT
    GENERATED ALWAYS AS (CASE WHEN collection = 'user' THEN json_extract(body, '$.org_id') END) VIRTUAL;
ALTER TABLE docs ADD COLUMN user_created INTEGER
    GENERATED ALWAYS AS (CASE WHEN collection = 'user' THEN json_extract(body, '$.details.creation_date') END) VIRTUAL;
CREATE INDEX docs_users_by_created ON docs (instance_id, user_created, id) WHERE collection = 'user';
-- `lookup` of a user document is its lower-cased user name.
CREATE INDEX docs_users_by_name ON docs (instance_id, lookup, id) WHERE collection = 'user';
CREATE INDEX docs_users_by_org ON docs (instance_id, user_org, user_created, id) WHERE collection = 'user';
