-- 0015: product search (GET /api/search): a maintained search document per
-- product (name A, tag names B, description C), the query builder with
-- prefix matching for the last word, and nexus_search(), which answers a
-- page of ranked results and the facets of the whole result set in one
-- statement. See README "Search".
--
-- product_search holds every product, visible or not: visibility comes from
-- the join with catalog_listing (visible products only) in every query, so
-- this table needs no status logic and an archived product can never leak.

CREATE TABLE product_search (
    product_id  bigint PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    name        text NOT NULL,
    doc         tsvector NOT NULL
);
CREATE INDEX product_search_doc_idx ON product_search USING gin (doc);
-- typo tolerance: trigram similarity on names
CREATE INDEX product_search_name_trgm_idx ON product_search
    USING gin (name gin_trgm_ops);

CREATE FUNCTION product_search_doc(p_name text, p_tags text,
    p_description text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('english', p_name), 'A')
        || setweight(to_tsvector('english', coalesce(p_tags, '')), 'B')
        || setweight(to_tsvector('english', p_description), 'C')
$$;

-- What product_search must contain (rebuild, refresh, verify).
CREATE VIEW product_search_expected AS
SELECT p.id AS product_id, p.name,
       product_search_doc(p.name,
           (SELECT string_agg(t.name, ' ' ORDER BY t.name)
              FROM product_tags pt JOIN tags t ON t.id = pt.tag_id
             WHERE pt.product_id = p.id),
           p.description) AS doc
  FROM products p;

CREATE FUNCTION product_search_refresh(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
        RETURN;
    END IF;
    -- as catalog_listing_refresh: wait for concurrent writers of these
    -- products, then read them in a new snapshot (two transactions adding
    -- different tags cannot leave a document without one of them)
    PERFORM 1 FROM products WHERE id = ANY (p_ids) ORDER BY id FOR NO KEY UPDATE;

    INSERT INTO product_search AS s (product_id, name, doc)
    SELECT e.product_id, e.name, e.doc
      FROM product_search_expected e
     WHERE e.product_id = ANY (p_ids)
     ORDER BY e.product_id
    ON CONFLICT (product_id) DO UPDATE
       SET name = excluded.name, doc = excluded.doc
     WHERE (s.name, s.doc) IS DISTINCT FROM (excluded.name, excluded.doc);
END
$$;

-- Whole-table rebuild, for bulk loads that ran without triggers.
CREATE FUNCTION product_search_rebuild() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM product_search;
    INSERT INTO product_search (product_id, name, doc)
    SELECT product_id, name, doc FROM product_search_expected;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- Differences between the table and the builder: empty means consistent.
CREATE FUNCTION product_search_verify()
RETURNS TABLE (product_id bigint, problem text)
LANGUAGE sql STABLE AS $$
    SELECT e.product_id, 'missing'
      FROM product_search_expected e
     WHERE NOT EXISTS (SELECT 1 FROM product_search s
                        WHERE s.product_id = e.product_id)
    UNION ALL
    SELECT s.product_id, 'stale'
      FROM product_search s JOIN product_search_expected e USING (product_id)
     WHERE (s.name, s.doc) IS DISTINCT FROM (e.name, e.doc)
$$;

CREATE FUNCTION product_search_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_TABLE_NAME = 'products' THEN
        IF TG_OP = 'INSERT' THEN
            ids := ARRAY(SELECT id FROM new_rows);
        ELSE
            ids := ARRAY(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                          WHERE (n.name, n.description)
                                IS DISTINCT FROM (o.name, o.description));
        END IF;

    ELSIF TG_TABLE_NAME = 'product_tags' THEN
        IF TG_OP = 'INSERT' THEN
            ids := ARRAY(SELECT DISTINCT product_id FROM new_rows);
        ELSIF TG_OP = 'UPDATE' THEN
            ids := ARRAY(SELECT product_id FROM new_rows
                         UNION SELECT product_id FROM old_rows);
        ELSE
            ids := ARRAY(SELECT DISTINCT product_id FROM old_rows);
        END IF;

    ELSIF TG_TABLE_NAME = 'tags' THEN
        ids := ARRAY(SELECT DISTINCT pt.product_id FROM product_tags pt
                      WHERE pt.tag_id IN (
                            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                             WHERE n.name IS DISTINCT FROM o.name));
    END IF;

    PERFORM product_search_refresh(ids);
    RETURN NULL;
END
$$;

CREATE FUNCTION product_search_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM product_search_rebuild();
    RETURN NULL;
END
$$;

-- Deleted products go by ON DELETE CASCADE; a deleted tag deletes its
-- product_tags rows, which fire the product_tags trigger.
CREATE TRIGGER zz_products_search_ins AFTER INSERT ON products
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION product_search_changed();
CREATE TRIGGER zz_products_search_upd AFTER UPDATE ON products
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION product_search_changed();
CREATE TRIGGER zz_product_tags_search_ins AFTER INSERT ON product_tags
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION product_search_changed();
CREATE TRIGGER zz_product_tags_search_upd AFTER UPDATE ON product_tags
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION product_search_changed();
CREATE TRIGGER zz_product_tags_search_del AFTER DELETE ON product_tags
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION product_search_changed();
CREATE TRIGGER zz_tags_search_upd AFTER UPDATE ON tags
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION product_search_changed();
CREATE TRIGGER zz_product_tags_search_trunc AFTER TRUNCATE ON product_tags
    FOR EACH STATEMENT EXECUTE FUNCTION product_search_truncated();

-- Whatever is in the database already (migrations run on live data too).
SELECT product_search_rebuild();

-- The tsquery of a search box: websearch syntax ("phrases", OR, -word),
-- and the last word also as a prefix (search as you type: "headph" finds
-- "headphones"). The prefix goes through the 'simple' configuration: a
-- stem of a partial word would be wrong, and 'headph:*' matches the
-- stored stem 'headphon'. A last word inside quotes or after '-' is left
-- to websearch_to_tsquery.
CREATE FUNCTION nexus_search_tsquery(p_q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN w.last IS NULL OR w.head ~ '^[^"]*"([^"]*"[^"]*")*[^"]*$'
                THEN websearch_to_tsquery('english', p_q)
                WHEN w.head !~ '[[:alnum:]]'
                THEN websearch_to_tsquery('english', w.last)
                     || to_tsquery('simple', w.last || ':*')
                WHEN w.head ~* '\mor\s*$'
                THEN websearch_to_tsquery('english',
                         regexp_replace(w.head, '\mor\s*$', '', 'i'))
                     || websearch_to_tsquery('english', w.last)
                     || to_tsquery('simple', w.last || ':*')
                ELSE websearch_to_tsquery('english', w.head)
                     && (websearch_to_tsquery('english', w.last)
                         || to_tsquery('simple', w.last || ':*'))
           END
      FROM (SELECT substring(p_q FROM '(?:^|\s)([[:alnum:]]+)$') AS last,
                   regexp_replace(p_q, '[[:alnum:]]+$', '') AS head) w
$$;

-- The price facet's fixed buckets (minor units, inclusive bounds).
CREATE FUNCTION nexus_search_price_bucket(p_price bigint) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT width_bucket(p_price,
        ARRAY[0, 1000, 2500, 5000, 10000, 25000, 50000]::bigint[])
$$;

-- One page of results and the facets of the whole result set.
--
-- Matches: full-text (product_search.doc @@ query), ranked 1 + ts_rank,
-- +2 when the name equals the query (case-insensitive), so an exact name is
-- always first. When fewer than 5 products match after the filters, names
-- similar by trigrams (pg_trgm % or <%) are added, ranked by similarity
-- (always below 1, after every full-text match).
--
-- Sorting and keyset pagination: every sort is turned into ascending keys
-- (sk float8, nk text, sid bigint): sk holds -rank, price, -price, -epoch
-- microseconds or -rating (all exact in a float8), nk the name for
-- sort=name, sid the id (negated for descending sorts). The cursor carries
-- (sk or name, id); the module checks its shape.
--
-- Returns (404, 'category' | 'vendor') when a filter slug does not exist.
CREATE FUNCTION nexus_search(p_q text, p_category text, p_vendor text,
    p_min bigint, p_max bigint, p_tag text, p_attr text, p_in_stock boolean,
    p_sort text, p_limit int, p_after_key text, p_after_id bigint)
RETURNS TABLE (status int, body text)
LANGUAGE sql STABLE AS $$
WITH f AS MATERIALIZED (
    SELECT CASE WHEN p_category IS NULL THEN 0::bigint
                ELSE (SELECT id FROM categories WHERE slug = p_category) END AS cat,
           CASE WHEN p_vendor IS NULL THEN 0::bigint
                ELSE (SELECT id FROM vendors
                       WHERE slug = p_vendor AND status = 'active') END AS ven,
           nexus_search_tsquery(p_q) AS tsq,
           lower(btrim(p_q)) AS exact
), scope AS NOT MATERIALIZED (
    -- narrow rows: the item JSON is read for the page only. The scope is
    -- a parameter (InitPlan), so each match is one primary key probe.
    SELECT l.product_id, l.vendor_id, l.vendor_slug, l.vendor_name, l.name,
           l.price_min, l.created_at, l.rating_avg, l.attr_values
      FROM catalog_listing l
     WHERE l.category_id = (SELECT cat FROM f)
       AND (p_vendor IS NULL OR l.vendor_id = (SELECT ven FROM f))
       AND l.price_min BETWEEN p_min AND p_max
       AND (p_tag IS NULL OR l.tag_slugs @> ARRAY[p_tag])
       AND (p_attr IS NULL OR l.attr_values @> ARRAY[p_attr])
       AND (NOT p_in_stock OR l.in_stock)
), fts AS MATERIALIZED (
    SELECT l.*, 1 + CASE WHEN p_sort = 'relevance'
                         THEN ts_rank(s.doc, (SELECT tsq FROM f))::float8
                         ELSE 0 END
                + CASE WHEN lower(s.name) = (SELECT exact FROM f)
                       THEN 2 ELSE 0 END AS rank
      FROM product_search s
      JOIN scope l ON l.product_id = s.product_id
     WHERE s.doc @@ (SELECT tsq FROM f)
), trg AS MATERIALIZED (
    SELECT l.*, greatest(similarity(s.name, p_q),
                         word_similarity(p_q, s.name))::float8 AS rank
      FROM product_search s
      JOIN scope l ON l.product_id = s.product_id
     WHERE (SELECT count(*) FROM fts) < 5
       -- not for "phrases" or -exclusions: similarity cannot honour them
       AND p_q !~ '"|(^|\s)-'
       AND (s.name % p_q OR p_q <% s.name)
       AND NOT EXISTS (SELECT 1 FROM fts WHERE fts.product_id = s.product_id)
), m AS MATERIALIZED (
    SELECT x.*,
           CASE p_sort
               WHEN 'price' THEN x.price_min::float8
               WHEN '-price' THEN -x.price_min::float8
               WHEN 'newest' THEN -(extract(epoch FROM x.created_at) * 1000000)::float8
               WHEN 'rating' THEN -x.rating_avg::float8
               WHEN 'name' THEN 0::float8
               ELSE -x.rank
           END AS sk,
           CASE WHEN p_sort = 'name' THEN x.name ELSE '' END AS nk,
           CASE WHEN p_sort IN ('price', 'name') THEN x.product_id
                ELSE -x.product_id END AS sid
      FROM (SELECT * FROM fts UNION ALL SELECT * FROM trg) x
), top AS MATERIALIZED (
    -- a top-N sort: only limit + 1 rows are kept while sorting
    SELECT m.product_id, m.name, m.sk, m.nk, m.sid
      FROM m
     WHERE p_after_id IS NULL
        OR (m.sk, m.nk, m.sid) > (
               CASE WHEN p_sort = 'name' THEN 0::float8 ELSE p_after_key::float8 END,
               CASE WHEN p_sort = 'name' THEN p_after_key ELSE '' END,
               CASE WHEN p_sort IN ('price', 'name') THEN p_after_id
                    ELSE -p_after_id END)
     ORDER BY m.sk, m.nk, m.sid
     LIMIT p_limit + 1
), page AS MATERIALIZED (
    SELECT t.*, l.item, row_number() OVER (ORDER BY t.sk, t.nk, t.sid) AS n
      FROM top t
      JOIN catalog_listing l ON l.category_id = (SELECT cat FROM f)
                            AND l.product_id = t.product_id
), fcat AS (
    -- a product counts once per category, however many of its categories
    -- lie below it (as in catalog_listing)
    SELECT c.slug, c.name, count(*) AS n
      FROM (SELECT DISTINCT cc.ancestor_id, m.product_id
              FROM m JOIN product_categories pc ON pc.product_id = m.product_id
              JOIN category_closure cc ON cc.descendant_id = pc.category_id) d
      JOIN categories c ON c.id = d.ancestor_id
     GROUP BY c.id
     ORDER BY n DESC, c.slug
     LIMIT 50
), fven AS (
    SELECT m.vendor_slug AS slug, m.vendor_name AS name, count(*) AS n
      FROM m GROUP BY m.vendor_id, m.vendor_slug, m.vendor_name
     ORDER BY n DESC, slug
     LIMIT 50
), fprice AS (
    SELECT b.b, count(*) AS n
      FROM m CROSS JOIN LATERAL
           (SELECT nexus_search_price_bucket(m.price_min) AS b) b
     GROUP BY b.b
), fattr AS (
    SELECT split_part(a.v, '=', 1) AS name,
           substr(a.v, strpos(a.v, '=') + 1) AS value, count(*) AS n
      FROM m CROSS JOIN LATERAL unnest(m.attr_values) AS a(v)
     GROUP BY a.v
     ORDER BY n DESC, a.v
     LIMIT 100
)
SELECT CASE WHEN f.cat IS NULL OR f.ven IS NULL THEN 404 ELSE 200 END,
       CASE WHEN f.cat IS NULL THEN 'category'
            WHEN f.ven IS NULL THEN 'vendor'
            ELSE
       '{"items":['
       || coalesce((SELECT string_agg(page.item, ',' ORDER BY page.n)
                      FROM page WHERE page.n <= p_limit), '')
       || '],"next_cursor":'
       || coalesce((SELECT '"' || translate(rtrim(encode(convert_to(
                               CASE p_sort WHEN 'relevance' THEN 's'
                                   WHEN 'price' THEN 'p' WHEN '-price' THEN 'q'
                                   WHEN 'newest' THEN 'n' WHEN 'rating' THEN 'r'
                                   ELSE 'a' END
                               || '.' || CASE WHEN p_sort = 'name' THEN page.name
                                              ELSE page.sk::text END
                               || '.' || page.product_id, 'UTF8'), 'base64'), '='),
                               E'+/\n', '-_') || '"'
                      FROM page WHERE page.n = p_limit
                       AND EXISTS (SELECT 1 FROM page p2 WHERE p2.n > p_limit)),
                   'null')
       || ',"limit":' || p_limit
       || ',"sort":' || to_json(p_sort)::text
       || ',"total":' || (SELECT count(*) FROM m)
       || ',"typo_fallback":' || (SELECT CASE WHEN EXISTS (SELECT 1 FROM trg)
                                             THEN 'true' ELSE 'false' END)
       || ',"facets":' || json_build_object(
              'categories', coalesce((SELECT json_agg(json_build_object(
                  'slug', slug, 'name', name, 'count', n) ORDER BY n DESC, slug)
                  FROM fcat), '[]'),
              'vendors', coalesce((SELECT json_agg(json_build_object(
                  'slug', slug, 'name', name, 'count', n) ORDER BY n DESC, slug)
                  FROM fven), '[]'),
              'price', coalesce((SELECT json_agg(json_build_object(
                  'min', (ARRAY[0, 1000, 2500, 5000, 10000, 25000, 50000])[b],
                  'max', (ARRAY[999, 2499, 4999, 9999, 24999, 49999])[b],
                  'count', n) ORDER BY b)
                  FROM fprice), '[]'),
              'attributes', coalesce((SELECT json_agg(json_build_object(
                  'name', name, 'value', value, 'count', n)
                  ORDER BY name, n DESC, value)
                  FROM fattr), '[]'))::text
       || '}'
       END
  FROM f
$$;
