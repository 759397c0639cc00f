-- 0012 catalog management: sellers create and edit their stores' products
-- and variants; operators manage categories, tags and attributes and, with
-- `nexus_product_approval on`, approve or reject sellers' products.
--
-- Every write goes through the catalog tables themselves, so the statement
-- triggers of 0005/0010 keep catalog_listing and product_documents right and
-- bump catalog_version_seq (the module's caches follow the NOTIFY).
--
-- Approval (meta.product_approval = true): a product a seller makes visible
-- (status active on create, or draft/archived -> active) is stored as
-- 'pending' instead; a change to the shopper-visible content (name, slug,
-- description, categories, tags, attributes, options) of an active product
-- puts it back to 'pending', so it is hidden until an operator approves it.
-- Variant prices, stock and status take effect at once. A rejected product
-- goes back to 'draft' with the operator's reason recorded.

ALTER TABLE products ADD COLUMN options text[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(options) <= 5);

CREATE TABLE product_approvals (
    id          bigserial PRIMARY KEY,
    product_id  bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    decision    text NOT NULL CHECK (decision IN ('approved', 'rejected')),
    reason      text CHECK (length(reason) <= 500),
    decided_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    decided_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (decision = 'approved' OR reason IS NOT NULL)
);
CREATE INDEX product_approvals_product_idx ON product_approvals (product_id, id DESC);

-- ---------------------------------------------------------------------------
-- Small helpers

-- a JSON integer in [p_min, p_max], else NULL
CREATE FUNCTION nexus_json_int(p jsonb, p_min bigint, p_max bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(p) = 'number' AND p::text ~ '^-?[0-9]{1,18}$'
                 AND p::text::bigint BETWEEN p_min AND p_max
                THEN p::text::bigint END
$$;

CREATE FUNCTION nexus_json_str(p jsonb, p_min int, p_max int) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(p) = 'string'
                 AND length(p #>> '{}') BETWEEN p_min AND p_max
                 AND (p #>> '{}') !~ '[\x01-\x1f\x7f]'
                THEN p #>> '{}' END
$$;

CREATE FUNCTION nexus_invalid(p_name text, p_reason text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_array(jsonb_build_object('name', p_name, 'reason', p_reason))
$$;

CREATE FUNCTION nexus_err_invalid(p_errs jsonb) RETURNS nexus_answer
LANGUAGE sql IMMUTABLE AS $$
    SELECT nexus_err(422, 'invalid_body',
                     'Some fields are missing or invalid; see invalid_params.',
                     jsonb_build_object('invalid_params', p_errs))
$$;

-- a slug from a name: lower case ASCII words joined by '-'
CREATE FUNCTION nexus_slugify(p text, p_max int) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(nullif(trim(BOTH '-' FROM left(trim(BOTH '-' FROM
               regexp_replace(lower(p), '[^a-z0-9]+', '-', 'g')), p_max)), ''), 'item')
$$;

-- ---------------------------------------------------------------------------
-- JSON shapes (seller and operator views: every status, every variant)

CREATE FUNCTION nexus_variant_json(v product_variants) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', v.id, 'product_id', v.product_id,
        'sku', v.sku, 'title', v.title, 'options', v.options,
        'price', v.price, 'compare_at_price', v.compare_at_price,
        'currency', v.currency, 'weight_grams', v.weight_grams,
        'stock', v.stock, 'status', v.status, 'position', v.position)
$$;

CREATE FUNCTION nexus_seller_product_json(p_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_build_object(
        'id', p.id, 'store_id', p.vendor_id, 'slug', p.slug, 'name', p.name,
        'description', p.description, 'status', p.status,
        'currency', p.currency, 'options', to_jsonb(p.options),
        'categories', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'id', c.id, 'slug', c.slug, 'primary', pc.is_primary)
                ORDER BY pc.is_primary DESC, c.id)
              FROM product_categories pc JOIN categories c ON c.id = pc.category_id
             WHERE pc.product_id = p.id), '[]'),
        'tags', coalesce((SELECT jsonb_agg(t.slug ORDER BY t.slug)
              FROM product_tags pt JOIN tags t ON t.id = pt.tag_id
             WHERE pt.product_id = p.id), '[]'),
        'attributes', coalesce((SELECT jsonb_object_agg(x.slug, x.val)
              FROM (SELECT a.slug,
                           CASE WHEN count(*) > 1 THEN jsonb_agg(
                                    CASE a.type WHEN 'number' THEN to_jsonb(pav.value::numeric)
                                                WHEN 'boolean' THEN to_jsonb(pav.value::boolean)
                                                ELSE to_jsonb(pav.value) END ORDER BY pav.value)
                                ELSE (array_agg(CASE a.type
                                         WHEN 'number' THEN to_jsonb(pav.value::numeric)
                                         WHEN 'boolean' THEN to_jsonb(pav.value::boolean)
                                         ELSE to_jsonb(pav.value) END))[1] END AS val
                      FROM product_attribute_values pav
                      JOIN attributes a ON a.id = pav.attribute_id
                     WHERE pav.product_id = p.id GROUP BY a.slug) x), '{}'),
        'variants', coalesce((SELECT jsonb_agg(nexus_variant_json(v) ORDER BY v.position, v.id)
              FROM product_variants v WHERE v.product_id = p.id), '[]'),
        'approval', (SELECT jsonb_build_object('decision', pa.decision,
                         'reason', pa.reason, 'decided_by', pa.decided_by,
                         'decided_at', nexus_json_ts(pa.decided_at))
              FROM product_approvals pa WHERE pa.product_id = p.id
             ORDER BY pa.id DESC LIMIT 1),
        'created_at', nexus_json_ts(p.created_at),
        'updated_at', nexus_json_ts(p.updated_at))
      FROM products p WHERE p.id = p_id);
END
$$;

-- ---------------------------------------------------------------------------
-- Validation. Each function returns the list of invalid_params (empty when
-- all is well); paths name the member, e.g. variants[1].price.

-- one variant; p_partial: a PATCH (nothing required). p_cur: the stored
-- variant for a PATCH (compare_at_price is checked against the result).
CREATE FUNCTION nexus_variant_errors(p jsonb, p_path text, p_options text[],
                                     p_partial boolean,
                                     p_cur product_variants DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    e jsonb := '[]';
    k text;
    v_price bigint;
    v_cmp bigint;
    v_known text[] := ARRAY['sku', 'title', 'options', 'price', 'compare_at_price',
                            'weight_grams', 'stock', 'status'];
BEGIN
    IF jsonb_typeof(p) IS DISTINCT FROM 'object' THEN
        RETURN nexus_invalid(p_path, 'must be an object');
    END IF;
    IF p_partial THEN
        v_known := array_remove(v_known, 'stock');
    END IF;
    FOR k IN SELECT jsonb_object_keys(p) LOOP
        IF NOT k = ANY (v_known) THEN
            e := e || nexus_invalid(p_path || k, 'is not a known field');
        END IF;
    END LOOP;
    IF p ? 'sku' OR NOT p_partial THEN
        IF NOT p ? 'sku' OR jsonb_typeof(p->'sku') = 'null' THEN
            e := e || nexus_invalid(p_path || 'sku', 'is required');
        ELSIF coalesce(nexus_json_str(p->'sku', 1, 64) ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$', false) = false THEN
            e := e || nexus_invalid(p_path || 'sku',
                 'must be 1 to 64 letters, digits, ".", "_" or "-"');
        END IF;
    END IF;
    IF p ? 'title' AND nexus_json_str(p->'title', 1, 200) IS NULL THEN
        e := e || nexus_invalid(p_path || 'title', 'must be a string of 1 to 200 characters');
    END IF;
    IF p_options IS NULL THEN
        NULL;                                   -- the product's options are invalid
    ELSIF p ? 'options' OR (NOT p_partial AND cardinality(p_options) > 0) THEN
        IF jsonb_typeof(p->'options') IS DISTINCT FROM 'object' THEN
            e := e || nexus_invalid(p_path || 'options',
                 'must be an object with a value for each of the product''s options');
        ELSIF NOT (SELECT coalesce(array_agg(x ORDER BY x), '{}') FROM jsonb_object_keys(p->'options') x)
                  = (SELECT coalesce(array_agg(x ORDER BY x), '{}') FROM unnest(p_options) x) THEN
            e := e || nexus_invalid(p_path || 'options',
                 'must name exactly the product''s options: ' || array_to_string(p_options, ', '));
        ELSIF EXISTS (SELECT 1 FROM jsonb_each(p->'options') o
                       WHERE nexus_json_str(o.value, 1, 100) IS NULL) THEN
            e := e || nexus_invalid(p_path || 'options', 'values must be strings of 1 to 100 characters');
        END IF;
    END IF;
    IF p ? 'price' OR NOT p_partial THEN
        v_price := nexus_json_int(p->'price', 0, 100000000000);
        IF v_price IS NULL THEN
            e := e || nexus_invalid(p_path || 'price',
                 CASE WHEN p ? 'price' THEN 'must be a whole number of minor units, 0 or more'
                      ELSE 'is required' END);
        END IF;
    ELSE
        v_price := p_cur.price;
    END IF;
    IF p ? 'compare_at_price' AND jsonb_typeof(p->'compare_at_price') <> 'null' THEN
        v_cmp := nexus_json_int(p->'compare_at_price', 0, 100000000000);
        IF v_cmp IS NULL THEN
            e := e || nexus_invalid(p_path || 'compare_at_price', 'must be a whole number of minor units');
        END IF;
    ELSIF NOT p ? 'compare_at_price' THEN
        v_cmp := p_cur.compare_at_price;
    END IF;
    IF v_cmp IS NOT NULL AND v_price IS NOT NULL AND v_cmp <= v_price THEN
        e := e || nexus_invalid(p_path || 'compare_at_price', 'must be greater than price');
    END IF;
    IF p ? 'weight_grams' AND jsonb_typeof(p->'weight_grams') <> 'null'
       AND nexus_json_int(p->'weight_grams', 0, 1000000000) IS NULL THEN
        e := e || nexus_invalid(p_path || 'weight_grams', 'must be a whole number, 0 or more');
    END IF;
    IF p ? 'stock' AND nexus_json_int(p->'stock', 0, 1000000000) IS NULL THEN
        e := e || nexus_invalid(p_path || 'stock', 'must be a whole number, 0 or more');
    END IF;
    IF p ? 'status' AND coalesce(p->>'status', '') NOT IN ('active', 'inactive') THEN
        e := e || nexus_invalid(p_path || 'status', 'must be active or inactive');
    END IF;
    RETURN e;
END
$$;

-- categories, tags, attributes, options of a product body (create or
-- PATCH); the resolved ids come back in OUT parameters
CREATE FUNCTION nexus_product_errors(p jsonb, OUT errs jsonb,
                                     OUT cat_ids bigint[], OUT tag_ids bigint[],
                                     OUT attr_rows jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    i int;
    x jsonb;
    k text;
    a attributes;
    vals jsonb;
    val jsonb;
    s text;
    cid bigint;
BEGIN
    errs := '[]';
    cat_ids := '{}';
    tag_ids := '{}';
    attr_rows := '[]';
    IF p ? 'categories' THEN
        IF jsonb_typeof(p->'categories') <> 'array' THEN
            errs := errs || nexus_invalid('categories', 'must be an array');
        ELSE
            FOR i IN 0 .. jsonb_array_length(p->'categories') - 1 LOOP
                x := p->'categories'->i;
                cid := NULL;
                IF jsonb_typeof(x) = 'number' THEN
                    SELECT id INTO cid FROM categories WHERE id = nexus_json_int(x, 1, 9223372036854775807);
                ELSIF jsonb_typeof(x) = 'string' THEN
                    SELECT id INTO cid FROM categories WHERE slug = x #>> '{}';
                END IF;
                IF cid IS NULL THEN
                    errs := errs || nexus_invalid(format('categories[%s]', i), 'is not a known category');
                ELSIF cid = ANY (cat_ids) THEN
                    errs := errs || nexus_invalid(format('categories[%s]', i), 'is listed twice');
                ELSE
                    cat_ids := cat_ids || cid;
                END IF;
            END LOOP;
        END IF;
    END IF;
    IF p ? 'tags' THEN
        IF jsonb_typeof(p->'tags') <> 'array' THEN
            errs := errs || nexus_invalid('tags', 'must be an array');
        ELSE
            FOR i IN 0 .. jsonb_array_length(p->'tags') - 1 LOOP
                x := p->'tags'->i;
                cid := NULL;
                IF jsonb_typeof(x) = 'string' THEN
                    SELECT id INTO cid FROM tags WHERE slug = x #>> '{}';
                END IF;
                IF cid IS NULL THEN
                    errs := errs || nexus_invalid(format('tags[%s]', i), 'is not a known tag');
                ELSIF NOT cid = ANY (tag_ids) THEN
                    tag_ids := tag_ids || cid;
                END IF;
            END LOOP;
        END IF;
    END IF;
    IF p ? 'attributes' THEN
        IF jsonb_typeof(p->'attributes') <> 'object' THEN
            errs := errs || nexus_invalid('attributes', 'must be an object');
        ELSE
            FOR k, vals IN SELECT * FROM jsonb_each(p->'attributes') LOOP
                SELECT * INTO a FROM attributes WHERE slug = k;
                IF NOT FOUND THEN
                    errs := errs || nexus_invalid('attributes.' || k, 'is not a known attribute');
                    CONTINUE;
                END IF;
                IF jsonb_typeof(vals) = 'null' THEN
                    CONTINUE;                      -- removes the attribute
                END IF;
                IF jsonb_typeof(vals) <> 'array' OR a.type <> 'choice' THEN
                    vals := jsonb_build_array(vals);
                END IF;
                IF jsonb_array_length(vals) NOT BETWEEN 1 AND 20 THEN
                    errs := errs || nexus_invalid('attributes.' || k, 'must have 1 to 20 values');
                    CONTINUE;
                END IF;
                FOR val IN SELECT * FROM jsonb_array_elements(vals) LOOP
                    s := NULL;
                    CASE a.type
                    WHEN 'text' THEN
                        s := nexus_json_str(val, 1, 200);
                        IF s IS NULL THEN
                            errs := errs || nexus_invalid('attributes.' || k,
                                            'must be a string of 1 to 200 characters');
                        END IF;
                    WHEN 'number' THEN
                        IF jsonb_typeof(val) = 'number' AND length(val::text) <= 30 THEN
                            s := val::text;
                        ELSE
                            errs := errs || nexus_invalid('attributes.' || k, 'must be a number');
                        END IF;
                    WHEN 'boolean' THEN
                        IF jsonb_typeof(val) = 'boolean' THEN
                            s := val::text;
                        ELSE
                            errs := errs || nexus_invalid('attributes.' || k, 'must be true or false');
                        END IF;
                    ELSE -- choice
                        s := nexus_json_str(val, 1, 200);
                        IF s IS NULL OR (a.choices IS NOT NULL AND NOT s = ANY (a.choices)) THEN
                            errs := errs || nexus_invalid('attributes.' || k,
                                CASE WHEN a.choices IS NULL THEN 'must be a string of 1 to 200 characters'
                                     ELSE 'must be one of: ' || array_to_string(a.choices, ', ') END);
                            s := NULL;
                        END IF;
                    END CASE;
                    IF s IS NOT NULL THEN
                        attr_rows := attr_rows || jsonb_build_array(
                            jsonb_build_object('id', a.id, 'value', s));
                    END IF;
                END LOOP;
            END LOOP;
        END IF;
    END IF;
    IF p ? 'options' THEN
        IF jsonb_typeof(p->'options') <> 'array' OR jsonb_array_length(p->'options') > 5 THEN
            errs := errs || nexus_invalid('options', 'must be an array of at most 5 names');
        ELSE
            FOR i IN 0 .. jsonb_array_length(p->'options') - 1 LOOP
                IF coalesce(nexus_json_str(p->'options'->i, 1, 50) ~ '^[a-z][a-z0-9_]*$', false) = false THEN
                    errs := errs || nexus_invalid(format('options[%s]', i),
                                    'must be a lower-case name (a-z, 0-9, _) of at most 50 characters');
                ELSIF (SELECT count(*) FROM jsonb_array_elements(p->'options') o WHERE o = p->'options'->i) > 1 THEN
                    errs := errs || nexus_invalid(format('options[%s]', i), 'is listed twice');
                END IF;
            END LOOP;
        END IF;
    END IF;
END
$$;

-- writes categories/tags/attributes given in p (already validated)
CREATE FUNCTION nexus_product_write_links(p_id bigint, p jsonb, p_cat_ids bigint[],
                                          p_tag_ids bigint[], p_attr_rows jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p ? 'categories' THEN
        DELETE FROM product_categories WHERE product_id = p_id
           AND NOT category_id = ANY (p_cat_ids);
        -- primary first cleared, then set: one primary at a time
        UPDATE product_categories SET is_primary = false
         WHERE product_id = p_id AND is_primary
           AND category_id IS DISTINCT FROM p_cat_ids[1];
        INSERT INTO product_categories (product_id, category_id, is_primary)
        SELECT p_id, c, o = 1 FROM unnest(p_cat_ids) WITH ORDINALITY u (c, o)
        ON CONFLICT (product_id, category_id) DO UPDATE SET is_primary = EXCLUDED.is_primary
         WHERE product_categories.is_primary IS DISTINCT FROM EXCLUDED.is_primary;
    END IF;
    IF p ? 'tags' THEN
        DELETE FROM product_tags WHERE product_id = p_id AND NOT tag_id = ANY (p_tag_ids);
        INSERT INTO product_tags (product_id, tag_id)
        SELECT p_id, t FROM unnest(p_tag_ids) t ON CONFLICT DO NOTHING;
    END IF;
    IF p ? 'attributes' THEN
        -- the attributes named in the body are replaced; others stay
        DELETE FROM product_attribute_values pav USING attributes a
         WHERE pav.product_id = p_id AND a.id = pav.attribute_id
           AND p->'attributes' ? a.slug
           AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_attr_rows) r
                            WHERE (r->>'id')::bigint = pav.attribute_id
                              AND r->>'value' = pav.value);
        INSERT INTO product_attribute_values (product_id, attribute_id, value)
        SELECT p_id, (r->>'id')::bigint, r->>'value' FROM jsonb_array_elements(p_attr_rows) r
        ON CONFLICT DO NOTHING;
    END IF;
END
$$;

-- inserts one validated variant; initial stock is a 'received' movement
-- written by the stock trigger of 0005
CREATE FUNCTION nexus_variant_insert(p_actor bigint, p_product products, p jsonb,
                                     p_position int) RETURNS product_variants
LANGUAGE plpgsql AS $$
DECLARE
    v product_variants;
BEGIN
    PERFORM set_config('nexus.actor_user_id', p_actor::text, true),
            set_config('nexus.stock_reason', 'received', true);
    INSERT INTO product_variants (product_id, sku, title, options, price,
                                  compare_at_price, currency, stock, weight_grams,
                                  status, position)
    VALUES (p_product.id, p->>'sku',
            coalesce(p->>'title', nullif((SELECT string_agg(o.value #>> '{}', ' / ' ORDER BY n.ordinality)
                                            FROM jsonb_array_elements(to_jsonb(p_product.options))
                                                 WITH ORDINALITY n (name, ordinality)
                                            JOIN jsonb_each(p->'options') o ON o.key = n.name #>> '{}'), ''),
                     'Default'),
            coalesce(p->'options', '{}'), (p->>'price')::bigint,
            (p->>'compare_at_price')::bigint, p_product.currency,
            coalesce((p->>'stock')::int, 0), (p->>'weight_grams')::int,
            coalesce(p->>'status', 'active'), p_position)
    RETURNING * INTO v;
    RETURN v;
END
$$;

CREATE FUNCTION nexus_sku_taken(p_sku text) RETURNS nexus_answer
LANGUAGE sql IMMUTABLE AS $$
    SELECT nexus_err(409, 'sku_taken', format('SKU %s is already in use.', p_sku),
                     jsonb_build_object('sku', p_sku))
$$;

-- the product, if the actor works for its store (else NULL: 404)
CREATE FUNCTION nexus_seller_product(p_actor bigint, p_id text) RETURNS products
LANGUAGE plpgsql AS $$
DECLARE
    p products;
BEGIN
    SELECT * INTO p FROM products WHERE id = nexus_id(p_id) FOR NO KEY UPDATE;
    IF NOT FOUND OR nexus_store_role(p_actor, p.vendor_id) IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN p;
END
$$;

-- ---------------------------------------------------------------------------
-- Seller endpoints

CREATE FUNCTION nexus_api_seller_products(p_actor bigint, p_id text, p_id2 text,
                                          p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_limit int := nexus_page_limit(p_meta);
    v_store text := p_meta->'args'->>'store';
    v_status text := p_meta->'args'->>'status';
BEGIN
    IF v_status IS NOT NULL AND v_status NOT IN ('draft', 'pending', 'active', 'archived') THEN
        RETURN nexus_err(400, 'invalid_parameter',
                         'Parameter "status" must be draft, pending, active or archived.');
    END IF;
    IF v_store IS NOT NULL AND nexus_store_role(p_actor, nexus_id(v_store)) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such store.');
    END IF;
    RETURN nexus_ok(200, nexus_page(
        (SELECT jsonb_agg(nexus_seller_product_json(x.id) ORDER BY x.id DESC)
           FROM (SELECT p.id FROM products p
                  WHERE p.vendor_id IN (SELECT vs.vendor_id FROM vendor_staff vs
                                          JOIN vendors v ON v.id = vs.vendor_id
                                         WHERE vs.user_id = p_actor AND v.status = 'active')
                    AND (v_store IS NULL OR p.vendor_id = nexus_id(v_store))
                    AND (v_status IS NULL OR p.status = v_status)
                    AND p.id < nexus_page_cursor(p_meta)
                  ORDER BY p.id DESC LIMIT v_limit) x),
        v_limit));
END
$$;

CREATE FUNCTION nexus_api_seller_product_get(p_actor bigint, p_id text, p_id2 text,
                                             p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_vid bigint;
BEGIN
    SELECT vendor_id INTO v_vid FROM products WHERE id = nexus_id(p_id);
    IF v_vid IS NULL OR nexus_store_role(p_actor, v_vid) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such product.');
    END IF;
    RETURN nexus_ok(200, nexus_seller_product_json(nexus_id(p_id)));
END
$$;

CREATE FUNCTION nexus_api_seller_product_create(p_actor bigint, p_id text, p_id2 text,
                                                p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    chk record;
    e jsonb;
    v_vid bigint;
    v_stores bigint[];
    v_slug text;
    v_status text := coalesce(p_body->>'status', 'draft');
    v_opts text[];
    p products;
    i int;
    v_skus text[];
    v_sku text;
BEGIN
    v_stores := ARRAY(SELECT vs.vendor_id FROM vendor_staff vs JOIN vendors v ON v.id = vs.vendor_id
                       WHERE vs.user_id = p_actor AND v.status = 'active' ORDER BY 1);
    chk := nexus_product_errors(p_body);
    e := chk.errs;
    IF p_body ? 'store_id' THEN
        v_vid := (p_body->>'store_id')::bigint;
        IF NOT v_vid = ANY (v_stores) THEN
            e := e || nexus_invalid('store_id', 'is not one of your stores');
        END IF;
    ELSIF cardinality(v_stores) = 1 THEN
        v_vid := v_stores[1];
    ELSE
        e := e || nexus_invalid('store_id', 'is required: you work for several stores');
    END IF;
    -- with invalid options, the variants' options are not checked against them
    v_opts := CASE WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(e) x
                                 WHERE x->>'name' LIKE 'options%') THEN NULL
                   WHEN NOT p_body ? 'options' THEN '{}'
                   ELSE ARRAY(SELECT jsonb_array_elements_text(p_body->'options')) END;
    IF p_body ? 'variants' THEN
        FOR i IN 0 .. jsonb_array_length(p_body->'variants') - 1 LOOP
            e := e || nexus_variant_errors(p_body->'variants'->i, format('variants[%s].', i),
                                           v_opts, false);
            v_sku := p_body->'variants'->i->>'sku';
            IF v_sku = ANY (v_skus) THEN
                e := e || nexus_invalid(format('variants[%s].sku', i), 'is listed twice');
            END IF;
            v_skus := v_skus || v_sku;
        END LOOP;
    END IF;
    IF jsonb_array_length(e) > 0 THEN
        RETURN nexus_err_invalid(e);
    END IF;
    SELECT sku INTO v_sku FROM product_variants WHERE sku = ANY (v_skus) ORDER BY sku LIMIT 1;
    IF FOUND THEN
        RETURN nexus_sku_taken(v_sku);
    END IF;

    IF jsonb_typeof(p_body->'slug') = 'string' THEN
        v_slug := p_body->>'slug';
        IF EXISTS (SELECT 1 FROM products WHERE slug = v_slug) THEN
            RETURN nexus_err(409, 'slug_taken', 'Another product has this slug.');
        END IF;
    ELSE
        v_slug := nexus_slugify(p_body->>'name', 190);
        i := 1;
        WHILE EXISTS (SELECT 1 FROM products WHERE slug = v_slug) LOOP
            i := i + 1;
            v_slug := nexus_slugify(p_body->>'name', 190) || '-' || i;
        END LOOP;
    END IF;
    IF v_status = 'active' AND coalesce((p_meta->>'product_approval')::boolean, false) THEN
        v_status := 'pending';
    END IF;

    BEGIN
        INSERT INTO products (vendor_id, slug, name, description, status, currency, options)
        SELECT v_vid, v_slug, p_body->>'name', coalesce(p_body->>'description', ''),
               v_status, v.currency, coalesce(v_opts, '{}')
          FROM vendors v WHERE v.id = v_vid
        RETURNING * INTO p;
        PERFORM nexus_product_write_links(p.id, p_body, chk.cat_ids, chk.tag_ids, chk.attr_rows);
        IF p_body ? 'variants' THEN
            FOR i IN 0 .. jsonb_array_length(p_body->'variants') - 1 LOOP
                PERFORM nexus_variant_insert(p_actor, p, p_body->'variants'->i, i);
            END LOOP;
        END IF;
    EXCEPTION WHEN unique_violation THEN
        -- a concurrent writer took the slug or a SKU first
        IF SQLERRM LIKE '%product_variants_sku_key%' THEN
            RETURN nexus_err(409, 'sku_taken', 'A SKU of this product is already in use.');
        END IF;
        RETURN nexus_err(409, 'slug_taken', 'Another product has this slug.');
    END;
    PERFORM nexus_audit(p_actor, p_meta, 'product.create', 'product', p.id::text,
                        jsonb_build_object('store_id', v_vid, 'status', v_status,
                                           'slug', v_slug));
    RETURN nexus_ok(201, nexus_seller_product_json(p.id));
END
$$;

CREATE FUNCTION nexus_api_seller_product_update(p_actor bigint, p_id text, p_id2 text,
                                                p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    chk record;
    e jsonb;
    p products;
    v_status text;
    v_content boolean;
    v_opts text[];
BEGIN
    p := nexus_seller_product(p_actor, p_id);
    IF p.id IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such product.');
    END IF;
    chk := nexus_product_errors(p_body);
    e := chk.errs;
    IF p_body ? 'status' AND p_body->>'status' NOT IN ('draft', 'active', 'archived') THEN
        e := e || nexus_invalid('status', 'must be draft, active or archived');
    END IF;
    IF p_body ? 'options' AND NOT e @> '[{"name":"options"}]' THEN
        v_opts := ARRAY(SELECT jsonb_array_elements_text(p_body->'options'));
        IF v_opts IS DISTINCT FROM p.options
           AND EXISTS (SELECT 1 FROM product_variants WHERE product_id = p.id) THEN
            e := e || nexus_invalid('options', 'cannot change while the product has variants');
        END IF;
    END IF;
    IF jsonb_array_length(e) > 0 THEN
        RETURN nexus_err_invalid(e);
    END IF;
    IF p_body ? 'slug' AND p_body->>'slug' <> p.slug
       AND EXISTS (SELECT 1 FROM products WHERE slug = p_body->>'slug') THEN
        RETURN nexus_err(409, 'slug_taken', 'Another product has this slug.');
    END IF;

    -- shopper-visible content; what needs approval when it is on
    v_content := (p_body ? 'name' AND p_body->>'name' <> p.name)
        OR (p_body ? 'slug' AND p_body->>'slug' <> p.slug)
        OR (p_body ? 'description' AND p_body->>'description' <> p.description)
        OR (p_body ? 'options' AND v_opts IS DISTINCT FROM p.options)
        OR (p_body ? 'categories' AND (
                chk.cat_ids[1] IS DISTINCT FROM (SELECT category_id FROM product_categories
                                                  WHERE product_id = p.id AND is_primary)
                OR ARRAY(SELECT unnest(chk.cat_ids) ORDER BY 1) IS DISTINCT FROM ARRAY(
                    SELECT category_id FROM product_categories WHERE product_id = p.id ORDER BY 1)))
        OR (p_body ? 'tags' AND ARRAY(SELECT unnest(chk.tag_ids) ORDER BY 1) IS DISTINCT FROM ARRAY(
                SELECT tag_id FROM product_tags WHERE product_id = p.id ORDER BY 1))
        OR (p_body ? 'attributes');
    v_status := coalesce(p_body->>'status', p.status);
    IF coalesce((p_meta->>'product_approval')::boolean, false) THEN
        IF v_status = 'active' AND (p.status <> 'active' OR v_content) THEN
            v_status := 'pending';
        END IF;
    ELSIF v_status = 'pending' THEN
        v_status := 'active';              -- approval was switched off
    END IF;

    BEGIN
        UPDATE products SET
            name = coalesce(p_body->>'name', name),
            slug = coalesce(p_body->>'slug', slug),
            description = coalesce(p_body->>'description', description),
            options = coalesce(v_opts, options),
            status = v_status
         WHERE id = p.id;
        PERFORM nexus_product_write_links(p.id, p_body, chk.cat_ids, chk.tag_ids, chk.attr_rows);
    EXCEPTION WHEN unique_violation THEN
        RETURN nexus_err(409, 'slug_taken', 'Another product has this slug.');
    END;
    PERFORM nexus_audit(p_actor, p_meta,
        CASE WHEN v_status = 'archived' AND p.status <> 'archived'
             THEN 'product.archive' ELSE 'product.update' END,
        'product', p.id::text,
        jsonb_build_object('fields', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(p_body) k),
                           'status_before', p.status, 'status', v_status));
    RETURN nexus_ok(200, nexus_seller_product_json(p.id));
END
$$;

CREATE FUNCTION nexus_api_seller_variant_create(p_actor bigint, p_id text, p_id2 text,
                                                p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    p products;
    e jsonb;
    v product_variants;
BEGIN
    p := nexus_seller_product(p_actor, p_id);
    IF p.id IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such product.');
    END IF;
    e := nexus_variant_errors(p_body, '', p.options, false);
    IF jsonb_array_length(e) > 0 THEN
        RETURN nexus_err_invalid(e);
    END IF;
    IF EXISTS (SELECT 1 FROM product_variants WHERE sku = p_body->>'sku') THEN
        RETURN nexus_sku_taken(p_body->>'sku');
    END IF;
    BEGIN
        v := nexus_variant_insert(p_actor, p, p_body,
                 (SELECT coalesce(max(position) + 1, 0) FROM product_variants WHERE product_id = p.id));
    EXCEPTION WHEN unique_violation THEN
        RETURN nexus_sku_taken(p_body->>'sku');
    END;
    PERFORM nexus_audit(p_actor, p_meta, 'variant.create', 'variant', v.id::text,
                        jsonb_build_object('product_id', p.id, 'sku', v.sku));
    RETURN nexus_ok(201, nexus_variant_json(v));
END
$$;

CREATE FUNCTION nexus_api_seller_variant_update(p_actor bigint, p_id text, p_id2 text,
                                                p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v product_variants;
    p products;
    e jsonb;
BEGIN
    SELECT * INTO v FROM product_variants WHERE id = nexus_id(p_id);
    IF FOUND THEN
        p := nexus_seller_product(p_actor, v.product_id::text);
    END IF;
    IF p.id IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such variant.');
    END IF;
    SELECT * INTO v FROM product_variants WHERE id = v.id FOR NO KEY UPDATE;
    e := nexus_variant_errors(p_body, '', p.options, true, v);
    IF jsonb_array_length(e) > 0 THEN
        RETURN nexus_err_invalid(e);
    END IF;
    IF p_body ? 'sku' AND p_body->>'sku' <> v.sku
       AND EXISTS (SELECT 1 FROM product_variants WHERE sku = p_body->>'sku') THEN
        RETURN nexus_sku_taken(p_body->>'sku');
    END IF;
    BEGIN
        UPDATE product_variants SET
            sku = coalesce(p_body->>'sku', sku),
            title = coalesce(p_body->>'title', title),
            options = coalesce(p_body->'options', options),
            price = coalesce((p_body->>'price')::bigint, price),
            compare_at_price = CASE WHEN p_body ? 'compare_at_price'
                                    THEN (p_body->>'compare_at_price')::bigint
                                    ELSE compare_at_price END,
            weight_grams = CASE WHEN p_body ? 'weight_grams'
                                THEN (p_body->>'weight_grams')::int ELSE weight_grams END,
            status = coalesce(p_body->>'status', status)
         WHERE id = v.id
        RETURNING * INTO v;
    EXCEPTION WHEN unique_violation THEN
        RETURN nexus_sku_taken(p_body->>'sku');
    END;
    PERFORM nexus_audit(p_actor, p_meta, 'variant.update', 'variant', v.id::text,
        jsonb_build_object('product_id', p.id,
                           'fields', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(p_body) k)));
    RETURN nexus_ok(200, nexus_variant_json(v));
END
$$;

-- ---------------------------------------------------------------------------
-- Operators: approval

CREATE FUNCTION nexus_api_admin_products(p_actor bigint, p_id text, p_id2 text,
                                         p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_limit int := nexus_page_limit(p_meta);
    v_approval text := coalesce(p_meta->'args'->>'approval', 'pending');
BEGIN
    IF v_approval <> 'pending' THEN
        RETURN nexus_err(400, 'invalid_parameter', 'Parameter "approval" must be pending.');
    END IF;
    RETURN nexus_ok(200, nexus_page(
        (SELECT jsonb_agg(nexus_seller_product_json(x.id) ORDER BY x.id DESC)
           FROM (SELECT p.id FROM products p
                  WHERE p.status = 'pending' AND p.id < nexus_page_cursor(p_meta)
                  ORDER BY p.id DESC LIMIT v_limit) x),
        v_limit));
END
$$;

CREATE FUNCTION nexus_product_decide(p_actor bigint, p_id text, p_meta jsonb,
                                     p_decision text, p_reason text)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    p products;
BEGIN
    SELECT * INTO p FROM products WHERE id = nexus_id(p_id) FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such product.');
    END IF;
    IF p.status <> 'pending' THEN
        RETURN nexus_err(409, 'not_pending', 'This product is not waiting for approval.');
    END IF;
    UPDATE products SET status = CASE p_decision WHEN 'approved' THEN 'active' ELSE 'draft' END
     WHERE id = p.id;
    INSERT INTO product_approvals (product_id, decision, reason, decided_by)
    VALUES (p.id, p_decision, p_reason, p_actor);
    PERFORM nexus_audit(p_actor, p_meta,
        CASE p_decision WHEN 'approved' THEN 'product.approve' ELSE 'product.reject' END,
        'product', p.id::text, jsonb_strip_nulls(jsonb_build_object('reason', p_reason)));
    INSERT INTO outbox (topic, payload)
    VALUES ('product.' || p_decision, jsonb_build_object('product_id', p.id,
            'store_id', p.vendor_id, 'reason', p_reason));
    RETURN nexus_ok(200, nexus_seller_product_json(p.id));
END
$$;

CREATE FUNCTION nexus_api_admin_product_approve(p_actor bigint, p_id text, p_id2 text,
                                                p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
BEGIN
    RETURN nexus_product_decide(p_actor, p_id, p_meta, 'approved', NULL);
END
$$;

CREATE FUNCTION nexus_api_admin_product_reject(p_actor bigint, p_id text, p_id2 text,
                                               p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
BEGIN
    RETURN nexus_product_decide(p_actor, p_id, p_meta, 'rejected', p_body->>'reason');
END
$$;

-- ---------------------------------------------------------------------------
-- Operators: categories, tags, attributes

CREATE FUNCTION nexus_admin_category_json(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', c.id, 'parent_id', c.parent_id, 'slug', c.slug,
        'name', c.name, 'description', c.description, 'position', c.position,
        'path', (SELECT jsonb_agg(a.slug ORDER BY cc.depth DESC)
                   FROM category_closure cc JOIN categories a ON a.id = cc.ancestor_id
                  WHERE cc.descendant_id = c.id),
        'created_at', nexus_json_ts(c.created_at), 'updated_at', nexus_json_ts(c.updated_at))
      FROM categories c WHERE c.id = p_id
$$;

CREATE FUNCTION nexus_api_admin_category_create(p_actor bigint, p_id text, p_id2 text,
                                                p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_slug text := coalesce(p_body->>'slug', nexus_slugify(p_body->>'name', 100));
    v_parent bigint := (p_body->>'parent_id')::bigint;
    v_id bigint;
BEGIN
    IF v_parent IS NOT NULL AND NOT EXISTS (SELECT 1 FROM categories WHERE id = v_parent) THEN
        RETURN nexus_err_invalid(nexus_invalid('parent_id', 'is not a known category'));
    END IF;
    IF EXISTS (SELECT 1 FROM categories WHERE slug = v_slug) THEN
        RETURN nexus_err(409, 'slug_taken', 'Another category has this slug.');
    END IF;
    INSERT INTO categories (parent_id, slug, name, description, position)
    VALUES (v_parent, v_slug, p_body->>'name', p_body->>'description',
            coalesce((p_body->>'position')::int, 0))
    RETURNING id INTO v_id;
    PERFORM nexus_audit(p_actor, p_meta, 'category.create', 'category', v_id::text,
                        jsonb_build_object('slug', v_slug, 'parent_id', v_parent));
    RETURN nexus_ok(201, nexus_admin_category_json(v_id));
END
$$;

CREATE FUNCTION nexus_api_admin_category_update(p_actor bigint, p_id text, p_id2 text,
                                                p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    c categories;
    v_parent bigint;
BEGIN
    SELECT * INTO c FROM categories WHERE id = nexus_id(p_id) FOR UPDATE;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such category.');
    END IF;
    -- "parent_id": null moves the category to the top level
    v_parent := CASE WHEN p_body ? 'parent_id' THEN (p_body->>'parent_id')::bigint
                     ELSE c.parent_id END;
    IF v_parent IS NOT NULL AND NOT EXISTS (SELECT 1 FROM categories WHERE id = v_parent) THEN
        RETURN nexus_err_invalid(nexus_invalid('parent_id', 'is not a known category'));
    END IF;
    IF v_parent IS NOT NULL AND EXISTS (SELECT 1 FROM category_closure
                                         WHERE ancestor_id = c.id AND descendant_id = v_parent) THEN
        RETURN nexus_err(409, 'category_cycle',
                         'A category cannot move under itself or one of its descendants.');
    END IF;
    IF p_body ? 'slug' AND p_body->>'slug' <> c.slug
       AND EXISTS (SELECT 1 FROM categories WHERE slug = p_body->>'slug') THEN
        RETURN nexus_err(409, 'slug_taken', 'Another category has this slug.');
    END IF;
    -- the slug stays as it is on a rename unless a new one is given
    UPDATE categories SET
        name = coalesce(p_body->>'name', name),
        slug = coalesce(p_body->>'slug', slug),
        description = CASE WHEN p_body ? 'description' THEN p_body->>'description' ELSE description END,
        position = coalesce((p_body->>'position')::int, position)
     WHERE id = c.id
       AND (name, slug, description, position) IS DISTINCT FROM
           (coalesce(p_body->>'name', name), coalesce(p_body->>'slug', slug),
            CASE WHEN p_body ? 'description' THEN p_body->>'description' ELSE description END,
            coalesce((p_body->>'position')::int, position));
    IF v_parent IS DISTINCT FROM c.parent_id THEN
        UPDATE categories SET parent_id = v_parent WHERE id = c.id;
    END IF;
    PERFORM nexus_audit(p_actor, p_meta,
        CASE WHEN v_parent IS DISTINCT FROM c.parent_id THEN 'category.move' ELSE 'category.update' END,
        'category', c.id::text,
        jsonb_build_object('fields', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(p_body) k),
                           'parent_before', c.parent_id, 'parent_id', v_parent));
    RETURN nexus_ok(200, nexus_admin_category_json(c.id));
END
$$;

CREATE FUNCTION nexus_api_admin_category_delete(p_actor bigint, p_id text, p_id2 text,
                                                p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    c categories;
BEGIN
    SELECT * INTO c FROM categories WHERE id = nexus_id(p_id) FOR UPDATE;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such category.');
    END IF;
    IF EXISTS (SELECT 1 FROM categories WHERE parent_id = c.id) THEN
        RETURN nexus_err(409, 'category_has_children',
                         'Move or delete this category''s subcategories first.');
    END IF;
    IF EXISTS (SELECT 1 FROM product_categories WHERE category_id = c.id) THEN
        RETURN nexus_err(409, 'category_in_use', 'Products are still in this category.');
    END IF;
    DELETE FROM categories WHERE id = c.id;
    PERFORM nexus_audit(p_actor, p_meta, 'category.delete', 'category', c.id::text,
                        jsonb_build_object('slug', c.slug));
    RETURN nexus_ok(204, NULL);
END
$$;

CREATE FUNCTION nexus_tag_json(t tags) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', t.id, 'slug', t.slug, 'name', t.name)
$$;

CREATE FUNCTION nexus_api_admin_tag_create(p_actor bigint, p_id text, p_id2 text,
                                           p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    t tags;
    v_slug text := coalesce(p_body->>'slug', nexus_slugify(p_body->>'name', 100));
BEGIN
    IF EXISTS (SELECT 1 FROM tags WHERE slug = v_slug) THEN
        RETURN nexus_err(409, 'slug_taken', 'Another tag has this slug.');
    END IF;
    INSERT INTO tags (slug, name) VALUES (v_slug, p_body->>'name') RETURNING * INTO t;
    PERFORM nexus_audit(p_actor, p_meta, 'tag.create', 'tag', t.id::text,
                        jsonb_build_object('slug', t.slug));
    RETURN nexus_ok(201, nexus_tag_json(t));
END
$$;

CREATE FUNCTION nexus_api_admin_tag_update(p_actor bigint, p_id text, p_id2 text,
                                           p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    t tags;
BEGIN
    SELECT * INTO t FROM tags WHERE id = nexus_id(p_id) FOR UPDATE;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such tag.');
    END IF;
    IF p_body ? 'slug' AND p_body->>'slug' <> t.slug
       AND EXISTS (SELECT 1 FROM tags WHERE slug = p_body->>'slug') THEN
        RETURN nexus_err(409, 'slug_taken', 'Another tag has this slug.');
    END IF;
    UPDATE tags SET name = coalesce(p_body->>'name', name), slug = coalesce(p_body->>'slug', slug)
     WHERE id = t.id RETURNING * INTO t;
    PERFORM nexus_audit(p_actor, p_meta, 'tag.update', 'tag', t.id::text,
        jsonb_build_object('fields', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(p_body) k)));
    RETURN nexus_ok(200, nexus_tag_json(t));
END
$$;

CREATE FUNCTION nexus_api_admin_tag_delete(p_actor bigint, p_id text, p_id2 text,
                                           p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    t tags;
BEGIN
    DELETE FROM tags WHERE id = nexus_id(p_id) RETURNING * INTO t;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such tag.');
    END IF;
    PERFORM nexus_audit(p_actor, p_meta, 'tag.delete', 'tag', t.id::text,
                        jsonb_build_object('slug', t.slug));
    RETURN nexus_ok(204, NULL);
END
$$;

CREATE FUNCTION nexus_attribute_json(a attributes) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', a.id, 'slug', a.slug, 'name', a.name, 'type', a.type,
        'choices', to_jsonb(a.choices), 'filterable', a.filterable, 'position', a.position)
$$;

-- choices: an array of 1 to 100 distinct strings, only for type choice
CREATE FUNCTION nexus_choices_errors(p jsonb, p_type text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF NOT p ? 'choices' OR jsonb_typeof(p->'choices') = 'null' THEN
        RETURN '[]';
    END IF;
    IF p_type <> 'choice' THEN
        RETURN nexus_invalid('choices', 'is only for attributes of type choice');
    END IF;
    IF jsonb_typeof(p->'choices') <> 'array' OR jsonb_array_length(p->'choices') NOT BETWEEN 1 AND 100
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(p->'choices') c WHERE nexus_json_str(c, 1, 200) IS NULL)
       OR (SELECT count(DISTINCT c) FROM jsonb_array_elements(p->'choices') c) <> jsonb_array_length(p->'choices')
    THEN
        RETURN nexus_invalid('choices', 'must be 1 to 100 distinct strings of 1 to 200 characters');
    END IF;
    RETURN '[]';
END
$$;

CREATE FUNCTION nexus_attribute_slug_errors(p_slug text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_slug ~ '^[a-z0-9]+([-_][a-z0-9]+)*$' AND length(p_slug) <= 100
                THEN '[]'::jsonb
                ELSE nexus_invalid('slug', 'must be lowercase letters and digits, joined by single "-" or "_"') END
$$;

CREATE FUNCTION nexus_api_admin_attribute_create(p_actor bigint, p_id text, p_id2 text,
                                                 p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    a attributes;
    e jsonb;
    v_slug text := coalesce(p_body->>'slug', replace(nexus_slugify(p_body->>'name', 100), '-', '_'));
BEGIN
    e := nexus_choices_errors(p_body, p_body->>'type') || nexus_attribute_slug_errors(v_slug);
    IF jsonb_array_length(e) > 0 THEN
        RETURN nexus_err_invalid(e);
    END IF;
    IF EXISTS (SELECT 1 FROM attributes WHERE slug = v_slug) THEN
        RETURN nexus_err(409, 'slug_taken', 'Another attribute has this slug.');
    END IF;
    INSERT INTO attributes (slug, name, type, choices, filterable, position)
    VALUES (v_slug, p_body->>'name', p_body->>'type',
            CASE WHEN jsonb_typeof(p_body->'choices') = 'array'
                 THEN ARRAY(SELECT jsonb_array_elements_text(p_body->'choices')) END,
            coalesce((p_body->>'filterable')::boolean, true),
            coalesce((p_body->>'position')::int, 0))
    RETURNING * INTO a;
    PERFORM nexus_audit(p_actor, p_meta, 'attribute.create', 'attribute', a.id::text,
                        jsonb_build_object('slug', a.slug, 'type', a.type));
    RETURN nexus_ok(201, nexus_attribute_json(a));
END
$$;

CREATE FUNCTION nexus_api_admin_attribute_update(p_actor bigint, p_id text, p_id2 text,
                                                 p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    a attributes;
    e jsonb;
    v_type text;
    v_choices text[];
BEGIN
    SELECT * INTO a FROM attributes WHERE id = nexus_id(p_id) FOR UPDATE;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such attribute.');
    END IF;
    v_type := coalesce(p_body->>'type', a.type);
    e := nexus_choices_errors(p_body, v_type)
         || nexus_attribute_slug_errors(coalesce(p_body->>'slug', a.slug));
    IF jsonb_array_length(e) > 0 THEN
        RETURN nexus_err_invalid(e);
    END IF;
    v_choices := CASE WHEN p_body ? 'choices' THEN
                          CASE WHEN jsonb_typeof(p_body->'choices') = 'array'
                               THEN ARRAY(SELECT jsonb_array_elements_text(p_body->'choices')) END
                      WHEN v_type = 'choice' THEN a.choices END;
    -- stored values must still fit the new type / choices
    IF (v_type <> a.type OR v_choices IS DISTINCT FROM a.choices) AND EXISTS (
        SELECT 1 FROM product_attribute_values pav WHERE pav.attribute_id = a.id
           AND NOT CASE v_type
                   WHEN 'number' THEN pav.value ~ '^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$'
                   WHEN 'boolean' THEN pav.value IN ('true', 'false')
                   WHEN 'choice' THEN v_choices IS NULL OR pav.value = ANY (v_choices)
                   ELSE true END) THEN
        RETURN nexus_err(409, 'attribute_in_use',
                         'Products have values that the new type or choices would not allow.');
    END IF;
    IF p_body ? 'slug' AND p_body->>'slug' <> a.slug
       AND EXISTS (SELECT 1 FROM attributes WHERE slug = p_body->>'slug') THEN
        RETURN nexus_err(409, 'slug_taken', 'Another attribute has this slug.');
    END IF;
    UPDATE attributes SET name = coalesce(p_body->>'name', name),
                          slug = coalesce(p_body->>'slug', slug),
                          type = v_type, choices = v_choices,
                          filterable = coalesce((p_body->>'filterable')::boolean, filterable),
                          position = coalesce((p_body->>'position')::int, position)
     WHERE id = a.id RETURNING * INTO a;
    PERFORM nexus_audit(p_actor, p_meta, 'attribute.update', 'attribute', a.id::text,
        jsonb_build_object('fields', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(p_body) k)));
    RETURN nexus_ok(200, nexus_attribute_json(a));
END
$$;
