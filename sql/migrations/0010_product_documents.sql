-- 0010 product documents, precomputed.
--
-- GET /api/products/{slug} is the hottest read of a shop. Building its JSON
-- takes five correlated subqueries (categories, tags, attributes, variants,
-- media) whose executor set-up costs more than their rows: about 0.4 ms per
-- call, which caps a core at about 2,000 product pages a second. The
-- document is now kept ready in product_documents, refreshed by statement
-- triggers on every table it is built from, whoever writes (the module, an
-- admin tool, psql), the same way catalog_listing is kept. A page is then one
-- primary-key lookup.
--
-- Timestamps in UTC ISO 8601 (nexus_json_ts), money in minor units,
-- rating.average with two decimals, as the other documents of 0006.
--
-- Invariant: product_documents holds exactly the visible products (product
-- 'active', vendor 'active'), each with doc = nexus_product_document(id).
-- The embedded vendor is {id, slug, name}: its rating moves with every review
-- of any of its products and would rewrite thousands of documents each time;
-- it is on GET /api/vendors/{slug}.
-- product_documents_verify() lists any difference (empty = consistent).

-- The builder: the document of one product by id, NULL when not visible.
CREATE FUNCTION nexus_product_document(p_id bigint) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', p.id,
        'slug', p.slug,
        'name', p.name,
        'description', p.description,
        'status', p.status,
        'currency', p.currency,
        'price', json_build_object('min', p.price_min, 'max', p.price_max, 'currency', p.currency),
        'in_stock', p.in_stock,
        'rating', json_build_object('average', p.rating_avg, 'count', p.rating_count),
        'created_at', nexus_json_ts(p.created_at),
        'updated_at', nexus_json_ts(p.updated_at),
        'vendor', json_build_object('id', v.id, 'slug', v.slug, 'name', v.name),
        'categories', coalesce((
            SELECT json_agg(x.j) FROM (
                SELECT json_build_object('id', c.id, 'slug', c.slug, 'name', c.name,
                                         'is_primary', pc.is_primary) AS j
                  FROM product_categories pc JOIN categories c ON c.id = pc.category_id
                 WHERE pc.product_id = p.id
                 ORDER BY pc.is_primary DESC, c.position, c.name, c.id) x), '[]'::json),
        'tags', coalesce((
            SELECT json_agg(x.slug) FROM (
                SELECT t.slug
                  FROM product_tags pt JOIN tags t ON t.id = pt.tag_id
                 WHERE pt.product_id = p.id
                 ORDER BY t.slug) x), '[]'::json),
        'attributes', coalesce((
            SELECT json_agg(x.j) FROM (
                SELECT json_build_object('slug', a.slug, 'name', a.name, 'type', a.type,
                                         'value', pav.value) AS j
                  FROM product_attribute_values pav JOIN attributes a ON a.id = pav.attribute_id
                 WHERE pav.product_id = p.id
                 ORDER BY a.position, a.slug, pav.value) x), '[]'::json),
        'variants', coalesce((
            SELECT json_agg(x.j) FROM (
                SELECT json_build_object('id', pv.id, 'sku', pv.sku, 'title', pv.title,
                                         'options', pv.options, 'price', pv.price,
                                         'compare_at_price', pv.compare_at_price,
                                         'currency', pv.currency, 'in_stock', pv.stock > 0,
                                         'stock', pv.stock) AS j
                  FROM product_variants pv
                 WHERE pv.product_id = p.id AND pv.status = 'active'
                 ORDER BY pv.product_id, pv.position, pv.id) x), '[]'::json),
        'media', coalesce((
            SELECT json_agg(x.j) FROM (
                SELECT json_build_object('url', m.url, 'alt', m.alt, 'position', m.position,
                                         'is_primary', m.is_primary,
                                         'width', m.width, 'height', m.height) AS j
                  FROM product_media m
                 WHERE m.product_id = p.id
                 ORDER BY m.product_id, m.position, m.id) x), '[]'::json))
      FROM products p
      JOIN vendors v ON v.id = p.vendor_id
     WHERE p.id = p_id AND p.status = 'active' AND v.status = 'active'
$$;

CREATE TABLE product_documents (
    product_id  bigint PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    slug        text NOT NULL UNIQUE,
    doc         json NOT NULL
);

-- Brings the documents of these products in line with the catalog.
CREATE FUNCTION product_documents_refresh(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
        RETURN;
    END IF;
    -- Wait for concurrent writers of these products, so that the documents
    -- below are built from a snapshot that includes their commits (each
    -- statement of a PL/pgSQL function takes a new one in READ COMMITTED).
    PERFORM 1 FROM products WHERE id = ANY (p_ids) ORDER BY id FOR NO KEY UPDATE;

    DELETE FROM product_documents d
     WHERE d.product_id = ANY (p_ids)
       AND NOT EXISTS (SELECT 1 FROM products p JOIN vendors v ON v.id = p.vendor_id
                        WHERE p.id = d.product_id
                          AND p.status = 'active' AND v.status = 'active');

    -- a slug can move from one product to another within one statement
    DELETE FROM product_documents d
     USING products p
     WHERE d.product_id = ANY (p_ids) AND p.id = d.product_id AND p.slug <> d.slug;

    INSERT INTO product_documents AS d (product_id, slug, doc)
    SELECT p.id, p.slug, nexus_product_document(p.id)
      FROM products p JOIN vendors v ON v.id = p.vendor_id
     WHERE p.id = ANY (p_ids) AND p.status = 'active' AND v.status = 'active'
     ORDER BY p.id
    ON CONFLICT (product_id) DO UPDATE
       SET slug = excluded.slug, doc = excluded.doc
     WHERE d.doc::text IS DISTINCT FROM excluded.doc::text OR d.slug <> excluded.slug;
END
$$;

-- Whole-table rebuild, set-based, for bulk loads that ran without triggers.
CREATE FUNCTION product_documents_rebuild() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM product_documents;
    INSERT INTO product_documents (product_id, slug, doc)
    SELECT p.id, p.slug, nexus_product_document(p.id)
      FROM products p JOIN vendors v ON v.id = p.vendor_id
     WHERE p.status = 'active' AND v.status = 'active';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- Differences between the table and the builder: empty means consistent.
CREATE FUNCTION product_documents_verify()
RETURNS TABLE (product_id bigint, problem text)
LANGUAGE sql STABLE AS $$
    SELECT p.id, 'missing'
      FROM products p JOIN vendors v ON v.id = p.vendor_id
     WHERE p.status = 'active' AND v.status = 'active'
       AND NOT EXISTS (SELECT 1 FROM product_documents d WHERE d.product_id = p.id)
    UNION ALL
    SELECT d.product_id, 'not visible'
      FROM product_documents d
     WHERE nexus_product_document(d.product_id) IS NULL
    UNION ALL
    SELECT d.product_id, 'stale'
      FROM product_documents d
     WHERE d.doc::text IS DISTINCT FROM nexus_product_document(d.product_id)::text
       AND nexus_product_document(d.product_id) IS NOT NULL
    UNION ALL
    SELECT d.product_id, 'slug'
      FROM product_documents d JOIN products p ON p.id = d.product_id
     WHERE d.slug <> p.slug
$$;

-- Which products a change touches, per table; then refresh them.
CREATE FUNCTION product_documents_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_TABLE_NAME = 'products' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN NULL;    -- ON DELETE CASCADE
        END IF;
        ids := ARRAY(SELECT id FROM new_rows);

    ELSIF TG_TABLE_NAME IN ('product_variants', 'product_categories', 'product_tags',
                            'product_attribute_values', 'product_media') THEN
        IF TG_OP = 'INSERT' THEN
            ids := ARRAY(SELECT DISTINCT product_id FROM new_rows);
        ELSIF TG_OP = 'UPDATE' THEN
            ids := ARRAY(SELECT product_id FROM new_rows UNION SELECT product_id FROM old_rows);
        ELSE
            ids := ARRAY(SELECT DISTINCT product_id FROM old_rows);
        END IF;

    ELSIF TG_TABLE_NAME = 'vendors' THEN
        IF TG_OP <> 'UPDATE' THEN
            RETURN NULL;    -- a new vendor has no products; a deleted one neither
        END IF;
        ids := ARRAY(SELECT p.id FROM products p
                      WHERE p.vendor_id IN (
                            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                             WHERE (n.slug, n.name, n.status)
                                   IS DISTINCT FROM (o.slug, o.name, o.status)));

    ELSIF TG_TABLE_NAME = 'categories' THEN
        IF TG_OP <> 'UPDATE' THEN
            RETURN NULL;    -- links come and go through product_categories
        END IF;
        ids := ARRAY(SELECT DISTINCT pc.product_id FROM product_categories pc
                      WHERE pc.category_id IN (
                            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                             WHERE (n.slug, n.name, n.position)
                                   IS DISTINCT FROM (o.slug, o.name, o.position)));

    ELSIF TG_TABLE_NAME = 'tags' THEN
        IF TG_OP <> 'UPDATE' THEN
            RETURN NULL;
        END IF;
        ids := ARRAY(SELECT DISTINCT pt.product_id FROM product_tags pt
                      WHERE pt.tag_id IN (
                            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                             WHERE n.slug IS DISTINCT FROM o.slug));

    ELSIF TG_TABLE_NAME = 'attributes' THEN
        IF TG_OP <> 'UPDATE' THEN
            RETURN NULL;
        END IF;
        ids := ARRAY(SELECT DISTINCT pav.product_id FROM product_attribute_values pav
                      WHERE pav.attribute_id IN (
                            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                             WHERE (n.slug, n.name, n.type, n.position)
                                   IS DISTINCT FROM (o.slug, o.name, o.type, o.position)));
    END IF;

    PERFORM product_documents_refresh(ids);
    RETURN NULL;
END
$$;

CREATE FUNCTION product_documents_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM product_documents_rebuild();
    RETURN NULL;
END
$$;

-- The "zz_" prefix orders these after the catalog triggers of 0005 on the
-- same table (statement triggers fire by name), so derived prices, stock and
-- ratings are already updated when a document is built.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['products', 'product_variants', 'product_categories',
                             'product_tags', 'product_attribute_values', 'product_media',
                             'vendors', 'categories', 'tags', 'attributes']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION product_documents_changed()',
                       'zz_' || t || '_docs_ins', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I
                        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION product_documents_changed()',
                       'zz_' || t || '_docs_upd', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION product_documents_changed()',
                       'zz_' || t || '_docs_del', t);
    END LOOP;
END
$$;

CREATE TRIGGER zz_products_docs_trunc AFTER TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION product_documents_truncated();

-- The visible product by slug, as GET /api/products/{slug} serves it (NULL
-- when there is none). Only active variants are listed; a visible product
-- without one has price {min:null,max:null} and is absent from listings.
CREATE FUNCTION nexus_api_product(p_slug text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT doc FROM product_documents WHERE slug = p_slug
$$;

DO $$ BEGIN PERFORM product_documents_rebuild(); END $$;
