-- 0005 catalog derived data: products.price_*/in_stock/rating_*, vendor
-- ratings, the catalog_listing table (+ per-scope counts), the stock ledger
-- trigger, and the cache-invalidation version (catalog_version_seq + NOTIFY).
--
-- Every maintenance trigger is an AFTER ... FOR EACH STATEMENT trigger with
-- transition tables (new_rows / old_rows), so a statement touching 10,000 rows
-- does one set-based refresh, not 10,000. A statement that changed no row
-- does nothing (no version bump either).
--
-- Concurrency: every write to catalog_listing for a product happens while
-- holding that product's row lock (FOR NO KEY UPDATE), and the rows are
-- recomputed after the lock is granted, so two transactions changing the same
-- product (e.g. adding two different tags) cannot leave a stale row behind.
-- Consequence for the C code: statements that change several products' stock
-- should touch them in one statement or in product-id order to avoid deadlocks.

-- ---------------------------------------------------------------------------
-- Cache invalidation
CREATE SEQUENCE catalog_version_seq;

CREATE FUNCTION catalog_bump_version() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v bigint := nextval('catalog_version_seq');
BEGIN
    PERFORM pg_notify('nexus_catalog', v::text);
    RETURN v;
END
$$;

-- Plain statement trigger: bump on every statement (used for TRUNCATE-less
-- tables that need no maintenance, e.g. category_closure).
CREATE FUNCTION catalog_bump_version_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM catalog_bump_version();
    RETURN NULL;
END
$$;

-- ---------------------------------------------------------------------------
-- The listing table (docs/contracts.md). One row per (scope, visible product):
-- category_id = 0 is the whole catalog; otherwise every ancestor (depth >= 0)
-- of every category of the product.
CREATE TABLE catalog_listing (
    category_id      bigint NOT NULL,
    product_id       bigint NOT NULL,
    vendor_id        bigint NOT NULL,
    vendor_slug      text NOT NULL,
    vendor_name      text NOT NULL,
    slug             text NOT NULL,
    name             text NOT NULL,
    price_min        bigint NOT NULL,
    price_max        bigint NOT NULL,
    currency         char(3) NOT NULL,
    compare_at_price bigint,
    rating_avg       numeric(3,2) NOT NULL,
    rating_count     int NOT NULL,
    in_stock         boolean NOT NULL,
    created_at       timestamptz NOT NULL,
    image_url        text,
    tag_slugs        text[] NOT NULL DEFAULT '{}',
    attr_values      text[] NOT NULL DEFAULT '{}',
    item             text NOT NULL,     -- the list item JSON, ready to send
    PRIMARY KEY (category_id, product_id)
) WITH (fillfactor = 85);  -- room for HOT updates (in_stock, tags, image, vendor name are not indexed)
CREATE INDEX catalog_listing_price_idx   ON catalog_listing (category_id, price_min, product_id);
CREATE INDEX catalog_listing_created_idx ON catalog_listing (category_id, created_at DESC, product_id DESC);
CREATE INDEX catalog_listing_rating_idx  ON catalog_listing (category_id, rating_avg DESC, product_id DESC);
CREATE INDEX catalog_listing_name_idx    ON catalog_listing (category_id, name, product_id);
-- maintenance only (find a product's rows); not for queries
CREATE INDEX catalog_listing_product_idx ON catalog_listing (product_id);

-- Visible product counts per (scope, vendor): category counts = sum over
-- vendors; vendor counts = row (0, vendor). Kept in step with catalog_listing.
-- Rows may linger with product_count = 0.
CREATE TABLE catalog_listing_counts (
    category_id   bigint NOT NULL,
    vendor_id     bigint NOT NULL,
    product_count int NOT NULL CHECK (product_count >= 0),
    PRIMARY KEY (category_id, vendor_id)
);
CREATE INDEX catalog_listing_counts_vendor_idx ON catalog_listing_counts (vendor_id, category_id);

-- The JSON of a list item, made from the listing row's own columns, in the
-- shape and formats of the product document. Stored in the row, so a page
-- of results is sent as it is read: building it per request cost PostgreSQL
-- more than the index scan itself. IMMUTABLE holds: timestamps are formatted
-- by nexus_json_ts in UTC, nothing else depends on a setting.
CREATE FUNCTION catalog_listing_item(p_id bigint, p_slug text, p_name text,
    p_price_min bigint, p_price_max bigint, p_currency char(3),
    p_compare_at_price bigint, p_in_stock boolean, p_rating_avg numeric,
    p_rating_count int, p_image_url text, p_vendor_slug text,
    p_vendor_name text, p_created_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', p_id, 'slug', p_slug, 'name', p_name,
        'price', json_build_object('min', p_price_min, 'max', p_price_max,
                                   'currency', p_currency),
        'compare_at_price', p_compare_at_price, 'in_stock', p_in_stock,
        'rating', json_build_object('average', p_rating_avg, 'count', p_rating_count),
        'image_url', p_image_url,
        'vendor', json_build_object('slug', p_vendor_slug, 'name', p_vendor_name),
        'created_at', nexus_json_ts(p_created_at))::text
$$;

-- What catalog_listing must contain, set-based (rebuild, verify).
CREATE VIEW catalog_listing_expected AS
WITH vis AS (
    SELECT p.id, p.vendor_id, v.slug AS vendor_slug, v.name AS vendor_name,
           p.slug, p.name, p.price_min, p.price_max, p.currency,
           p.compare_at_price, p.rating_avg, p.rating_count, p.in_stock, p.created_at
      FROM products p
      JOIN vendors v ON v.id = p.vendor_id
     WHERE p.status = 'active' AND v.status = 'active' AND p.price_min IS NOT NULL
), img AS (
    SELECT DISTINCT ON (m.product_id) m.product_id, m.url
      FROM product_media m
     ORDER BY m.product_id, m.is_primary DESC, m.position, m.id
), tg AS (
    SELECT pt.product_id, array_agg(t.slug ORDER BY t.slug) AS slugs
      FROM product_tags pt JOIN tags t ON t.id = pt.tag_id
     GROUP BY pt.product_id
), av AS (
    SELECT x.product_id, array_agg(x.kv ORDER BY x.kv) AS kvs
      FROM (SELECT pav.product_id, a.slug || '=' || pav.value AS kv
              FROM product_attribute_values pav
              JOIN attributes a ON a.id = pav.attribute_id) x
     GROUP BY x.product_id
), scope AS (
    SELECT vis.id AS product_id, 0::bigint AS category_id FROM vis
    UNION
    SELECT pc.product_id, cc.ancestor_id
      FROM product_categories pc
      JOIN category_closure cc ON cc.descendant_id = pc.category_id
)
SELECT s.category_id, vis.id AS product_id, vis.vendor_id, vis.vendor_slug, vis.vendor_name,
       vis.slug, vis.name, vis.price_min, vis.price_max, vis.currency,
       vis.compare_at_price, vis.rating_avg, vis.rating_count, vis.in_stock, vis.created_at,
       img.url AS image_url,
       coalesce(tg.slugs, '{}'::text[]) AS tag_slugs,
       coalesce(av.kvs, '{}'::text[]) AS attr_values,
       catalog_listing_item(vis.id, vis.slug, vis.name, vis.price_min, vis.price_max,
                            vis.currency, vis.compare_at_price, vis.in_stock,
                            vis.rating_avg, vis.rating_count, img.url,
                            vis.vendor_slug, vis.vendor_name, vis.created_at) AS item
  FROM vis
  JOIN scope s ON s.product_id = vis.id
  LEFT JOIN img ON img.product_id = vis.id
  LEFT JOIN tg ON tg.product_id = vis.id
  LEFT JOIN av ON av.product_id = vis.id;

-- The same, for a few products, by index lookups (row-level maintenance).
-- Must agree with catalog_listing_expected (catalog_listing_verify checks).
CREATE FUNCTION catalog_listing_rows(p_ids bigint[]) RETURNS SETOF catalog_listing
LANGUAGE sql STABLE AS $$
    SELECT s.category_id, p.id, p.vendor_id, v.slug, v.name, p.slug, p.name,
           p.price_min, p.price_max, p.currency, p.compare_at_price,
           p.rating_avg, p.rating_count, p.in_stock, p.created_at,
           x.image_url, x.tag_slugs, x.attr_values,
           catalog_listing_item(p.id, p.slug, p.name, p.price_min, p.price_max,
                                p.currency, p.compare_at_price, p.in_stock,
                                p.rating_avg, p.rating_count, x.image_url,
                                v.slug, v.name, p.created_at)
      FROM products p
      JOIN vendors v ON v.id = p.vendor_id
     CROSS JOIN LATERAL (
        SELECT (SELECT m.url FROM product_media m
                 WHERE m.product_id = p.id
                 ORDER BY m.is_primary DESC, m.position, m.id LIMIT 1) AS image_url,
               ARRAY(SELECT t.slug FROM product_tags pt JOIN tags t ON t.id = pt.tag_id
                      WHERE pt.product_id = p.id ORDER BY t.slug) AS tag_slugs,
               ARRAY(SELECT a.slug || '=' || pav.value
                       FROM product_attribute_values pav
                       JOIN attributes a ON a.id = pav.attribute_id
                      WHERE pav.product_id = p.id ORDER BY 1) AS attr_values
     ) x
     CROSS JOIN LATERAL (
        SELECT 0::bigint AS category_id
        UNION
        SELECT cc.ancestor_id
          FROM product_categories pc
          JOIN category_closure cc ON cc.descendant_id = pc.category_id
         WHERE pc.product_id = p.id
     ) s
     WHERE p.id = ANY (p_ids)
       AND p.status = 'active' AND v.status = 'active' AND p.price_min IS NOT NULL
$$;

-- Bring the listing rows (and counts) of the given products up to date.
CREATE FUNCTION catalog_listing_refresh(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    want catalog_listing[];
BEGIN
    IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM products WHERE id = ANY (p_ids) ORDER BY id FOR NO KEY UPDATE;
    want := ARRAY(SELECT r FROM catalog_listing_rows(p_ids) r);
    -- Lock the count rows this refresh may touch, in key order (concurrent
    -- refreshes of products sharing scopes then queue instead of deadlocking).
    PERFORM 1 FROM catalog_listing_counts c
     WHERE (c.category_id, c.vendor_id) IN (
            SELECT l.category_id, l.vendor_id FROM catalog_listing l WHERE l.product_id = ANY (p_ids)
            UNION
            SELECT w.category_id, w.vendor_id FROM unnest(want) w)
     ORDER BY c.category_id, c.vendor_id
       FOR UPDATE;

    IF cardinality(p_ids) > 200 THEN
        -- bulk (vendor renamed, category moved, tag renamed): replace
        WITH gone AS (
            DELETE FROM catalog_listing l WHERE l.product_id = ANY (p_ids)
            RETURNING l.category_id, l.vendor_id
        )
        UPDATE catalog_listing_counts c SET product_count = c.product_count - d.n
          FROM (SELECT category_id, vendor_id, count(*) AS n FROM gone GROUP BY 1, 2) d
         WHERE c.category_id = d.category_id AND c.vendor_id = d.vendor_id;

        WITH added AS (
            INSERT INTO catalog_listing SELECT w.* FROM unnest(want) w
            RETURNING category_id, vendor_id
        )
        INSERT INTO catalog_listing_counts AS c (category_id, vendor_id, product_count)
        SELECT category_id, vendor_id, count(*) FROM added GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (category_id, vendor_id)
        DO UPDATE SET product_count = c.product_count + excluded.product_count;
        RETURN;
    END IF;

    -- few products: write only what changed
    WITH gone AS (
        DELETE FROM catalog_listing l
         WHERE l.product_id = ANY (p_ids)
           AND NOT EXISTS (SELECT 1 FROM unnest(want) w
                            WHERE w.category_id = l.category_id
                              AND w.product_id = l.product_id
                              AND w.vendor_id = l.vendor_id)
        RETURNING l.category_id, l.vendor_id
    )
    UPDATE catalog_listing_counts c SET product_count = c.product_count - d.n
      FROM (SELECT category_id, vendor_id, count(*) AS n FROM gone GROUP BY 1, 2) d
     WHERE c.category_id = d.category_id AND c.vendor_id = d.vendor_id;

    UPDATE catalog_listing l SET
        vendor_slug = w.vendor_slug, vendor_name = w.vendor_name,
        slug = w.slug, name = w.name,
        price_min = w.price_min, price_max = w.price_max, currency = w.currency,
        compare_at_price = w.compare_at_price,
        rating_avg = w.rating_avg, rating_count = w.rating_count,
        in_stock = w.in_stock, created_at = w.created_at, image_url = w.image_url,
        tag_slugs = w.tag_slugs, attr_values = w.attr_values, item = w.item
      FROM unnest(want) w
     WHERE l.category_id = w.category_id AND l.product_id = w.product_id
       AND ROW(l.*) IS DISTINCT FROM ROW(w.*);

    WITH added AS (
        INSERT INTO catalog_listing
        SELECT w.* FROM unnest(want) w
         WHERE NOT EXISTS (SELECT 1 FROM catalog_listing l
                            WHERE l.category_id = w.category_id
                              AND l.product_id = w.product_id)
        RETURNING category_id, vendor_id
    )
    INSERT INTO catalog_listing_counts AS c (category_id, vendor_id, product_count)
    SELECT category_id, vendor_id, count(*) FROM added GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (category_id, vendor_id)
    DO UPDATE SET product_count = c.product_count + excluded.product_count;
END
$$;

-- Whole-table rebuild, set-based. Used after bulk loads that ran with
-- triggers off (session_replication_role = replica). Bumps the version once.
-- Returns the number of listing rows. (p_truncate => false: DELETE instead of
-- TRUNCATE, for use inside a TRUNCATE trigger.)
-- The bulk path drops the secondary indexes, loads, and re-creates them (several times faster than maintaining 5 indexes row by
-- row); readers wait on the TRUNCATE lock until the transaction commits.
CREATE FUNCTION catalog_listing_rebuild(p_truncate boolean DEFAULT true) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    defs text[];
    names text[];
    d text;
BEGIN
    IF p_truncate THEN
        TRUNCATE catalog_listing, catalog_listing_counts;
        SELECT array_agg(pg_get_indexdef(i.indexrelid)), array_agg(i.indexrelid::regclass::text)
          INTO defs, names
          FROM pg_index i
         WHERE i.indrelid = 'catalog_listing'::regclass
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
        IF defs IS NOT NULL THEN
            EXECUTE 'DROP INDEX ' || array_to_string(names, ', ');
        END IF;
    ELSE
        DELETE FROM catalog_listing;
        DELETE FROM catalog_listing_counts;
    END IF;
    INSERT INTO catalog_listing SELECT * FROM catalog_listing_expected;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF defs IS NOT NULL THEN
        FOREACH d IN ARRAY defs LOOP
            EXECUTE d;
        END LOOP;
    END IF;
    INSERT INTO catalog_listing_counts (category_id, vendor_id, product_count)
    SELECT category_id, vendor_id, count(*) FROM catalog_listing GROUP BY 1, 2;
    PERFORM catalog_bump_version();
    RETURN n;
END
$$;

-- Consistency check for tests: returns one row per difference between
-- catalog_listing (+ counts) and what they should contain. Empty = consistent.
CREATE FUNCTION catalog_listing_verify()
RETURNS TABLE (problem text, category_id bigint, product_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT 'missing or different', e.category_id, e.product_id
      FROM (SELECT * FROM catalog_listing_expected
            EXCEPT SELECT * FROM catalog_listing) e
    UNION ALL
    SELECT 'unexpected or different', l.category_id, l.product_id
      FROM (SELECT * FROM catalog_listing
            EXCEPT SELECT * FROM catalog_listing_expected) l
    UNION ALL
    SELECT 'count ' || coalesce(c.product_count, 0) || ' should be ' || coalesce(x.n, 0)
               || ' (vendor ' || coalesce(c.vendor_id, x.vendor_id) || ')',
           coalesce(c.category_id, x.category_id), NULL::bigint
      FROM (SELECT * FROM catalog_listing_counts WHERE product_count <> 0) c
      FULL JOIN (SELECT l.category_id, l.vendor_id, count(*) AS n
                   FROM catalog_listing l GROUP BY 1, 2) x
             ON x.category_id = c.category_id AND x.vendor_id = c.vendor_id
     WHERE c.product_count IS DISTINCT FROM x.n
$$;

-- ---------------------------------------------------------------------------
-- Derived product columns

-- price_min/price_max/compare_at_price/in_stock from ACTIVE variants.
CREATE FUNCTION products_recompute_prices(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM products WHERE id = ANY (p_ids) ORDER BY id FOR NO KEY UPDATE;
    UPDATE products p SET
        price_min = d.price_min, price_max = d.price_max,
        compare_at_price = d.compare_at_price, in_stock = d.in_stock
      FROM (
        SELECT i.id, a.price_min, a.price_max, a.in_stock,
               (SELECT v.compare_at_price FROM product_variants v
                 WHERE v.product_id = i.id AND v.status = 'active'
                 ORDER BY v.price, v.position, v.id LIMIT 1) AS compare_at_price
          FROM unnest(p_ids) AS i(id)
         CROSS JOIN LATERAL (
            SELECT min(v.price) AS price_min, max(v.price) AS price_max,
                   coalesce(bool_or(v.stock > 0), false) AS in_stock
              FROM product_variants v
             WHERE v.product_id = i.id AND v.status = 'active') a
      ) d
     WHERE p.id = d.id
       AND (p.price_min, p.price_max, p.compare_at_price, p.in_stock)
           IS DISTINCT FROM (d.price_min, d.price_max, d.compare_at_price, d.in_stock);
END
$$;

-- rating_* from APPROVED reviews.
CREATE FUNCTION products_recompute_ratings(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM products WHERE id = ANY (p_ids) ORDER BY id FOR NO KEY UPDATE;
    UPDATE products p SET
        rating_sum = d.s, rating_count = d.c,
        rating_avg = CASE WHEN d.c > 0 THEN round(d.s::numeric / d.c, 2) ELSE 0 END
      FROM (
        SELECT i.id, coalesce(sum(r.rating), 0) AS s, count(r.rating)::int AS c
          FROM unnest(p_ids) AS i(id)
          LEFT JOIN reviews r ON r.product_id = i.id AND r.status = 'approved'
         GROUP BY i.id
      ) d
     WHERE p.id = d.id
       AND (p.rating_sum, p.rating_count) IS DISTINCT FROM (d.s, d.c);
END
$$;

-- Full recompute of every derived column (products, vendors, closure).
-- Writes only rows that differ. Used after bulk loads.
CREATE FUNCTION catalog_recompute_derived() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM category_closure_rebuild();

    UPDATE products p SET
        price_min = d.price_min, price_max = d.price_max,
        compare_at_price = d.compare_at_price, in_stock = d.in_stock,
        rating_sum = d.rs, rating_count = d.rc,
        rating_avg = CASE WHEN d.rc > 0 THEN round(d.rs::numeric / d.rc, 2) ELSE 0 END
      FROM (
        SELECT p2.id, v.price_min, v.price_max, v.compare_at_price,
               coalesce(v.in_stock, false) AS in_stock,
               coalesce(r.s, 0) AS rs, coalesce(r.c, 0) AS rc
          FROM products p2
          LEFT JOIN (
            SELECT product_id, min(price) AS price_min, max(price) AS price_max,
                   bool_or(stock > 0) AS in_stock,
                   (array_agg(compare_at_price ORDER BY price, position, id))[1] AS compare_at_price
              FROM product_variants WHERE status = 'active' GROUP BY product_id
          ) v ON v.product_id = p2.id
          LEFT JOIN (
            SELECT product_id, sum(rating) AS s, count(*)::int AS c
              FROM reviews WHERE status = 'approved' GROUP BY product_id
          ) r ON r.product_id = p2.id
      ) d
     WHERE p.id = d.id
       AND (p.price_min, p.price_max, p.compare_at_price, p.in_stock, p.rating_sum, p.rating_count)
           IS DISTINCT FROM (d.price_min, d.price_max, d.compare_at_price, d.in_stock, d.rs, d.rc);

    UPDATE vendors v SET
        rating_sum = d.s, rating_count = d.c,
        rating_avg = CASE WHEN d.c > 0 THEN round(d.s::numeric / d.c, 2) ELSE 0 END
      FROM (
        SELECT v2.id, coalesce(sum(p.rating_sum), 0) AS s, coalesce(sum(p.rating_count), 0)::int AS c
          FROM vendors v2 LEFT JOIN products p ON p.vendor_id = v2.id
         GROUP BY v2.id
      ) d
     WHERE v.id = d.id AND (v.rating_sum, v.rating_count) IS DISTINCT FROM (d.s, d.c);
END
$$;

-- ---------------------------------------------------------------------------
-- Statement triggers. Each function serves the INSERT, UPDATE and DELETE
-- triggers of one table (transition tables new_rows / old_rows).

-- products: vendor rating deltas, listing refresh
CREATE FUNCTION catalog_products_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
        ids := ARRAY(SELECT id FROM new_rows);
        UPDATE vendors v SET
            rating_sum = v.rating_sum + d.s, rating_count = v.rating_count + d.c,
            rating_avg = CASE WHEN v.rating_count + d.c > 0
                              THEN round((v.rating_sum + d.s)::numeric / (v.rating_count + d.c), 2)
                              ELSE 0 END
          FROM (SELECT vendor_id, sum(rating_sum) AS s, sum(rating_count) AS c
                  FROM new_rows WHERE rating_count > 0 GROUP BY vendor_id) d
         WHERE v.id = d.vendor_id;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
        ids := ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE (n.vendor_id, n.slug, n.name, n.status, n.currency, n.price_min, n.price_max,
                    n.compare_at_price, n.rating_avg, n.rating_count, n.in_stock, n.created_at)
                   IS DISTINCT FROM
                   (o.vendor_id, o.slug, o.name, o.status, o.currency, o.price_min, o.price_max,
                    o.compare_at_price, o.rating_avg, o.rating_count, o.in_stock, o.created_at));
        UPDATE vendors v SET
            rating_sum = v.rating_sum + d.s, rating_count = v.rating_count + d.c,
            rating_avg = CASE WHEN v.rating_count + d.c > 0
                              THEN round((v.rating_sum + d.s)::numeric / (v.rating_count + d.c), 2)
                              ELSE 0 END
          FROM (SELECT x.vendor_id, sum(x.s) AS s, sum(x.c) AS c
                  FROM (SELECT n.vendor_id, n.rating_sum AS s, n.rating_count AS c
                          FROM new_rows n JOIN old_rows o ON o.id = n.id
                         WHERE (n.vendor_id, n.rating_sum, n.rating_count)
                               IS DISTINCT FROM (o.vendor_id, o.rating_sum, o.rating_count)
                        UNION ALL
                        SELECT o.vendor_id, -o.rating_sum, -o.rating_count
                          FROM new_rows n JOIN old_rows o ON o.id = n.id
                         WHERE (n.vendor_id, n.rating_sum, n.rating_count)
                               IS DISTINCT FROM (o.vendor_id, o.rating_sum, o.rating_count)) x
                 GROUP BY x.vendor_id
                HAVING sum(x.s) <> 0 OR sum(x.c) <> 0) d
         WHERE v.id = d.vendor_id;
    ELSE
        IF NOT EXISTS (SELECT 1 FROM old_rows) THEN RETURN NULL; END IF;
        ids := ARRAY(SELECT id FROM old_rows);
        UPDATE vendors v SET
            rating_sum = v.rating_sum - d.s, rating_count = v.rating_count - d.c,
            rating_avg = CASE WHEN v.rating_count - d.c > 0
                              THEN round((v.rating_sum - d.s)::numeric / (v.rating_count - d.c), 2)
                              ELSE 0 END
          FROM (SELECT vendor_id, sum(rating_sum) AS s, sum(rating_count) AS c
                  FROM old_rows WHERE rating_count > 0 GROUP BY vendor_id) d
         WHERE v.id = d.vendor_id;
    END IF;
    PERFORM catalog_listing_refresh(ids);
    PERFORM catalog_bump_version();
    RETURN NULL;
END
$$;

-- product_variants: stock ledger, low-stock outbox events, derived prices
CREATE FUNCTION catalog_product_variants_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids      bigint[];
    internal boolean := coalesce(nexus_setting('nexus.stock_internal') = 'on', false);
    v_reason text := nexus_setting('nexus.stock_reason');
    v_actor  bigint := nexus_setting('nexus.actor_user_id')::bigint;
    v_order  bigint := nexus_setting('nexus.order_id')::bigint;
    v_note   text := nexus_setting('nexus.stock_note');
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
        ids := ARRAY(SELECT DISTINCT product_id FROM new_rows);
        IF NOT internal THEN
            PERFORM set_config('nexus.stock_internal', 'on', true);
            INSERT INTO stock_movements (variant_id, delta, stock_after, reason, actor_user_id, order_id, note)
            SELECT id, stock, stock, coalesce(v_reason, 'received'), v_actor, v_order, v_note
              FROM new_rows WHERE stock <> 0 ORDER BY id;
            PERFORM set_config('nexus.stock_internal', '', true);
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
        ids := ARRAY(
            SELECT n.product_id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE (n.product_id, n.price, n.compare_at_price, n.stock, n.status, n.position)
                   IS DISTINCT FROM (o.product_id, o.price, o.compare_at_price, o.stock, o.status, o.position)
            UNION
            SELECT o.product_id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.product_id <> o.product_id);
        IF NOT internal THEN
            PERFORM set_config('nexus.stock_internal', 'on', true);
            INSERT INTO stock_movements (variant_id, delta, stock_after, reason, actor_user_id, order_id, note)
            SELECT n.id, n.stock - o.stock, n.stock, coalesce(v_reason, 'adjusted'), v_actor, v_order, v_note
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.stock <> o.stock ORDER BY n.id;
            PERFORM set_config('nexus.stock_internal', '', true);
        END IF;
        INSERT INTO outbox (topic, payload)
        SELECT 'inventory.low_stock',
               jsonb_build_object('variant_id', n.id, 'product_id', n.product_id,
                                  'vendor_id', p.vendor_id, 'sku', n.sku,
                                  'stock', n.stock, 'threshold', n.low_stock_threshold)
          FROM new_rows n
          JOIN old_rows o ON o.id = n.id
          JOIN products p ON p.id = n.product_id
         WHERE n.stock <= n.low_stock_threshold AND o.stock > n.low_stock_threshold
         ORDER BY n.id;
    ELSE
        IF NOT EXISTS (SELECT 1 FROM old_rows) THEN RETURN NULL; END IF;
        ids := ARRAY(SELECT DISTINCT product_id FROM old_rows);
    END IF;
    PERFORM products_recompute_prices(ids);
    PERFORM catalog_bump_version();
    RETURN NULL;
END
$$;

-- reviews: product ratings (which cascade to vendor ratings and the listing)
CREATE FUNCTION catalog_reviews_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT DISTINCT product_id FROM new_rows WHERE status = 'approved');
    ELSIF TG_OP = 'UPDATE' THEN
        ids := ARRAY(
            SELECT n.product_id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE (n.product_id, n.rating, n.status) IS DISTINCT FROM (o.product_id, o.rating, o.status)
            UNION
            SELECT o.product_id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.product_id <> o.product_id);
    ELSE
        ids := ARRAY(SELECT DISTINCT product_id FROM old_rows WHERE status = 'approved');
    END IF;
    IF cardinality(ids) > 0 THEN
        PERFORM products_recompute_ratings(ids);
        PERFORM catalog_bump_version();
    END IF;
    RETURN NULL;
END
$$;

-- product_categories, product_tags, product_attribute_values, product_media:
-- refresh the listing rows of the products involved.
CREATE FUNCTION catalog_product_child_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT DISTINCT product_id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        ids := ARRAY(SELECT product_id FROM new_rows UNION SELECT product_id FROM old_rows);
    ELSE
        ids := ARRAY(SELECT DISTINCT product_id FROM old_rows);
    END IF;
    IF cardinality(ids) > 0 THEN
        PERFORM catalog_listing_refresh(ids);
        PERFORM catalog_bump_version();
    END IF;
    RETURN NULL;
END
$$;

-- vendors: slug/name/status appear in (or gate) the listing
CREATE FUNCTION catalog_vendors_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
        PERFORM catalog_listing_refresh(ARRAY(
            SELECT p.id FROM products p
             WHERE p.vendor_id IN (
                SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                 WHERE (n.slug, n.name, n.status) IS DISTINCT FROM (o.slug, o.name, o.status))));
    ELSE
        IF NOT EXISTS (SELECT 1 FROM old_rows) THEN RETURN NULL; END IF;
        DELETE FROM catalog_listing_counts WHERE vendor_id IN (SELECT id FROM old_rows);
    END IF;
    PERFORM catalog_bump_version();
    RETURN NULL;
END
$$;

-- categories: a moved subtree changes the scopes of every product below it
-- (the closure rows were already fixed by the row trigger from 0004).
CREATE FUNCTION catalog_categories_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
        PERFORM catalog_listing_refresh(ARRAY(
            SELECT DISTINCT pc.product_id
              FROM category_closure cc
              JOIN product_categories pc ON pc.category_id = cc.descendant_id
             WHERE cc.ancestor_id IN (
                SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                 WHERE n.parent_id IS DISTINCT FROM o.parent_id)));
    ELSE
        IF NOT EXISTS (SELECT 1 FROM old_rows) THEN RETURN NULL; END IF;
    END IF;
    PERFORM catalog_bump_version();
    RETURN NULL;
END
$$;

-- tags / attributes: a renamed slug changes tag_slugs / attr_values
CREATE FUNCTION catalog_tags_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM catalog_listing_refresh(ARRAY(
            SELECT DISTINCT pt.product_id FROM product_tags pt
             WHERE pt.tag_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                                  WHERE n.slug IS DISTINCT FROM o.slug)));
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
    ELSIF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
    ELSE
        IF NOT EXISTS (SELECT 1 FROM old_rows) THEN RETURN NULL; END IF;
    END IF;
    PERFORM catalog_bump_version();
    RETURN NULL;
END
$$;

CREATE FUNCTION catalog_attributes_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM catalog_listing_refresh(ARRAY(
            SELECT DISTINCT pav.product_id FROM product_attribute_values pav
             WHERE pav.attribute_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                                         WHERE n.slug IS DISTINCT FROM o.slug)));
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
    ELSIF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
    ELSE
        IF NOT EXISTS (SELECT 1 FROM old_rows) THEN RETURN NULL; END IF;
    END IF;
    PERFORM catalog_bump_version();
    RETURN NULL;
END
$$;

-- TRUNCATE of any catalog table: recompute everything (rebuild bumps).
CREATE FUNCTION catalog_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM catalog_recompute_derived();
    PERFORM catalog_listing_rebuild(false);
    RETURN NULL;
END
$$;

-- Install the triggers.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('products',                 'catalog_products_changed'),
        ('product_variants',         'catalog_product_variants_changed'),
        ('product_categories',       'catalog_product_child_changed'),
        ('product_tags',             'catalog_product_child_changed'),
        ('product_attribute_values', 'catalog_product_child_changed'),
        ('product_media',            'catalog_product_child_changed'),
        ('reviews',                  'catalog_reviews_changed'),
        ('vendors',                  'catalog_vendors_changed'),
        ('categories',               'catalog_categories_changed'),
        ('tags',                     'catalog_tags_changed'),
        ('attributes',               'catalog_attributes_changed')) AS x(tbl, fn)
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', t.tbl || '_catalog_ins', t.tbl, t.fn);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', t.tbl || '_catalog_upd', t.tbl, t.fn);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', t.tbl || '_catalog_del', t.tbl, t.fn);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION catalog_truncated()', t.tbl || '_catalog_trunc', t.tbl);
    END LOOP;
END
$$;

-- category_closure is only written by the category triggers; bump anyway
-- so that plain-SQL edits of it are not silently cached.
CREATE TRIGGER category_closure_catalog_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON category_closure FOR EACH STATEMENT EXECUTE FUNCTION catalog_bump_version_trg();
