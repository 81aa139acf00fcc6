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

-- The triggers below run once per statement on `docs`, over the user
-- documents it wrote (transition tables): a row updated by every insert
-- of a transaction (an org's count, a bucket) would otherwise grow a
-- chain of versions that each later update walks, quadratic in a rebuild
-- or a large batch.
CREATE TYPE user_key AS (instance_id TEXT, id TEXT, org TEXT, created BIGINT, name TEXT);

-- Counts `d` (+1 or -1) for each user of `keys`: in its org's count, and in
-- the bucket of each order (the last mark at or below it, the instance's
-- first mark made if needed). A user without a key (NULL) is in no bucket
-- of that order: the reader then sees the buckets' sum differ from the
-- count and takes the plain query.
CREATE FUNCTION user_marks_count(keys user_key[], d BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF COALESCE(cardinality(keys), 0) = 0 THEN
        RETURN;
    END IF;
    IF d > 0 THEN
        INSERT INTO user_counts AS c (instance_id, org_id, n)
        SELECT k.instance_id, COALESCE(k.org, ''), COUNT(*) FROM unnest(keys) k GROUP BY 1, 2
        ON CONFLICT (instance_id, org_id) DO UPDATE SET n = c.n + excluded.n;
        INSERT INTO user_marks_created (instance_id, created, id, n)
        SELECT DISTINCT k.instance_id, (-9223372036854775808)::BIGINT, '', 0::BIGINT FROM unnest(keys) k
        WHERE k.created IS NOT NULL ON CONFLICT DO NOTHING;
        INSERT INTO user_marks_name (instance_id, name, id, n)
        SELECT DISTINCT k.instance_id, '', '', 0::BIGINT FROM unnest(keys) k
        WHERE k.name IS NOT NULL ON CONFLICT DO NOTHING;
    ELSE
        UPDATE user_counts c SET n = c.n - x.k
        FROM (SELECT k.instance_id, COALESCE(k.org, '') AS org, COUNT(*) AS k FROM unnest(keys) k GROUP BY 1, 2) x
        WHERE c.instance_id = x.instance_id AND c.org_id = x.org;
    END IF;
    UPDATE user_marks_created m SET n = m.n + d * x.k
    FROM (SELECT b.instance_id, b.created, b.id, COUNT(*) AS k FROM unnest(keys) k
          CROSS JOIN LATERAL (SELECT m2.instance_id, m2.created, m2.id FROM user_marks_created m2
                              WHERE m2.instance_id = k.instance_id AND (m2.created, m2.id) <= (k.created, k.id)
                              ORDER BY m2.created DESC, m2.id DESC LIMIT 1) b
          WHERE k.created IS NOT NULL GROUP BY 1, 2, 3) x
    WHERE m.instance_id = x.instance_id AND m.created = x.created AND m.id = x.id;
    UPDATE user_marks_name m SET n = m.n + d * x.k
    FROM (SELECT b.instance_id, b.name, b.id, COUNT(*) AS k FROM unnest(keys) k
          CROSS JOIN LATERAL (SELECT m2.instance_id, m2.name, m2.id FROM user_marks_name m2
                              WHERE m2.instance_id = k.instance_id AND (m2.name, m2.id) <= (k.name COLLATE "C", k.id)
                              ORDER BY m2.name DESC, m2.id DESC LIMIT 1) b
          WHERE k.name IS NOT NULL GROUP BY 1, 2, 3) x
    WHERE m.instance_id = x.instance_id AND m.name = x.name AND m.id = x.id;
END $$;

-- Splits the buckets grown past 2,000 users at their 1,000th.
CREATE FUNCTION user_marks_split() RETURNS void LANGUAGE plpgsql AS $$
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
END $$;
CREATE INDEX user_marks_created_full ON user_marks_created (instance_id) WHERE n > 2000;
CREATE INDEX user_marks_name_full ON user_marks_name (instance_id) WHERE n > 2000;

-- A user document's instance, collection and id never change (upserts by
-- primary key); its org, creation date and name may: an update of one of
-- them uncounts the old version and counts the new one.
CREATE FUNCTION user_marks_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM user_marks_count(ARRAY(SELECT ROW(r.instance_id, r.id, r.user_org, r.user_created, r.lookup)::user_key
                                   FROM new_rows r WHERE r.collection = 'user'), 1);
    PERFORM user_marks_split();
    RETURN NULL;
END $$;
CREATE FUNCTION user_marks_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM user_marks_count(ARRAY(SELECT ROW(r.instance_id, r.id, r.user_org, r.user_created, r.lookup)::user_key
                                   FROM old_rows r WHERE r.collection = 'user'), -1);
    RETURN NULL;
END $$;
CREATE FUNCTION user_marks_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone user_key[];
    came user_key[];
BEGIN
    SELECT array_agg(ROW(o.instance_id, o.id, o.user_org, o.user_created, o.lookup)::user_key),
           array_agg(ROW(n.instance_id, n.id, n.user_org, n.user_created, n.lookup)::user_key)
    INTO gone, came
    FROM old_rows o JOIN new_rows n ON n.instance_id = o.instance_id AND n.collection = o.collection AND n.id = o.id
    WHERE o.collection = 'user' AND (o.user_org IS DISTINCT FROM n.user_org
        OR o.user_created IS DISTINCT FROM n.user_created OR o.lookup IS DISTINCT FROM n.lookup);
    PERFORM user_marks_count(gone, -1);
    PERFORM user_marks_count(came, 1);
    PERFORM user_marks_split();
    RETURN NULL;
END $$;
CREATE TRIGGER user_marks_insert AFTER INSERT ON docs REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION user_marks_inserted();
CREATE TRIGGER user_marks_delete AFTER DELETE ON docs REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION user_marks_deleted();
CREATE TRIGGER user_marks_update AFTER UPDATE ON docs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION user_marks_updated();
