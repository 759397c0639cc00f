-- 0018: a faster search. 0015 ranked and faceted a result set by joining
-- every match with catalog_listing and, for categories, with
-- product_categories and category_closure: about 20 us per match, so a
-- broad query (tens of thousands of matches) took seconds. Here each
-- visible product has one row in search_items with everything a search
-- filters, ranks, sorts and counts facets on, so a match costs one heap
-- tuple; the page's item JSON still comes from catalog_listing.
--
-- Typo tolerance moves from trigram similarity over whole names (slow, and
-- blind to one misspelled word in a long name) to a lexicon: the words of
-- visible products' names and tags, with a trigram GiST index. A word of the
-- query that is not in the lexicon is replaced by its nearest lexicon word
-- (similarity >= 0.3) when the query finds fewer than 5 products. See
-- README "Search".

-- ------------------------------------------------------------ search_items

CREATE TABLE search_items (
    product_id  bigint PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    vendor_id   bigint NOT NULL,
    price_min   bigint NOT NULL,
    in_stock    boolean NOT NULL,
    rating_avg  numeric(3,2) NOT NULL,
    created_at  timestamptz NOT NULL,
    name        text NOT NULL,
    -- the categories the product is listed under (its own and their
    -- ancestors), as catalog_listing scopes other than 0
    cat_ids     bigint[] NOT NULL,
    tag_slugs   text[] NOT NULL,
    attr_values text[] NOT NULL,
    doc         tsvector NOT NULL
);
CREATE INDEX search_items_doc_idx ON search_items USING gin (doc);

-- What search_items must contain: visible products only (catalog_listing
-- scope 0), with their search document.
CREATE VIEW search_items_expected AS
SELECT l.product_id, l.vendor_id, l.price_min, l.in_stock, l.rating_avg,
       l.created_at, l.name,
       ARRAY(SELECT c.category_id FROM catalog_listing c
              WHERE c.product_id = l.product_id AND c.category_id <> 0
              ORDER BY c.category_id) AS cat_ids,
       l.tag_slugs, l.attr_values, s.doc
  FROM catalog_listing l
  JOIN product_search s ON s.product_id = l.product_id
 WHERE l.category_id = 0;

-- The lexicon for typo correction. "C" collation: a prefix LIKE can use
-- the primary key.
CREATE TABLE search_words (
    word        text COLLATE "C" PRIMARY KEY
);
CREATE INDEX search_words_trgm_idx ON search_words
    USING gist (word gist_trgm_ops);

-- The words of a text as the lexicon keeps them: lower case letters and
-- digits, at least 3 characters, not only digits.
CREATE FUNCTION nexus_search_words(p_text text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT w
      FROM regexp_split_to_table(lower(p_text), '[^[:alnum:]]+') w
     WHERE length(w) >= 3 AND w !~ '^[0-9]+$'
$$;

CREATE FUNCTION search_items_refresh(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
        RETURN;
    END IF;

    DELETE FROM search_items i
     USING unnest(p_ids) d(id)
     WHERE i.product_id = d.id
       AND NOT EXISTS (SELECT 1 FROM search_items_expected e
                        WHERE e.product_id = d.id);

    INSERT INTO search_items AS i
    SELECT e.*
      FROM unnest(p_ids) d(id)
      JOIN search_items_expected e ON e.product_id = d.id
     ORDER BY e.product_id
    ON CONFLICT (product_id) DO UPDATE
       SET vendor_id = excluded.vendor_id, price_min = excluded.price_min,
           in_stock = excluded.in_stock, rating_avg = excluded.rating_avg,
           created_at = excluded.created_at, name = excluded.name,
           cat_ids = excluded.cat_ids, tag_slugs = excluded.tag_slugs,
           attr_values = excluded.attr_values, doc = excluded.doc
     WHERE ROW(i.*) IS DISTINCT FROM ROW(excluded.*);

    -- words are only added: a word whose products are gone can still be
    -- suggested (it then finds nothing) until search_items_rebuild()
    INSERT INTO search_words (word)
    SELECT DISTINCT w.w
      FROM search_items i
      JOIN unnest(p_ids) d(id) ON i.product_id = d.id
     CROSS JOIN LATERAL nexus_search_words(
               i.name || ' ' || array_to_string(i.tag_slugs, ' ')) w(w)
     ORDER BY 1
    ON CONFLICT DO NOTHING;
END
$$;

-- Whole-table rebuild (bulk loads without triggers; also prunes the lexicon).
CREATE FUNCTION search_items_rebuild() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM search_items;
    INSERT INTO search_items SELECT * FROM search_items_expected;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM search_words;
    INSERT INTO search_words (word)
    SELECT DISTINCT w.w
      FROM search_items i
     CROSS JOIN LATERAL nexus_search_words(
               i.name || ' ' || array_to_string(i.tag_slugs, ' ')) w(w);
    RETURN n;
END
$$;

-- Differences between the table and what it must hold: empty = consistent.
CREATE FUNCTION search_items_verify()
RETURNS TABLE (product_id bigint, problem text)
LANGUAGE sql STABLE AS $$
    SELECT e.product_id, 'missing'
      FROM search_items_expected e
     WHERE NOT EXISTS (SELECT 1 FROM search_items i
                        WHERE i.product_id = e.product_id)
    UNION ALL
    SELECT i.product_id, 'not visible'
      FROM search_items i
     WHERE NOT EXISTS (SELECT 1 FROM search_items_expected e
                        WHERE e.product_id = i.product_id)
    UNION ALL
    SELECT i.product_id, 'stale'
      FROM search_items i JOIN search_items_expected e USING (product_id)
     WHERE ROW(i.*) IS DISTINCT FROM ROW(e.*)
$$;

-- Both sources change search_items: catalog_listing (visibility, price,
-- stock, categories, tags, attributes) and product_search (the document).
CREATE FUNCTION search_items_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT DISTINCT product_id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        ids := ARRAY(SELECT product_id FROM new_rows
                     UNION SELECT product_id FROM old_rows);
    ELSE
        ids := ARRAY(SELECT DISTINCT product_id FROM old_rows);
    END IF;
    PERFORM search_items_refresh(ids);
    RETURN NULL;
END
$$;

CREATE FUNCTION search_items_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_items;
    RETURN NULL;
END
$$;

CREATE TRIGGER zz_catalog_listing_search_ins AFTER INSERT ON catalog_listing
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_items_changed();
CREATE TRIGGER zz_catalog_listing_search_upd AFTER UPDATE ON catalog_listing
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_items_changed();
CREATE TRIGGER zz_catalog_listing_search_del AFTER DELETE ON catalog_listing
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_items_changed();
CREATE TRIGGER zz_catalog_listing_search_trunc AFTER TRUNCATE ON catalog_listing
    FOR EACH STATEMENT EXECUTE FUNCTION search_items_truncated();
CREATE TRIGGER zz_product_search_items_ins AFTER INSERT ON product_search
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_items_changed();
CREATE TRIGGER zz_product_search_items_upd AFTER UPDATE ON product_search
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_items_changed();

SELECT search_items_rebuild();

-- The trigram index over whole names is no longer used.
DROP INDEX product_search_name_trgm_idx;

-- ------------------------------------------------------------ typos

-- The query with its misspelled words replaced, or NULL when no word
-- needed it. A word needs it when it is not in the lexicon (nor, for the
-- last word, the start of one: search as you type) and a lexicon word is
-- similar enough by trigrams; the nearest comes from the GiST index.
CREATE FUNCTION nexus_search_correct(p_q text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    words text[];
    w text;
    fix text;
    i int;
    changed boolean := false;
BEGIN
    words := ARRAY(SELECT m[1] FROM regexp_matches(lower(p_q),
                                                   '[[:alnum:]]+', 'g') m);
    FOR i IN 1 .. coalesce(cardinality(words), 0) LOOP
        w := words[i];
        CONTINUE WHEN length(w) < 3 OR w ~ '^[0-9]+$';
        CONTINUE WHEN EXISTS (SELECT 1 FROM search_words WHERE word = w);
        CONTINUE WHEN i = cardinality(words)
                  AND EXISTS (SELECT 1 FROM search_words
                               WHERE word LIKE w || '%');
        SELECT word INTO fix FROM search_words
         ORDER BY word <-> w LIMIT 1;
        IF fix IS NOT NULL AND similarity(fix, w) >= 0.3 THEN
            words[i] := fix;
            changed := true;
        END IF;
    END LOOP;
    RETURN CASE WHEN changed THEN array_to_string(words, ' ') END;
END
$$;

-- ------------------------------------------------------------ search

-- As 0015's, except that a last word of one character is not a prefix: "w:*"
-- matches most of a catalog and costs a scan of all of it, for a query no
-- one means. Typing "smart w" searches "smart" until the next character.
CREATE OR REPLACE FUNCTION nexus_search_tsquery(p_q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN w.last IS NULL OR w.head ~ '^[^"]*"([^"]*"[^"]*")*[^"]*$'
                THEN websearch_to_tsquery('english', p_q)
                WHEN length(w.last) < 2
                THEN websearch_to_tsquery('english',
                         CASE WHEN w.head ~ '[[:alnum:]]' THEN w.head ELSE p_q END)
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


-- As 0015's (same parameters and answer), over search_items. Matches:
-- full text, ranked 1 + ts_rank, +2 for an exact name. Without q (NULL)
-- every product in scope matches (a faceted listing); the module then
-- never asks for sort=relevance. When fewer than 5
-- products match after the filters and the query has misspelled words, the
-- corrected query's matches are added, ranked ts_rank alone (below every
-- match of the query as typed); "typo_fallback" is then true and
-- "corrected_query" names the query used.
CREATE OR REPLACE FUNCTION nexus_search(p_q text, p_category text, p_vendor text,
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
    SELECT i.product_id, i.vendor_id, i.name, i.price_min, i.created_at,
           i.rating_avg, i.cat_ids, i.attr_values, i.doc
      FROM search_items i
     WHERE ((SELECT cat FROM f) = 0 OR i.cat_ids @> ARRAY[(SELECT cat FROM f)])
       AND (p_vendor IS NULL OR i.vendor_id = (SELECT ven FROM f))
       AND i.price_min BETWEEN p_min AND p_max
       AND (p_tag IS NULL OR i.tag_slugs @> ARRAY[p_tag])
       AND (p_attr IS NULL OR i.attr_values @> ARRAY[p_attr])
       AND (NOT p_in_stock OR i.in_stock)
), fts AS MATERIALIZED (
    -- two branches, one switched off by the parameters, so each gets its
    -- own index: the search document, or (no q: a listing) the listing's
    -- (scope, price) index, which reads only the products in the price
    -- window
    SELECT s.product_id, s.vendor_id, s.name, s.price_min, s.created_at,
           s.rating_avg, s.cat_ids, s.attr_values,
           1 + CASE WHEN p_sort = 'relevance'
                    THEN ts_rank(s.doc, (SELECT tsq FROM f))::float8
                    ELSE 0 END
             + CASE WHEN lower(s.name) = (SELECT exact FROM f)
                    THEN 2 ELSE 0 END AS rank
      FROM scope s
     WHERE p_q IS NOT NULL AND s.doc @@ (SELECT tsq FROM f)
    UNION ALL
    SELECT i.product_id, i.vendor_id, i.name, i.price_min, i.created_at,
           i.rating_avg, i.cat_ids, i.attr_values, 1::float8
      FROM catalog_listing l
     CROSS JOIN LATERAL (
           -- OFFSET 0: a primary key probe per listing row; the planner
           -- cannot know how few rows the scope holds and would hash
           -- the whole table
           SELECT * FROM search_items i
            WHERE i.product_id = l.product_id OFFSET 0) i
     WHERE p_q IS NULL
       AND l.category_id = (SELECT cat FROM f)
       AND l.price_min BETWEEN p_min AND p_max
       AND (p_vendor IS NULL OR l.vendor_id = (SELECT ven FROM f))
       AND (p_tag IS NULL OR l.tag_slugs @> ARRAY[p_tag])
       AND (p_attr IS NULL OR l.attr_values @> ARRAY[p_attr])
       AND (NOT p_in_stock OR l.in_stock)
), fix AS MATERIALIZED (
    -- not for "phrases" or -exclusions: a corrected word could undo them
    -- OFFSET 0: the correction runs once, not once per use of its result
    SELECT c.q, nexus_search_tsquery(c.q) AS tsq
      FROM (SELECT nexus_search_correct(p_q) AS q
             WHERE p_q IS NOT NULL
               AND (SELECT count(*) FROM (SELECT 1 FROM fts LIMIT 5) x) < 5
               AND p_q !~ '"|(^|\s)-'
            OFFSET 0) c
     WHERE c.q IS NOT NULL
), typo AS MATERIALIZED (
    SELECT s.product_id, s.vendor_id, s.name, s.price_min, s.created_at,
           s.rating_avg, s.cat_ids, s.attr_values,
           CASE WHEN p_sort = 'relevance'
                THEN ts_rank(s.doc, (SELECT tsq FROM fix))::float8
                ELSE 0 END AS rank
      FROM scope s
     WHERE EXISTS (SELECT 1 FROM fix)
       AND s.doc @@ (SELECT tsq FROM fix)
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
      FROM (SELECT * FROM fts UNION ALL SELECT * FROM typo) x
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
    -- the listing decides visibility once more, as 0015 did
    SELECT t.*, l.item, row_number() OVER (ORDER BY t.sk, t.nk, t.sid) AS n
      FROM top t
      JOIN catalog_listing l ON l.category_id = (SELECT cat FROM f)
                            AND l.product_id = t.product_id
), fcat AS (
    SELECT c.slug, c.name, d.n
      FROM (SELECT u.id, count(*) AS n
              FROM (SELECT unnest(m.cat_ids) AS id FROM m) u
             GROUP BY u.id) d
      JOIN categories c ON c.id = d.id
     ORDER BY d.n DESC, c.slug
     LIMIT 50
), fven AS (
    SELECT v.slug, v.name, d.n
      FROM (SELECT vendor_id, count(*) AS n FROM m GROUP BY vendor_id) d
      JOIN vendors v ON v.id = d.vendor_id
     ORDER BY d.n DESC, v.slug
     LIMIT 50
), fprice AS (
    SELECT nexus_search_price_bucket(m.price_min) AS b, count(*) AS n
      FROM m
     GROUP BY 1
), fattr AS (
    -- unnest in the select list (a ProjectSet) costs half of a LATERAL join
    SELECT split_part(a.v, '=', 1) AS name,
           substr(a.v, strpos(a.v, '=') + 1) AS value, count(*) AS n
      FROM (SELECT unnest(m.attr_values) AS v FROM m) a
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
       || ',"typo_fallback":' || (SELECT CASE WHEN EXISTS (SELECT 1 FROM typo)
                                             THEN 'true' ELSE 'false' END)
       || ',"corrected_query":' || coalesce((SELECT to_json(fix.q)::text
                                               FROM fix
                                              WHERE EXISTS (SELECT 1 FROM typo)),
                                            'null')
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
