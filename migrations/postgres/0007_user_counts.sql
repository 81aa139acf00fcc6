-- v2 ListUsers pages whose cost does not grow with the number of users
-- (crates/store/src/user_page.rs), kept by a trigger on `docs` so that every
-- write of a user document (a push, `twofold rebuild`) keeps them exact in
-- its own transaction. Same tables, same rules as the SQLite twin.
--
-- `user_counts`: the users of each org ('' for a user of none).
CREATE TABLE user_counts (
    instance_id TEXT   NOT NULL,
    org_id      TEXT   NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (instance_id, org_id)
);

-- Marks: the users of an instance in one order, cut in buckets. A mark
-- (key, id) starts a bucket that holds the `n` users from it up to the next
-- mark; the first mark of an instance is below every user. A page at offset
-- k seeks to the mark of the bucket holding position k and skips fewer than
-- 2,000 index entries. A bucket that grows past 2,000 users is split at its
-- 1,000th (`user_marks_split`); a bucket that empties stays (harmless).
CREATE TABLE user_marks_created (
    instance_id TEXT   NOT NULL,
    created     BIGINT NOT NULL,
    id          TEXT   NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (instance_id, created, id)
);
-- Names ordered as Rust compares strings (bytes), like docs_users_by_name.
CREATE TABLE user_marks_name (
    instance_id TEXT            NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    id          TEXT            NOT NULL,
    n           BIGINT          NOT NULL,
    PRIMARY KEY (instance_id, name, id)
);

-- Backfill: a mark every 1,000 users, the first one moved below everything.
INSERT INTO user_counts (instance_id, org_id, n)
SELECT instance_id, COALESCE(user_org, ''), COUNT(*) FROM docs WHERE collection = 'user'
GROUP BY instance_id, COALESCE(user_org, '');
INSERT INTO user_marks_created (instance_id, created, id, n)
SELECT instance_id, CASE WHEN r = 0 THEN -9223372036854775808 ELSE user_created END,
       CASE WHEN r = 0 THEN '' ELSE id END, LEAST(1000, total - r)
FROM (SELECT instance_id, user_created, id,
             ROW_NUMBER() OVER (PARTITION BY instance_id ORDER BY user_created, id) - 1 AS r,
             COUNT(*) OVER (PARTITION BY instance_id) AS total
      FROM docs WHERE collection = 'user' AND user_created IS NOT NULL) u
WHERE r % 1000 = 0;
INSERT INTO user_marks_name (instance_id, name, id, n)
SELECT instance_id, CASE WHEN r = 0 THEN '' ELSE lookup END, CASE WHEN r = 0 THEN '' ELSE id END,
       LEAST(1000, total - r)
FROM (SELECT instance_id, lookup, id,
             ROW_NUMBER() OVER (PARTITION BY instance_id ORDER BY lookup COLLATE "C", id) - 1 AS r,
             COUNT(*) OVER (PARTITION BY instance_id) AS total
      FROM docs WHERE collection = 'user' AND lookup IS NOT NULL) u
WHERE r % 1000 = 0;

-- Counts `d` (+1 or -1) for user `uid` of org `org` created `k_created`
-- named `k_name`: in its org's count, and in the bucket of each order (the
-- last mark at or below it, the instance's first mark made if needed). A
-- user without a key (NULL) is in no bucket of that order: the reader then
-- sees the buckets' sum differ from the count and takes the plain query.
CREATE FUNCTION user_marks_count(inst TEXT, uid TEXT, org TEXT, k_created BIGINT, k_name TEXT, d BIGINT)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    bc BIGINT;
    bn TEXT COLLATE "C";
    bid TEXT;
BEGIN
    IF d > 0 THEN
        INSERT INTO user_counts AS c (instance_id, org_id, n) VALUES (inst, COALESCE(org, ''), d)
        ON CONFLICT (instance_id, org_id) DO UPDATE SET n = c.n + d;
    ELSE
        UPDATE user_counts c SET n = c.n + d WHERE c.instance_id = inst AND c.org_id = COALESCE(org, '');
    END IF;
    IF k_created IS NOT NULL THEN
        IF d > 0 THEN
            INSERT INTO user_marks_created (instance_id, created, id, n)
            VALUES (inst, -9223372036854775808, '', 0) ON CONFLICT DO NOTHING;
        END IF;
        SELECT m.created, m.id INTO bc, bid FROM user_marks_created m
        WHERE m.instance_id = inst AND (m.created, m.id) <= (k_created, uid)
        ORDER BY m.created DESC, m.id DESC LIMIT 1;
        UPDATE user_marks_created m SET n = m.n + d WHERE m.instance_id = inst AND m.created = bc AND m.id = bid;
    END IF;
    IF k_name IS NOT NULL THEN
        IF d > 0 THEN
            INSERT INTO user_marks_name (instance_id, name, id, n) VALUES (inst, '', '', 0) ON CONFLICT DO NOTHING;
        END IF;
        SELECT m.name, m.id INTO bn, bid FROM user_marks_name m
        WHERE m.instance_id = inst AND (m.name, m.id) <= (k_name COLLATE "C", uid)
        ORDER BY m.name DESC, m.id DESC LIMIT 1;
        UPDATE user_marks_name m SET n = m.n + d WHERE m.instance_id = inst AND m.name = bn AND m.id = bid;
    END IF;
END $$;

-- Splits the buckets grown past 2,000 users at their 1,000th. Once per
-- statement, after its row triggers: PostgreSQL runs those at the end of
-- the statement, when `docs` already holds every row it wrote, so a split
-- made by a row's trigger would count rows not counted yet.
CREATE FUNCTION user_marks_split() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b RECORD;
    s RECORD;
BEGIN
    LOOP
        SELECT m.instance_id, m.created, m.id, m.n INTO b FROM user_marks_created m WHERE m.n > 2000 LIMIT 1;
        EXIT WHEN NOT FOUND;
        SELECT u.user_created AS k, u.id INTO s FROM docs u
        WHERE u.instance_id = b.instance_id AND u.collection = 'user' AND (u.user_created, u.id) >= (b.created, b.id)
        ORDER BY u.user_created, u.id LIMIT 1 OFFSET 1000;
        UPDATE user_marks_created m SET n = 1000
        WHERE m.instance_id = b.instance_id AND m.created = b.created AND m.id = b.id;
        INSERT INTO user_marks_created (instance_id, created, id, n) VALUES (b.instance_id, s.k, s.id, b.n - 1000);
    END LOOP;
    LOOP
        SELECT m.instance_id, m.name, m.id, m.n INTO b FROM user_marks_name m WHERE m.n > 2000 LIMIT 1;
        EXIT WHEN NOT FOUND;
        SELECT u.lookup AS k, u.id INTO s FROM docs u
        WHERE u.instance_id = b.instance_id AND u.collection = 'user' AND (u.lookup COLLATE "C", u.id) >= (b.name, b.id)
        ORDER BY u.lookup COLLATE "C", u.id LIMIT 1 OFFSET 1000;
        UPDATE user_marks_name m SET n = 1000 WHERE m.instance_id = b.instance_id AND m.name = b.name AND m.id = b.id;
        INSERT INTO user_marks_name (instance_id, name, id, n) VALUES (b.instance_id, s.k, s.id, b.n - 1000);
    END LOOP;
    RETURN NULL;
END $$;
CREATE INDEX user_marks_created_full ON user_marks_created (instance_id) WHERE n > 2000;
CREATE INDEX user_marks_name_full ON user_marks_name (instance_id) WHERE n > 2000;
CREATE TRIGGER user_marks_split AFTER INSERT OR UPDATE OR DELETE ON docs
FOR EACH STATEMENT EXECUTE FUNCTION user_marks_split();

-- A user document's instance, collection and id never change (upserts by
-- primary key); its org, creation date and name may.
CREATE FUNCTION user_marks_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM user_marks_count(OLD.instance_id, OLD.id, OLD.user_org, OLD.user_created, OLD.lookup, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM user_marks_count(NEW.instance_id, NEW.id, NEW.user_org, NEW.user_created, NEW.lookup, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER user_marks_insert AFTER INSERT ON docs
FOR EACH ROW WHEN (NEW.collection = 'user') EXECUTE FUNCTION user_marks_trigger();
CREATE TRIGGER user_marks_delete AFTER DELETE ON docs
FOR EACH ROW WHEN (OLD.collection = 'user') EXECUTE FUNCTION user_marks_trigger();
CREATE TRIGGER user_marks_update AFTER UPDATE ON docs
FOR EACH ROW WHEN (NEW.collection = 'user' AND (OLD.user_org IS DISTINCT FROM NEW.user_org
    OR OLD.user_created IS DISTINCT FROM NEW.user_created OR OLD.lookup IS DISTINCT FROM NEW.lookup))
EXECUTE FUNCTION user_marks_trigger();
