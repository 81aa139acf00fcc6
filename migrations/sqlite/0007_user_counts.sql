-- v2 ListUsers pages whose cost does not grow with the number of users
-- (crates/store/src/user_page.rs), kept by triggers on `docs` so that every
-- write of a user document (a push, `twofold rebuild`) keeps them exact in
-- its own transaction. Same tables, same triggers in the PostgreSQL twin.
--
-- `user_counts`: the users of each org ('' for a user of none).
CREATE TABLE user_counts (
    instance_id TEXT    NOT NULL,
    org_id      TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (instance_id, org_id)
) WITHOUT ROWID;

-- Marks: the users of an instance in one order, cut in buckets. A mark
-- (key, id) starts a bucket that holds the `n` users from it up to the next
-- mark; the first mark of an instance is below every user. A page at offset
-- k seeks to the mark of the bucket holding position k and skips fewer than
-- 2,000 index entries. A bucket that grows past 2,000 users is split at its
-- 1,000th; a bucket that empties stays (harmless).
CREATE TABLE user_marks_created (
    instance_id TEXT    NOT NULL,
    created     INTEGER NOT NULL,
    id          TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (instance_id, created, id)
) WITHOUT ROWID;
CREATE TABLE user_marks_name (
    instance_id TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (instance_id, name, id)
) WITHOUT ROWID;

-- Backfill: a mark every 1,000 users, the first one moved below everything.
INSERT INTO user_counts (instance_id, org_id, n)
SELECT instance_id, COALESCE(user_org, ''), COUNT(*) FROM docs WHERE collection = 'user'
GROUP BY instance_id, COALESCE(user_org, '');
INSERT INTO user_marks_created (instance_id, created, id, n)
SELECT instance_id, CASE WHEN r = 0 THEN -9223372036854775808 ELSE user_created END,
       CASE WHEN r = 0 THEN '' ELSE id END, MIN(1000, total - r)
FROM (SELECT instance_id, user_created, id,
             ROW_NUMBER() OVER (PARTITION BY instance_id ORDER BY user_created, id) - 1 AS r,
             COUNT(*) OVER (PARTITION BY instance_id) AS total
      FROM docs WHERE collection = 'user' AND user_created IS NOT NULL)
WHERE r % 1000 = 0;
INSERT INTO user_marks_name (instance_id, name, id, n)
SELECT instance_id, CASE WHEN r = 0 THEN '' ELSE lookup END, CASE WHEN r = 0 THEN '' ELSE id END, MIN(1000, total - r)
FROM (SELECT instance_id, lookup, id,
             ROW_NUMBER() OVER (PARTITION BY instance_id ORDER BY lookup, id) - 1 AS r,
             COUNT(*) OVER (PARTITION BY instance_id) AS total
      FROM docs WHERE collection = 'user' AND lookup IS NOT NULL)
WHERE r % 1000 = 0;

-- A user document's instance, collection and id never change (upserts by
-- primary key); its org, creation date and name may.
CREATE TRIGGER user_counts_insert AFTER INSERT ON docs WHEN NEW.collection = 'user' BEGIN
    INSERT INTO user_counts (instance_id, org_id, n) VALUES (NEW.instance_id, COALESCE(NEW.user_org, ''), 1)
    ON CONFLICT (instance_id, org_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER user_counts_delete AFTER DELETE ON docs WHEN OLD.collection = 'user' BEGIN
    UPDATE user_counts SET n = n - 1 WHERE instance_id = OLD.instance_id AND org_id = COALESCE(OLD.user_org, '');
END;
CREATE TRIGGER user_counts_update AFTER UPDATE ON docs
WHEN NEW.collection = 'user' AND OLD.user_org IS NOT NEW.user_org BEGIN
    UPDATE user_counts SET n = n - 1 WHERE instance_id = OLD.instance_id AND org_id = COALESCE(OLD.user_org, '');
    INSERT INTO user_counts (instance_id, org_id, n) VALUES (NEW.instance_id, COALESCE(NEW.user_org, ''), 1)
    ON CONFLICT (instance_id, org_id) DO UPDATE SET n = n + 1;
END;

-- Adding a user to the marks: count it in its bucket (the last mark at or
-- below it), creating the instance's first mark if needed; a bucket grown
-- past 2,000 is split (the `_split` trigger). Removing one: uncount it. An
-- update is a removal and an addition. A user without the key (NULL) is in
-- no bucket: the reader then sees the buckets' sum differ from the count
-- and takes the plain query.
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
CREATE TRIGGER user_marks_created_update AFTER UPDATE ON docs
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
-- Not recursive: the second statement does not fire it again.
CREATE TRIGGER user_marks_created_split AFTER UPDATE OF n ON user_marks_created WHEN NEW.n > 2000 BEGIN
    INSERT INTO user_marks_created (instance_id, created, id, n)
    SELECT NEW.instance_id, user_created, id, NEW.n - 1000 FROM docs
    WHERE instance_id = NEW.instance_id AND collection = 'user' AND (user_created, id) >= (NEW.created, NEW.id)
    ORDER BY user_created, id LIMIT 1 OFFSET 1000;
    UPDATE user_marks_created SET n = 1000 WHERE instance_id = NEW.instance_id AND created = NEW.created AND id = NEW.id;
END;
CREATE TRIGGER user_marks_name_insert AFTER INSERT ON docs
WHEN NEW.collection = 'user' AND NEW.lookup IS NOT NULL BEGIN
    INSERT INTO user_marks_name (instance_id, name, id, n)
    SELECT NEW.instance_id, '', '', 0 WHERE NEW.lookup IS NOT NULL ON CONFLICT DO NOTHING;
    UPDATE user_marks_name SET n = n + 1 WHERE instance_id = NEW.instance_id AND (name, id) = (
        SELECT name, id FROM user_marks_name WHERE instance_id = NEW.instance_id
        AND (name, id) <= (NEW.lookup, NEW.id) ORDER BY name DESC, id DESC LIMIT 1);
END;
CREATE TRIGGER user_marks_name_delete AFTER DELETE ON docs
WHEN OLD.collection = 'user' AND OLD.lookup IS NOT NULL BEGIN
    UPDATE user_marks_name SET n = n - 1 WHERE instance_id = OLD.instance_id AND (name, id) = (
        SELECT name, id FROM user_marks_name WHERE instance_id = OLD.instance_id
        AND (name, id) <= (OLD.lookup, OLD.id) ORDER BY name DESC, id DESC LIMIT 1);
END;
CREATE TRIGGER user_marks_name_update AFTER UPDATE ON docs
WHEN NEW.collection = 'user' AND OLD.lookup IS NOT NEW.lookup BEGIN
    UPDATE user_marks_name SET n = n - 1 WHERE instance_id = OLD.instance_id AND (name, id) = (
        SELECT name, id FROM user_marks_name WHERE instance_id = OLD.instance_id
        AND (name, id) <= (OLD.lookup, OLD.id) ORDER BY name DESC, id DESC LIMIT 1);
    INSERT INTO user_marks_name (instance_id, name, id, n)
    SELECT NEW.instance_id, '', '', 0 WHERE NEW.lookup IS NOT NULL ON CONFLICT DO NOTHING;
    UPDATE user_marks_name SET n = n + 1 WHERE instance_id = NEW.instance_id AND (name, id) = (
        SELECT name, id FROM user_marks_name WHERE instance_id = NEW.instance_id
        AND (name, id) <= (NEW.lookup, NEW.id) ORDER BY name DESC, id DESC LIMIT 1);
END;
-- Not recursive: the second statement does not fire it again.
CREATE TRIGGER user_marks_name_split AFTER UPDATE OF n ON user_marks_name WHEN NEW.n > 2000 BEGIN
    INSERT INTO user_marks_name (instance_id, name, id, n)
    SELECT NEW.instance_id, lookup, id, NEW.n - 1000 FROM docs
    WHERE instance_id = NEW.instance_id AND collection = 'user' AND (lookup, id) >= (NEW.name, NEW.id)
    ORDER BY lookup, id LIMIT 1 OFFSET 1000;
    UPDATE user_marks_name SET n = 1000 WHERE instance_id = NEW.instance_id AND name = NEW.name AND id = NEW.id;
END;
