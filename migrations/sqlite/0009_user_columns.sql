-- The users' org and creation date as plain columns that the store writes
-- (crates/store/src/sqlite_writer.rs) instead of VIRTUAL columns generated
-- from the JSON body. A generated column depends on `body`, so every
-- rewrite of a user document (each sign-in step) also rewrote its entries
-- in the two indexes below and ran the update triggers, parsing the JSON
-- for each: at a million users that was four dirty index pages per
-- sign-in, 43 KB written (docs/benchmarks.md, ninth session). A write
-- that leaves the lookup and these columns as they were now changes the
-- body alone. PostgreSQL keeps its STORED columns: it compares values
-- before touching an index.
--
-- SQLite drops a column only when no index or trigger names it: those of
-- migrations 0004 and 0007 that do go, and come back unchanged (the update
-- triggers now fire only for the column they watch).
DROP TRIGGER user_counts_insert;
DROP TRIGGER user_counts_delete;
DROP TRIGGER user_counts_update;
DROP TRIGGER user_marks_created_insert;
DROP TRIGGER user_marks_created_delete;
DROP TRIGGER user_marks_created_update;
DROP TRIGGER user_marks_created_split;
DROP INDEX docs_users_by_created;
DROP INDEX docs_users_by_org;
ALTER TABLE docs DROP COLUMN user_org;
ALTER TABLE docs DROP COLUMN user_created;
ALTER TABLE docs ADD COLUMN user_org TEXT;
ALTER TABLE docs ADD COLUMN user_created INTEGER;
UPDATE docs SET user_org = json_extract(body, '$.org_id'),
                user_created = json_extract(body, '$.details.creation_date')
WHERE collection = 'user';
CREATE INDEX docs_users_by_created ON docs (instance_id, user_created, id) WHERE collection = 'user';
CREATE INDEX docs_users_by_org ON docs (instance_id, user_org, user_created, id) WHERE collection = 'user';
CREATE TRIGGER user_counts_insert AFTER INSERT ON docs WHEN NEW.collection = 'user' BEGIN
    INSERT INTO user_counts (instance_id, org_id, n) VALUES (NEW.instance_id, COALESCE(NEW.user_org, ''), 1)
    ON CONFLICT (instance_id, org_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER user_counts_delete AFTER DELETE ON docs WHEN OLD.collection = 'user' BEGIN
    UPDATE user_counts SET n = n - 1 WHERE instance_id = OLD.instance_id AND org_id = COALESCE(OLD.user_org, '');
END;
CREATE TRIGGER user_counts_update AFTER UPDATE OF user_org ON docs
WHEN NEW.collection = 'user' AND OLD.user_org IS NOT NEW.user_org BEGIN
    UPDATE user_counts SET n = n - 1 WHERE instance_id = OLD.instance_id AND org_id = COALESCE(OLD.user_org, '');
    INSERT INTO user_counts (instance_id, org_id, n) VALUES (NEW.instance_id, COALESCE(NEW.user_org, ''), 1)
    ON CONFLICT (instance_id, org_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER user_marks_created_insert AFTER INSERT ON docs
WHEN NEW.collection = 'user' AND NEW.user_created IS NOT NULL BEGIN
    INSERT INTO user_marks_created (instance_id, created, id, n)
    SELECT NEW.instance_id, -9223372036854775808, '', 0 WHERE NEW.user_created IS NOT NULL ON CONFLICT DO NOTHING;
    UPDATE user_marks_created SET n = n + 1 WHERE instance_id = NEW.instance_id AND (created, id) = (
        SELECT created, id FROM user_marks_created WHERE instance_id = NEW.instance_id
        AND (created, id) <= (NEW.user_created, NEW.id) ORDER BY created DESC, id DESC LIMIT 1);
END;
CREATE TRIGGER user_marks_created_delete AFTER DELETE ON docs
WHEN OLD.collection = 'user' AND OLD.user_created IS NOT NULL BEGIN
    UPDATE user_marks_created SET n = n - 1 WHERE instance_id = OLD.instance_id AND (created, id) = (
        SELECT created, id FROM user_marks_created WHERE instance_id = OLD.instance_id
        AND (created, id) <= (OLD.user_created, OLD.id) ORDER BY created DESC, id DESC LIMIT 1);
END;
CREATE TRIGGER user_marks_created_update AFTER UPDATE OF user_created ON docs
WHEN NEW.collection = 'user' AND OLD.user_created IS NOT NEW.user_created BEGIN
    UPDATE user_marks_created SET n = n - 1 WHERE instance_id = OLD.instance_id AND (created, id) = (
        SELECT created, id FROM user_marks_created WHERE instance_id = OLD.instance_id
        AND (created, id) <= (OLD.user_created, OLD.id) ORDER BY created DESC, id DESC LIMIT 1);
    INSERT INTO user_marks_created (instance_id, created, id, n)
    SELECT NEW.instance_id, -9223372036854775808, '', 0 WHERE NEW.user_created IS NOT NULL ON CONFLICT DO NOTHING;
    UPDATE user_marks_created SET n = n + 1 WHERE instance_id = NEW.instance_id AND (created, id) = (
        SELECT created, id FROM user_marks_created WHERE instance_id = NEW.instance_id
        AND (created, id) <= (NEW.user_created, NEW.id) ORDER BY created DESC, id DESC LIMIT 1);
END;
CREATE TRIGGER user_marks_created_split AFTER UPDATE OF n ON user_marks_created WHEN NEW.n > 2000 BEGIN
    INSERT INTO user_marks_created (instance_id, created, id, n)
    SELECT NEW.instance_id, user_created, id, NEW.n - 1000 FROM docs
    WHERE instance_id = NEW.instance_id AND collection = 'user' AND (user_created, id) >= (NEW.created, NEW.id)
    ORDER BY user_created, id LIMIT 1 OFFSET 1000;
    UPDATE user_marks_created SET n = 1000 WHERE instance_id = NEW.instance_id AND created = NEW.created AND id = NEW.id;
END;
