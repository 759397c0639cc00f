-- Deterministic demo catalog generator. Run by scripts/seed inside ONE
-- transaction (psql --single-transaction) with these psql variables:
--   products  number of products (e.g. 3000)
--   seed      integer seed; same products + seed => identical rows
--   force     true|false: allow wiping a database that has orders
--   replica   true|false: skip triggers with session_replication_role
--             (needs superuser or GRANT SET ON PARAMETER); otherwise the
--             owner disables the user triggers on the catalog tables
-- It REPLACES the catalog (vendors, categories, tags, attributes, products
-- and everything hanging off them; TRUNCATE ... CASCADE also empties carts
-- and orders that reference the catalog, hence the --force guard). Demo
-- users (shopperNNNN@example.com, owner@<vendor>.example.com) are upserted.
--
-- Randomness: hashtextextended(stream || ':' || i, seed); no random(), no
-- now(): every value is a function of (products, seed).
-- Speed: set-based INSERT ... SELECT with row triggers off, then
-- catalog_recompute_derived() + catalog_listing_rebuild() (one version bump
-- and one NOTIFY), then ANALYZE.

SET client_min_messages = warning;
SET LOCAL work_mem = '128MB';
SET LOCAL maintenance_work_mem = '256MB';
SET LOCAL synchronous_commit = off;
SET LOCAL jit = off;   -- unanalyzed temp tables look expensive: JIT would cost seconds

SELECT set_config('nexus_seed.force', :'force', true);
DO $$
BEGIN
    IF current_setting('nexus_seed.force')::boolean IS NOT TRUE AND EXISTS (SELECT 1 FROM orders) THEN
        RAISE EXCEPTION 'seed: this database has orders; the demo seed replaces the catalog and would delete them (use --force)';
    END IF;
END
$$;

\if :replica
SET LOCAL session_replication_role = replica;
\else
ALTER TABLE users DISABLE TRIGGER USER;
ALTER TABLE vendors DISABLE TRIGGER USER;
ALTER TABLE categories DISABLE TRIGGER USER;
ALTER TABLE category_closure DISABLE TRIGGER USER;
ALTER TABLE tags DISABLE TRIGGER USER;
ALTER TABLE attributes DISABLE TRIGGER USER;
ALTER TABLE products DISABLE TRIGGER USER;
ALTER TABLE product_variants DISABLE TRIGGER USER;
ALTER TABLE product_categories DISABLE TRIGGER USER;
ALTER TABLE product_tags DISABLE TRIGGER USER;
ALTER TABLE product_attribute_values DISABLE TRIGGER USER;
ALTER TABLE product_media DISABLE TRIGGER USER;
ALTER TABLE reviews DISABLE TRIGGER USER;
ALTER TABLE stock_movements DISABLE TRIGGER USER;
ALTER TABLE catalog_listing DISABLE TRIGGER USER;
ALTER TABLE product_search DISABLE TRIGGER USER;
\endif

TRUNCATE vendors, vendor_staff, vendor_applications, categories, category_closure, tags, attributes,
         products, product_variants, product_categories, product_tags, product_attribute_values,
         product_media, reviews, stock_movements, catalog_listing, catalog_listing_counts
         RESTART IDENTITY CASCADE;

-- Secondary indexes (not backing a constraint) are dropped during the load
-- and re-created afterwards from their saved definitions.
CREATE TEMP TABLE seed_indexes ON COMMIT DROP AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
  FROM pg_index i
 WHERE i.indrelid IN ('products'::regclass, 'product_variants'::regclass, 'product_categories'::regclass,
                      'product_tags'::regclass, 'product_attribute_values'::regclass,
                      'product_media'::regclass, 'reviews'::regclass, 'stock_movements'::regclass)
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
SELECT format('DROP INDEX %s', name) FROM seed_indexes ORDER BY name \gexec

-- Without replica mode, foreign keys would be checked row by row (one
-- query per inserted row). Drop those of the bulk-loaded tables and add them
-- back afterwards: ADD CONSTRAINT validates each one with a single query.
CREATE TEMP TABLE seed_fks ON COMMIT DROP AS
SELECT c.conrelid::regclass::text AS tbl, quote_ident(c.conname) AS name, pg_get_constraintdef(c.oid) AS def
  FROM pg_constraint c
 WHERE c.contype = 'f' AND NOT :replica
   AND c.conrelid IN ('products'::regclass, 'product_variants'::regclass, 'product_categories'::regclass,
                      'product_tags'::regclass, 'product_attribute_values'::regclass,
                      'product_media'::regclass, 'reviews'::regclass, 'stock_movements'::regclass);
SELECT format('ALTER TABLE %s DROP CONSTRAINT %s', tbl, name) FROM seed_fks ORDER BY tbl, name \gexec

-- h(stream, i): deterministic non-negative 31-bit pseudo-random number.
SELECT format($f$CREATE FUNCTION pg_temp.h(k text, i bigint) RETURNS bigint
                 LANGUAGE sql IMMUTABLE PARALLEL SAFE
                 AS 'SELECT hashtextextended(k || '':'' || i::text, %s) & 2147483647'$f$,
              :seed::bigint) \gexec

\ir demo_data.sql

-- ---------------------------------------------------------------------------
-- Demo users (2000 shoppers who write the reviews, one owner per vendor).
-- Upserted by e-mail so ids stay stable across re-seeds.
INSERT INTO users (email, name, email_verified_at, created_at, updated_at)
SELECT format('shopper%s@example.com', lpad(i::text, 4, '0')),
       w.first_names[1 + pg_temp.h('ufirst', i) % 20] || ' ' || w.last_names[1 + pg_temp.h('ulast', i) % 20],
       t, t, t
  FROM generate_series(1, 2000) i
 CROSS JOIN seed_words w
 CROSS JOIN LATERAL (SELECT '2023-01-01T00:00:00Z'::timestamptz
                            + (pg_temp.h('ujoin', i) % (365 * 86400)) * interval '1 second' AS t) x
 ORDER BY i
    ON CONFLICT (email) DO NOTHING;
INSERT INTO users (email, name, email_verified_at, created_at, updated_at)
SELECT 'owner@' || slug || '.example.com', name || ' (owner)', created::timestamptz, created::timestamptz, created::timestamptz
  FROM seed_vendor ORDER BY id
    ON CONFLICT (email) DO NOTHING;
INSERT INTO user_roles (user_id, role, granted_at)
SELECT id, 'customer', created_at FROM users
 WHERE email LIKE 'shopper%@example.com' OR email LIKE 'owner@%.example.com'
 ORDER BY id
    ON CONFLICT DO NOTHING;
INSERT INTO vendor_staff (vendor_id, user_id, role, created_at)
SELECT v.id, u.id, 'owner', v.created::timestamptz
  FROM seed_vendor v JOIN users u ON u.email = 'owner@' || v.slug || '.example.com'
 ORDER BY v.id;

CREATE TEMP TABLE seed_user ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY email) - 1 AS idx, id
  FROM users WHERE email ~ '^shopper[0-9]{4}@example\.com$';
CREATE UNIQUE INDEX ON seed_user (idx);

-- ---------------------------------------------------------------------------
-- Products (ids 1..N)
CREATE TEMP TABLE gp ON COMMIT DROP AS
SELECT x.*,
       btrim(regexp_replace(lower(x.name), '[^a-z0-9]+', '-', 'g'), '-') || '-' || x.id AS slug
  FROM (
    SELECT g.i AS id, l.category_id, l.kind, l.root, l.gift, k.axis, k.vals, k.step, k.with_color,
           coalesce(array_length(k.vals, 1), 1) AS nvals,
           r.vendors[1 + g.h2 % array_length(r.vendors, 1)] AS vendor_id,
           r.brands[1 + (g.h2 / 7) % array_length(r.brands, 1)] AS brand,
           l.materials[1 + g.h3 % array_length(l.materials, 1)] AS material,
           w.adjectives[1 + (g.h1 / 30) % 20] || ' '
             || l.nouns[1 + (g.h1 / 600) % array_length(l.nouns, 1)]
             || CASE WHEN l.root = 'electronics'
                     THEN ' ' || (ARRAY['X', 'S', 'Z', 'Q', 'M'])[1 + g.h4 % 5] || (2 + (g.h4 / 5) % 8)
                     ELSE '' END AS name,
           w.phrases[1 + (g.h3 / 7) % array_length(w.phrases, 1)] AS phrase,
           w.closers[1 + (g.h3 / 77) % array_length(w.closers, 1)] AS closer,
           CASE WHEN (g.h3 / 1000) % 100 < 94 THEN 'active'
                WHEN (g.h3 / 1000) % 100 < 97 THEN 'draft'
                WHEN (g.h3 / 1000) % 100 < 99 THEN 'archived'
                ELSE 'pending' END AS status,
           CASE WHEN l.kind = 'none' THEN 1
                WHEN k.with_color THEN 1 + (g.h4 / 50) % 6
                ELSE least(1 + (g.h4 / 50) % 6, array_length(k.vals, 1)) END AS nvar,
           (g.h4 / 3000) % 12 AS c0,
           l.pmin + ((g.h2 / 100) % (l.pmax - l.pmin)) / 100 * 100 AS base_price,  -- ends in 99 like pmin
           (g.h3 / 100000) % 100 < 20 AS has_compare,
           120 + (g.h3 / 10000000) % 31 AS compare_pct,
           (g.h2 / 1000000) % 100 < 4 AS sold_out,
           '2024-01-01T00:00:00Z'::timestamptz + (g.h5 % (365 * 86400)) * interval '1 second' AS created_at,
           (g.h5 / 7) % 4 AS ntags,
           (g.h5 / 31) % 20 AS t0,
           2 + (g.h5 / 1000) % 4 AS nmedia,
           CASE WHEN (g.h4 / 100000) % 100 < 35 THEN 0
                WHEN (g.h4 / 100000) % 100 < 60 THEN 1 + (g.h1 / 13) % 2
                WHEN (g.h4 / 100000) % 100 < 85 THEN 3 + (g.h1 / 13) % 4
                ELSE 7 + (g.h1 / 13) % 9 END AS nrev,
           (g.h4 / 10000000) % 4 AS quality,
           g.h2, g.h4, g.h5
      FROM (SELECT i, pg_temp.h('p1', i) AS h1, pg_temp.h('p2', i) AS h2, pg_temp.h('p3', i) AS h3,
                   pg_temp.h('p4', i) AS h4, pg_temp.h('p5', i) AS h5
              FROM generate_series(1, :products) i) g
      JOIN seed_leaf l ON l.idx = g.h1 % 30
      JOIN seed_kind k ON k.kind = l.kind
      JOIN seed_root r ON r.root = l.root
     CROSS JOIN seed_words w
  ) x;
-- axis start: contiguous sizes when they fit (XS..L, not XL, XS)
ALTER TABLE gp ADD COLUMN s0 int;
UPDATE gp SET s0 = CASE WHEN axis IS NULL THEN 0
                        ELSE (h4 / 300) % greatest(1, nvals - nvar + 1) END;
CREATE UNIQUE INDEX ON gp (id);

-- Variants (ids in product order)
CREATE TEMP TABLE gv ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY y.product_id, y.position) AS id, y.*,
       CASE WHEN y.axis_val IS NULL AND y.color IS NULL THEN 'Default'
            ELSE concat_ws(' / ', y.axis_val, y.color) END AS title,
       CASE WHEN y.axis IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(y.axis, y.axis_val) END
         || CASE WHEN y.color IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('color', y.color) END AS options,
       CASE WHEN y.has_compare THEN (y.price * y.compare_pct / 100) / 100 * 100 + 99 END AS compare_at_price
  FROM (
    SELECT p.id AS product_id, k AS position, p.axis, p.has_compare, p.compare_pct,
           CASE WHEN p.axis IS NOT NULL THEN p.vals[1 + (p.s0 + k) % p.nvals] END AS axis_val,
           CASE WHEN p.with_color
                THEN w.colors[1 + (p.c0 + CASE WHEN p.axis IS NULL THEN k ELSE k / p.nvals END) % 12] END AS color,
           p.base_price + p.step * ((p.s0 + k) % p.nvals - p.s0) AS price,
           CASE WHEN p.sold_out THEN 0
                WHEN pg_temp.h('vstock', p.id * 8 + k) % 100 < 10 THEN 0
                ELSE 1 + (pg_temp.h('vstock', p.id * 8 + k) / 100) % 150 END AS stock,
           CASE p.kind WHEN 'apparel' THEN 200 + p.h2 % 600 WHEN 'shoe' THEN 600 + p.h2 % 900
                       WHEN 'storage' THEN 150 + p.h2 % 2500 WHEN 'weight' THEN NULL
                       ELSE 100 + p.h2 % 5000 END AS weight_grams,
           sv.sku_prefix || '-' || lpad(p.id::text, 7, '0') || '-' || (k + 1) AS sku,
           p.created_at
      FROM gp p
      JOIN seed_vendor sv ON sv.id = p.vendor_id
     CROSS JOIN seed_words w
     CROSS JOIN LATERAL generate_series(0, p.nvar - 1) AS k
  ) y;
-- weight plates: the weight is the option
UPDATE gv SET weight_grams = (regexp_replace(axis_val, '[^0-9]', '', 'g'))::int * 1000
 WHERE axis_val ~ '^[0-9]+ kg$';

-- Reviews (one per user per product: users idx (37 p + 131 k) mod 2000 are distinct for k < 2000)
CREATE TEMP TABLE gr ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY z.product_id, z.k) AS id, z.*,
       w.review_titles[z.rating] AS title,
       w.review_bodies[z.rating + (z.rv / 100) % 2] AS body
  FROM (
    SELECT p.id AS product_id, k, u.id AS user_id, rv,
           CASE p.quality
             WHEN 0 THEN CASE WHEN rv % 100 < 25 THEN 1 WHEN rv % 100 < 45 THEN 2 WHEN rv % 100 < 70 THEN 3
                              WHEN rv % 100 < 90 THEN 4 ELSE 5 END
             WHEN 1 THEN CASE WHEN rv % 100 < 5 THEN 1 WHEN rv % 100 < 12 THEN 2 WHEN rv % 100 < 30 THEN 3
                              WHEN rv % 100 < 65 THEN 4 ELSE 5 END
             ELSE        CASE WHEN rv % 100 < 2 THEN 1 WHEN rv % 100 < 5 THEN 2 WHEN rv % 100 < 12 THEN 3
                              WHEN rv % 100 < 40 THEN 4 ELSE 5 END
           END::smallint AS rating,
           CASE WHEN (rv / 1000) % 100 < 95 THEN 'approved' ELSE 'pending' END AS status,
           p.created_at + interval '1 day' + ((rv / 100000) % (120 * 86400)) * interval '1 second' AS created_at
      FROM gp p
     CROSS JOIN LATERAL generate_series(0, p.nrev - 1) AS k
     CROSS JOIN LATERAL (SELECT pg_temp.h('review', p.id * 16 + k) AS rv) r
      JOIN seed_user u ON u.idx = (p.id * 37 + k * 131) % 2000
  ) z
 CROSS JOIN seed_words w;

-- Tags: ntags distinct tags (t0 + 7j mod 20), 'sale' when discounted,
-- 'gift-idea' products are also listed under Gift Ideas.
CREATE TEMP TABLE gt ON COMMIT DROP AS
SELECT DISTINCT product_id, tag_id FROM (
    SELECT p.id AS product_id, 1 + (p.t0 + 7 * j) % 20 AS tag_id
      FROM gp p CROSS JOIN LATERAL generate_series(0, p.ntags - 1) AS j
    UNION ALL
    SELECT p.id, 3 FROM gp p WHERE p.has_compare
) t;

-- ---------------------------------------------------------------------------
INSERT INTO products (id, vendor_id, slug, name, description, status, currency,
                      price_min, price_max, compare_at_price, in_stock,
                      rating_avg, rating_count, rating_sum, created_at, updated_at)
SELECT p.id, p.vendor_id, p.slug, p.name,
       'The ' || p.name || ' ' || p.phrase || '. Made by ' || p.brand || ' from ' || p.material
           || '. ' || p.closer,
       p.status, 'USD',
       v.price_min, v.price_max, v.compare_at_price, v.in_stock,
       CASE WHEN coalesce(r.c, 0) > 0 THEN round(r.s::numeric / r.c, 2) ELSE 0 END,
       coalesce(r.c, 0), coalesce(r.s, 0),
       p.created_at, p.created_at + ((p.h5 / 100) % (30 * 86400)) * interval '1 second'
  FROM gp p
  JOIN (SELECT product_id, min(price) AS price_min, max(price) AS price_max, bool_or(stock > 0) AS in_stock,
               (array_agg(compare_at_price ORDER BY price, position, id))[1] AS compare_at_price
          FROM gv GROUP BY product_id) v ON v.product_id = p.id
  LEFT JOIN (SELECT product_id, sum(rating) AS s, count(*)::int AS c
               FROM gr WHERE status = 'approved' GROUP BY product_id) r ON r.product_id = p.id
 ORDER BY p.id;

INSERT INTO product_variants (id, product_id, sku, title, options, price, compare_at_price, currency,
                              stock, low_stock_threshold, weight_grams, status, position, created_at, updated_at)
SELECT id, product_id, sku, title, options, price, compare_at_price, 'USD',
       stock, 5, weight_grams, 'active', position, created_at, created_at
  FROM gv ORDER BY id;

INSERT INTO stock_movements (id, variant_id, delta, stock_after, reason, note, created_at)
SELECT row_number() OVER (ORDER BY id), id, stock, stock, 'received', 'initial stock', created_at
  FROM gv WHERE stock > 0 ORDER BY id;

INSERT INTO product_categories (product_id, category_id, is_primary)
SELECT id, category_id, true FROM gp
UNION ALL
SELECT p.id, p.gift, false FROM gp p JOIN gt ON gt.product_id = p.id AND gt.tag_id = 8
 ORDER BY 1, 2;

INSERT INTO product_tags (product_id, tag_id) SELECT product_id, tag_id FROM gt ORDER BY 1, 2;

INSERT INTO product_attribute_values (product_id, attribute_id, value)
SELECT DISTINCT product_id, attribute_id, value FROM (
    SELECT id AS product_id, 1 AS attribute_id, brand AS value FROM gp
    UNION ALL SELECT id, 4, material FROM gp
    UNION ALL SELECT product_id, 2, lower(color) FROM gv WHERE color IS NOT NULL
    UNION ALL SELECT product_id, CASE axis WHEN 'size' THEN 3 WHEN 'storage' THEN 5 ELSE 6 END,
                     lower(axis_val)
          FROM gv WHERE axis_val IS NOT NULL
    UNION ALL SELECT id, 7, (1 + h2 % 3)::text FROM gp WHERE root = 'electronics'
    UNION ALL SELECT id, 8, (h4 % 2 = 0)::text FROM gp WHERE root = 'sports' OR kind = 'shoe'
) a
 ORDER BY 1, 2, 3;

INSERT INTO product_media (id, product_id, url, alt, position, is_primary, content_type, width, height, created_at)
SELECT row_number() OVER (ORDER BY p.id, n), p.id,
       'https://images.example.com/products/' || p.slug || '-' || n || '.jpg',
       p.name || ', view ' || n, n - 1, n = 1, 'image/jpeg',
       1200, CASE WHEN p.root = 'clothing' THEN 1500 ELSE 1200 END, p.created_at
  FROM gp p CROSS JOIN LATERAL generate_series(1, p.nmedia) AS n
 ORDER BY p.id, n;

INSERT INTO reviews (id, product_id, user_id, rating, title, body, status, verified_purchase, created_at, updated_at)
SELECT id, product_id, user_id, rating, title, body, status, (rv % 3) <> 0, created_at, created_at
  FROM gr ORDER BY id;

SELECT def FROM seed_indexes ORDER BY name \gexec
SELECT format('ALTER TABLE %s ADD CONSTRAINT %s %s', tbl, name, def) FROM seed_fks ORDER BY tbl, name \gexec

-- ---------------------------------------------------------------------------
-- Derived data, still with triggers off: closure, vendor ratings (product
-- columns were computed above; this only writes rows that differ), listing.
SELECT catalog_recompute_derived();
SELECT catalog_listing_rebuild();
SELECT product_documents_rebuild();
SELECT product_search_rebuild();
SELECT search_items_rebuild();

\if :replica
SET LOCAL session_replication_role = origin;
\else
ALTER TABLE users ENABLE TRIGGER USER;
ALTER TABLE vendors ENABLE TRIGGER USER;
ALTER TABLE categories ENABLE TRIGGER USER;
ALTER TABLE category_closure ENABLE TRIGGER USER;
ALTER TABLE tags ENABLE TRIGGER USER;
ALTER TABLE attributes ENABLE TRIGGER USER;
ALTER TABLE products ENABLE TRIGGER USER;
ALTER TABLE product_variants ENABLE TRIGGER USER;
ALTER TABLE product_categories ENABLE TRIGGER USER;
ALTER TABLE product_tags ENABLE TRIGGER USER;
ALTER TABLE product_attribute_values ENABLE TRIGGER USER;
ALTER TABLE product_media ENABLE TRIGGER USER;
ALTER TABLE reviews ENABLE TRIGGER USER;
ALTER TABLE stock_movements ENABLE TRIGGER USER;
ALTER TABLE catalog_listing ENABLE TRIGGER USER;
ALTER TABLE product_search ENABLE TRIGGER USER;
\endif

-- Explicit ids were used: move the sequences past them.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['vendors', 'categories', 'tags', 'attributes', 'products', 'product_variants',
                             'product_media', 'reviews', 'stock_movements'] LOOP
        EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''), greatest((SELECT max(id) FROM %I), 1))',
                       t, t);
    END LOOP;
END
$$;

ANALYZE users, vendors, categories, category_closure, tags, attributes, products, product_variants,
        product_categories, product_tags, product_attribute_values, product_media, reviews,
        stock_movements, catalog_listing, catalog_listing_counts, product_search, search_items,
        search_words;

