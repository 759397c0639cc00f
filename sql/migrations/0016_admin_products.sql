-- 0016 operators manage any store's catalog: products, variants, stock,
-- thresholds and media, through the same /api/seller/... routes as store
-- staff (the route table's SELLER level admits operators, see README
-- "Routes and roles").
--
-- nexus_catalog_role(actor, store) is the object-level check of every
-- catalog, inventory and media function: 'admin' for an operator (every
-- store that exists, whatever its status), else the caller's role in that
-- active store ('owner' / 'staff'), else NULL (the caller answers 404).
-- nexus_store_role() is unchanged: a store's staff list stays its owner's.
--
-- Which store: where a route needs one (creating a product, bulk stock,
-- the product list, low stock, the ledger) the caller's stores are the
-- default, as before; a caller who works for several names one
-- (store_id in a body, ?store=ID in a query). An operator who works for
-- no store must name it: 422 (invalid_body with store_id, or
-- store_required with ?store).
--
-- Approval (nexus_product_approval on): an operator is the approver, so an
-- operator's own edits are not held back: an active product stays active,
-- a new one can be created active, and publishing a pending product
-- (status active) is an approval, recorded as by POST .../approve. An
-- operator's edit that leaves the status alone leaves a pending product
-- pending. Store staff's edits wait for approval as before.
--
-- Audit: every write an operator makes here is in audit_log with the
-- operator as actor and details.as = 'admin', details.store_id. Store
-- staff's writes are audited as before (products and variants; stock has
-- its ledger).
--
-- The functions below are 0012/0013/0014's with these changes only.

-- ---------------------------------------------------------------------------
-- Helpers

CREATE FUNCTION nexus_is_admin(p_actor bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM user_roles WHERE user_id = p_actor AND role = 'admin')
$$;

-- 'admin' | 'owner' | 'staff' | NULL: see the top of this file
CREATE FUNCTION nexus_catalog_role(p_actor bigint, p_vendor_id bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF nexus_is_admin(p_actor) THEN
        RETURN (SELECT 'admin' FROM vendors WHERE id = p_vendor_id);
    END IF;
    RETURN nexus_store_role(p_actor, p_vendor_id);
END
$$;

-- the active stores the actor works for (the default scope of a list)
CREATE FUNCTION nexus_staff_stores(p_actor bigint) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT vs.vendor_id FROM vendor_staff vs
                   JOIN vendors v ON v.id = vs.vendor_id
                  WHERE vs.user_id = p_actor AND v.status = 'active'
                  ORDER BY 1)
$$;

CREATE FUNCTION nexus_product_vendor(p_product_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT vendor_id FROM products WHERE id = p_product_id
$$;

-- an operator who works for no store named none in the query
CREATE FUNCTION nexus_err_store_required() RETURNS nexus_answer
LANGUAGE sql IMMUTABLE AS $$
    SELECT nexus_err(422, 'store_required',
                     'Operators name the store to act on: add ?store=ID.',
                     jsonb_build_object('invalid_params',
                         nexus_invalid('store', 'is required: name the store to act on')))
$$;

-- the stores a list covers: ?store=ID (if the actor may see it, else
-- none) or the actor's own; NULL: an operator must name one
CREATE FUNCTION nexus_catalog_scope(p_actor bigint, p_store bigint) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_stores bigint[];
BEGIN
    IF p_store IS NOT NULL THEN
        RETURN CASE WHEN nexus_catalog_role(p_actor, p_store) IS NOT NULL
                    THEN ARRAY[p_store] ELSE '{}' END;
    END IF;
    v_stores := nexus_staff_stores(p_actor);
    IF cardinality(v_stores) = 0 AND nexus_is_admin(p_actor) THEN
        RETURN NULL;
    END IF;
    RETURN v_stores;
END
$$;

-- An operator's catalog write goes to the audit log with the store it
-- touched; store staff's only where p_staff_too (as before this file).
CREATE FUNCTION nexus_catalog_audit(p_actor bigint, p_meta jsonb, p_vendor_id bigint,
                                    p_action text, p_entity_type text, p_entity_id text,
                                    p_details jsonb, p_staff_too boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF nexus_catalog_role(p_actor, p_vendor_id) = 'admin' THEN
        PERFORM nexus_audit(p_actor, p_meta, p_action, p_entity_type, p_entity_id,
                            p_details || jsonb_build_object('as', 'admin',
                                                            'store_id', p_vendor_id));
    ELSIF p_staff_too THEN
        PERFORM nexus_audit(p_actor, p_meta, p_action, p_entity_type, p_entity_id,
                            p_details);
    END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- Object-level helpers of 0012, 0013, 0014: operators pass for every store

CREATE OR REPLACE FUNCTION nexus_seller_product(p_actor bigint, p_id text) RETURNS products
LANGUAGE plpgsql AS $$
DECLARE
    p products;
BEGIN
    SELECT * INTO p FROM products WHERE id = nexus_id(p_id) FOR NO KEY UPDATE;
    IF NOT FOUND OR nexus_catalog_role(p_actor, p.vendor_id) IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN p;
END
$$;

CREATE OR REPLACE FUNCTION nexus_media_product(p_actor bigint, p_product_id bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT p.id FROM products p
             WHERE p.id = p_product_id
               AND nexus_catalog_role(p_actor, p.vendor_id) IS NOT NULL);
END
$$;

CREATE OR REPLACE FUNCTION nexus_seller_variant_vendor(p_actor bigint, p_variant_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT p.vendor_id
              FROM product_variants pv
              JOIN products p ON p.id = pv.product_id
             WHERE pv.id = p_variant_id
               AND nexus_catalog_role(p_actor, p.vendor_id) IS NOT NULL);
END
$$;

-- ---------------------------------------------------------------------------
-- Products and variants (0012)

CREATE OR REPLACE FUNCTION nexus_api_seller_products(p_actor bigint, p_id text, p_id2 text,
                                                     p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_limit int := nexus_page_limit(p_meta);
    v_store text := p_meta->'args'->>'store';
    v_status text := p_meta->'args'->>'status';
    v_stores bigint[];
BEGIN
    IF v_status IS NOT NULL AND v_status NOT IN ('draft', 'pending', 'active', 'archived') THEN
        RETURN nexus_err(400, 'invalid_parameter',
                         'Parameter "status" must be draft, pending, active or archived.');
    END IF;
    IF v_store IS NOT NULL AND nexus_catalog_role(p_actor, nexus_id(v_store)) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such store.');
    END IF;
    v_stores := nexus_catalog_scope(p_actor, nexus_id(v_store));
    IF v_stores IS NULL THEN
        RETURN nexus_err_store_required();
    END IF;
    RETURN nexus_ok(200, nexus_page(
        (SELECT jsonb_agg(nexus_seller_product_json(x.id) ORDER BY x.id DESC)
           FROM (SELECT p.id FROM products p
                  WHERE p.vendor_id = ANY (v_stores)
                    AND (v_status IS NULL OR p.status = v_status)
                    AND p.id < nexus_page_cursor(p_meta)
                  ORDER BY p.id DESC LIMIT v_limit) x),
        v_limit));
END
$$;

CREATE OR REPLACE FUNCTION nexus_api_seller_product_get(p_actor bigint, p_id text, p_id2 text,
                                                        p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_vid bigint;
BEGIN
    SELECT vendor_id INTO v_vid FROM products WHERE id = nexus_id(p_id);
    IF v_vid IS NULL OR nexus_catalog_role(p_actor, v_vid) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such product.');
    END IF;
    RETURN nexus_ok(200, nexus_seller_product_json(nexus_id(p_id)));
END
$$;

CREATE OR REPLACE FUNCTION nexus_api_seller_product_create(p_actor bigint, p_id text, p_id2 text,
                                                           p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    chk record;
    e jsonb;
    v_vid bigint;
    v_stores bigint[];
    v_admin boolean;
    v_slug text;
    v_status text := coalesce(p_body->>'status', 'draft');
    v_opts text[];
    p products;
    i int;
    v_skus text[];
    v_sku text;
BEGIN
    v_stores := nexus_staff_stores(p_actor);
    chk := nexus_product_errors(p_body);
    e := chk.errs;
    IF p_body ? 'store_id' THEN
        v_vid := (p_body->>'store_id')::bigint;
        IF nexus_catalog_role(p_actor, v_vid) IS NULL THEN
            e := e || nexus_invalid('store_id', CASE WHEN nexus_is_admin(p_actor)
                                                     THEN 'is not a known store'
                                                     ELSE 'is not one of your stores' END);
        END IF;
    ELSIF cardinality(v_stores) = 1 THEN
        v_vid := v_stores[1];
    ELSIF cardinality(v_stores) = 0 THEN
        -- an operator: the route admits store staff and operators only
        e := e || nexus_invalid('store_id', 'is required: operators name the store');
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
    -- an operator is the approver: their products need no approval
    v_admin := nexus_catalog_role(p_actor, v_vid) = 'admin';
    IF v_status = 'active' AND NOT v_admin
       AND coalesce((p_meta->>'product_approval')::boolean, false) THEN
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
    PERFORM nexus_catalog_audit(p_actor, p_meta, v_vid, 'product.create', 'product', p.id::text,
                                jsonb_build_object('store_id', v_vid, 'status', v_status,
                                                   'slug', v_slug), true);
    RETURN nexus_ok(201, nexus_seller_product_json(p.id));
END
$$;

CREATE OR REPLACE FUNCTION nexus_api_seller_product_update(p_actor bigint, p_id text, p_id2 text,
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
    v_admin boolean;
    v_approve boolean := false;
BEGIN
    p := nexus_seller_product(p_actor, p_id);
    IF p.id IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such product.');
    END IF;
    v_admin := nexus_catalog_role(p_actor, p.vendor_id) = 'admin';
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
        IF v_admin THEN
            -- the approver's edit is taken as sent; publishing a pending
            -- product approves it
            v_approve := p.status = 'pending' AND v_status = 'active';
        ELSIF v_status = 'active' AND (p.status <> 'active' OR v_content) THEN
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
    PERFORM nexus_catalog_audit(p_actor, p_meta, p.vendor_id,
        CASE WHEN v_status = 'archived' AND p.status <> 'archived'
             THEN 'product.archive' ELSE 'product.update' END,
        'product', p.id::text,
        jsonb_build_object('fields', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(p_body) k),
                           'status_before', p.status, 'status', v_status), true);
    IF v_approve THEN
        -- as nexus_product_decide (POST /api/admin/products/{id}/approve)
        INSERT INTO product_approvals (product_id, decision, reason, decided_by)
        VALUES (p.id, 'approved', NULL, p_actor);
        PERFORM nexus_audit(p_actor, p_meta, 'product.approve', 'product', p.id::text,
                            jsonb_build_object('as', 'admin', 'store_id', p.vendor_id));
        INSERT INTO outbox (topic, payload)
        VALUES ('product.approved', jsonb_build_object('product_id', p.id,
                'store_id', p.vendor_id, 'reason', NULL));
    END IF;
    RETURN nexus_ok(200, nexus_seller_product_json(p.id));
END
$$;

CREATE OR REPLACE FUNCTION nexus_api_seller_variant_create(p_actor bigint, p_id text, p_id2 text,
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
    PERFORM nexus_catalog_audit(p_actor, p_meta, p.vendor_id, 'variant.create', 'variant',
                                v.id::text,
                                jsonb_build_object('product_id', p.id, 'sku', v.sku), true);
    RETURN nexus_ok(201, nexus_variant_json(v));
END
$$;

CREATE OR REPLACE FUNCTION nexus_api_seller_variant_update(p_actor bigint, p_id text, p_id2 text,
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
    PERFORM nexus_catalog_audit(p_actor, p_meta, p.vendor_id, 'variant.update', 'variant',
        v.id::text,
        jsonb_build_object('product_id', p.id,
                           'fields', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(p_body) k)),
        true);
    RETURN nexus_ok(200, nexus_variant_json(v));
END
$$;

-- ---------------------------------------------------------------------------
-- Inventory (0014)

CREATE OR REPLACE FUNCTION nexus_api_stock_adjust(p_actor bigint, p_id text, p_id2 text,
                                                  p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_id     bigint := nexus_id(p_id);
    v_reason text;
    v_delta  bigint;
    v_stock  int;
    v_new    int;
    v_why    text;
    v_mv     stock_movements;
    v_sku    text;
BEGIN
    p_body := jsonb_strip_nulls(p_body);      -- null = not given
    v_reason := p_body->>'reason';
    IF nexus_seller_variant_vendor(p_actor, v_id) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such variant in your stores.');
    END IF;
    IF (p_body ? 'delta') = (p_body ? 'set') THEN
        RETURN nexus_err(422, 'invalid_body', 'Give either delta or set.',
                         jsonb_build_object('invalid_params', jsonb_build_array(
                             jsonb_build_object('name', 'delta',
                                                'reason', 'give either delta or set'))));
    END IF;

    IF p_body ? 'delta' THEN
        v_delta := (p_body->>'delta')::bigint;
        IF v_delta = 0 THEN
            RETURN nexus_err(422, 'invalid_body', 'A delta of 0 changes nothing.',
                             jsonb_build_object('invalid_params', jsonb_build_array(
                                 jsonb_build_object('name', 'delta',
                                                    'reason', 'must not be 0'))));
        END IF;
    END IF;

    v_why := nexus_stock_reason_fits(v_reason,
                                     coalesce(v_delta, 0));
    IF v_why IS NOT NULL THEN
        RETURN nexus_err(422, 'invalid_body', 'The reason does not fit the change.',
                         jsonb_build_object('invalid_params', jsonb_build_array(
                             jsonb_build_object('name', 'reason', 'reason', v_why))));
    END IF;

    PERFORM nexus_stock_context(p_actor, v_reason, p_body->>'note');

    IF v_delta IS NOT NULL THEN
        -- one conditional statement: concurrent decrements queue on the row
        -- lock and re-check the condition, so stock never goes negative
        UPDATE product_variants SET stock = stock + v_delta::int
         WHERE id = v_id AND stock + v_delta >= 0 AND stock + v_delta <= 2147483647
        RETURNING stock INTO v_new;
        IF NOT FOUND THEN
            SELECT stock INTO v_stock FROM product_variants WHERE id = v_id;
            IF v_stock + v_delta < 0 THEN
                RETURN nexus_err(409, 'insufficient_stock',
                                 'Not enough stock for this decrement.',
                                 jsonb_build_object('stock', v_stock));
            END IF;
            RETURN nexus_err(422, 'invalid_body', 'The stock would be too large.',
                             jsonb_build_object('invalid_params', jsonb_build_array(
                                 jsonb_build_object('name', 'delta', 'reason', 'is out of range'))));
        END IF;
    ELSE
        SELECT stock INTO v_stock FROM product_variants WHERE id = v_id FOR UPDATE;
        v_new := (p_body->>'set')::int;
        v_why := nexus_stock_reason_fits(v_reason, v_new - v_stock);
        IF v_why IS NOT NULL THEN
            RETURN nexus_err(422, 'invalid_body', 'The reason does not fit the change.',
                             jsonb_build_object('invalid_params', jsonb_build_array(
                                 jsonb_build_object('name', 'reason', 'reason', v_why))));
        END IF;
        IF v_new = v_stock THEN
            RETURN nexus_ok(200, nexus_stock_json(v_id) || '{"movement": null}');
        END IF;
        UPDATE product_variants SET stock = v_new WHERE id = v_id;
    END IF;

    -- the row is locked by our update: the newest movement is ours
    SELECT * INTO v_mv FROM stock_movements WHERE variant_id = v_id
     ORDER BY id DESC LIMIT 1;
    SELECT sku INTO v_sku FROM product_variants WHERE id = v_id;
    PERFORM nexus_catalog_audit(p_actor, p_meta, nexus_seller_variant_vendor(p_actor, v_id),
        'stock.adjust', 'variant', v_id::text,
        jsonb_build_object('sku', v_sku, 'delta', v_mv.delta, 'stock', v_mv.stock_after,
                           'reason', v_mv.reason, 'movement_id', v_mv.id));
    RETURN nexus_ok(200, nexus_stock_json(v_id)
                         || jsonb_build_object('movement', nexus_movement_json(v_mv, v_sku)));
END
$$;

CREATE OR REPLACE FUNCTION nexus_api_stock_bulk(p_actor bigint, p_id text, p_id2 text,
                                                p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_reason text := coalesce(p_body->>'reason', 'adjusted');
    v_store  bigint := (p_body->>'store_id')::bigint;
    v_stores bigint[];
    v_errors jsonb;
    v_out    jsonb;
    v_n      int;
    v_vid    bigint;
BEGIN
    IF jsonb_typeof(p_body->'items') IS DISTINCT FROM 'array'
       OR jsonb_array_length(p_body->'items') = 0
    THEN
        RETURN nexus_err(422, 'invalid_body', 'Some fields are missing or invalid; see invalid_params.',
                         jsonb_build_object('invalid_params', jsonb_build_array(
                             jsonb_build_object('name', 'items', 'reason', 'must not be empty'))));
    END IF;
    -- the SKUs of store_id, else of the caller's stores
    v_stores := nexus_catalog_scope(p_actor, v_store);
    IF v_stores IS NULL OR cardinality(v_stores) = 0 THEN
        RETURN nexus_err_invalid(nexus_invalid('store_id',
            CASE WHEN v_stores IS NULL THEN 'is required: operators name the store'
                 WHEN nexus_is_admin(p_actor) THEN 'is not a known store'
                 ELSE 'is not one of your stores' END));
    END IF;

    CREATE TEMP TABLE IF NOT EXISTS nexus_stock_bulk_items (
        i int, item jsonb, sku text, quantity bigint, variant_id bigint,
        stock int, first_i int, vendor_id bigint
    ) ON COMMIT DROP;
    TRUNCATE nexus_stock_bulk_items;

    INSERT INTO nexus_stock_bulk_items (i, item, sku, quantity)
    SELECT e.ord - 1, e.item,
           CASE WHEN jsonb_typeof(e.item->'sku') = 'string' THEN e.item->>'sku' END,
           CASE WHEN jsonb_typeof(e.item->'quantity') = 'number'
                     AND e.item->>'quantity' ~ '^-?[0-9]{1,12}$'
                THEN (e.item->>'quantity')::bigint END
      FROM jsonb_array_elements(p_body->'items') WITH ORDINALITY e(item, ord);

    -- the caller's variants, locked in id order (no deadlock between two
    -- bulk updates of overlapping SKUs)
    UPDATE nexus_stock_bulk_items b SET variant_id = x.id, stock = x.stock,
                                        vendor_id = x.vendor_id
      FROM (SELECT pv.id, pv.sku, pv.stock, p.vendor_id
              FROM product_variants pv
              JOIN products p ON p.id = pv.product_id
             WHERE pv.sku IN (SELECT sku FROM nexus_stock_bulk_items)
               AND p.vendor_id = ANY (v_stores)
             ORDER BY pv.id
               FOR UPDATE OF pv) x
     WHERE x.sku = b.sku;
    UPDATE nexus_stock_bulk_items b SET first_i = f.i
      FROM (SELECT sku, min(i) AS i FROM nexus_stock_bulk_items GROUP BY sku) f
     WHERE f.sku = b.sku;

    SELECT jsonb_agg(e ORDER BY n, k) INTO v_errors FROM (
        SELECT b.i AS n, 0 AS k, jsonb_build_object('name', format('items[%s]', b.i),
               'reason', 'must be an object') AS e
          FROM nexus_stock_bulk_items b WHERE jsonb_typeof(b.item) <> 'object'
        UNION ALL
        SELECT b.i, 1, jsonb_build_object('name', format('items[%s].%s', b.i, k.key),
               'reason', 'is not a known field')
          FROM nexus_stock_bulk_items b, jsonb_object_keys(b.item) k(key)
         WHERE jsonb_typeof(b.item) = 'object' AND k.key NOT IN ('sku', 'quantity')
        UNION ALL
        SELECT b.i, 2, jsonb_build_object('name', format('items[%s].sku', b.i),
               'reason', CASE
                   WHEN b.item->'sku' IS NULL OR b.item->'sku' = 'null' THEN 'is required'
                   WHEN b.sku IS NULL THEN 'must be a string'
                   WHEN b.first_i < b.i THEN format('is a duplicate of items[%s]', b.first_i)
                   WHEN v_store IS NOT NULL THEN 'is not a SKU of this store'
                   ELSE 'is not a SKU of your stores' END)
          FROM nexus_stock_bulk_items b
         WHERE jsonb_typeof(b.item) = 'object'
           AND (b.sku IS NULL OR b.first_i < b.i OR b.variant_id IS NULL)
        UNION ALL
        SELECT b.i, 3, jsonb_build_object('name', format('items[%s].quantity', b.i),
               'reason', CASE
                   WHEN b.item->'quantity' IS NULL OR b.item->'quantity' = 'null' THEN 'is required'
                   WHEN b.quantity IS NULL THEN 'must be an integer'
                   WHEN b.quantity < 0 THEN 'must not be negative'
                   WHEN b.quantity > 1000000000 THEN 'is out of range'
                   ELSE nexus_stock_reason_fits(v_reason, b.quantity - b.stock) END)
          FROM nexus_stock_bulk_items b
         WHERE jsonb_typeof(b.item) = 'object'
           AND (b.quantity IS NULL OR b.quantity < 0 OR b.quantity > 1000000000
                OR (b.variant_id IS NOT NULL
                    AND nexus_stock_reason_fits(v_reason, b.quantity - b.stock) IS NOT NULL))
    ) errs;

    IF v_errors IS NOT NULL THEN
        RETURN nexus_err(422, 'invalid_body',
                         'Some items are invalid; see invalid_params. Nothing was changed.',
                         jsonb_build_object('invalid_params', v_errors));
    END IF;

    PERFORM nexus_stock_context(p_actor, v_reason, p_body->>'note');
    UPDATE product_variants pv SET stock = b.quantity::int
      FROM nexus_stock_bulk_items b
     WHERE pv.id = b.variant_id AND pv.stock <> b.quantity;
    GET DIAGNOSTICS v_n = ROW_COUNT;

    SELECT jsonb_agg(jsonb_build_object(
               'sku', b.sku, 'variant_id', b.variant_id, 'previous', b.stock,
               'stock', b.quantity, 'delta', b.quantity - b.stock) ORDER BY b.i)
      INTO v_out FROM nexus_stock_bulk_items b;
    FOR v_vid IN SELECT DISTINCT vendor_id FROM nexus_stock_bulk_items ORDER BY 1 LOOP
        PERFORM nexus_catalog_audit(p_actor, p_meta, v_vid, 'stock.bulk', 'vendor', v_vid::text,
            jsonb_build_object('reason', v_reason, 'note', p_body->>'note',
                'items', (SELECT jsonb_agg(jsonb_build_object('sku', b.sku,
                              'previous', b.stock, 'stock', b.quantity) ORDER BY b.i)
                            FROM nexus_stock_bulk_items b WHERE b.vendor_id = v_vid)));
    END LOOP;
    RETURN nexus_ok(200, jsonb_build_object('changed', v_n, 'items', v_out));
END
$$;

CREATE OR REPLACE FUNCTION nexus_api_stock_low(p_actor bigint, p_id text, p_id2 text,
                                               p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_limit int := nexus_page_limit(p_meta);
    v_store bigint;
    v_stores bigint[];
BEGIN
    IF p_meta->'args' ? 'store' THEN
        v_store := nexus_id(p_meta->'args'->>'store');
        IF v_store IS NULL THEN
            RETURN nexus_err(400, 'invalid_parameter', 'Parameter "store" must be a store id.');
        END IF;
    END IF;
    v_stores := nexus_catalog_scope(p_actor, v_store);
    IF v_stores IS NULL THEN
        RETURN nexus_err_store_required();
    END IF;
    RETURN nexus_ok(200, nexus_page(
        (SELECT jsonb_agg(jsonb_build_object(
                    'id', x.id, 'sku', x.sku, 'title', x.title, 'status', x.status,
                    'stock', x.stock, 'threshold', x.threshold,
                    'threshold_from', CASE WHEN x.own IS NULL THEN 'store' ELSE 'variant' END,
                    'product', jsonb_build_object('id', x.product_id, 'slug', x.product_slug,
                                                  'name', x.product_name,
                                                  'status', x.product_status),
                    'store', jsonb_build_object('id', x.vendor_id, 'slug', x.vendor_slug,
                                                'name', x.vendor_name))
                ORDER BY x.id DESC)
           FROM (SELECT pv.id, pv.sku, pv.title, pv.status, pv.stock,
                        pv.low_stock_threshold AS own,
                        coalesce(pv.low_stock_threshold, v.low_stock_threshold) AS threshold,
                        p.id AS product_id, p.slug AS product_slug, p.name AS product_name,
                        p.status AS product_status,
                        v.id AS vendor_id, v.slug AS vendor_slug, v.name AS vendor_name
                   FROM vendors v
                   JOIN products p ON p.vendor_id = v.id
                   JOIN product_variants pv ON pv.product_id = p.id
                  WHERE v.id = ANY (v_stores)
                    AND pv.stock <= coalesce(pv.low_stock_threshold, v.low_stock_threshold)
                    AND pv.id < nexus_page_cursor(p_meta)
                  ORDER BY pv.id DESC LIMIT v_limit) x),
        v_limit));
END
$$;

CREATE OR REPLACE FUNCTION nexus_api_stock_movements(p_actor bigint, p_id text, p_id2 text,
                                                     p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_limit   int := nexus_page_limit(p_meta);
    v_variant bigint;
    v_store   bigint;
    v_stores  bigint[];
BEGIN
    IF p_meta->'args' ? 'variant' THEN
        v_variant := nexus_id(p_meta->'args'->>'variant');
        IF nexus_seller_variant_vendor(p_actor, v_variant) IS NULL THEN
            RETURN nexus_err(404, 'not_found', 'No such variant in your stores.');
        END IF;
        RETURN nexus_ok(200, nexus_page(
            (SELECT jsonb_agg(nexus_movement_json(x.m, x.sku) ORDER BY (x.m).id DESC)
               FROM (SELECT sm AS m, pv.sku
                       FROM stock_movements sm
                       JOIN product_variants pv ON pv.id = sm.variant_id
                      WHERE sm.variant_id = v_variant
                        AND sm.id < nexus_page_cursor(p_meta)
                      ORDER BY sm.id DESC LIMIT v_limit) x),
            v_limit));
    END IF;
    IF p_meta->'args' ? 'store' THEN
        v_store := nexus_id(p_meta->'args'->>'store');
        IF nexus_catalog_role(p_actor, v_store) IS NULL THEN
            RETURN nexus_err(404, 'not_found', 'No such store.');
        END IF;
    END IF;
    v_stores := nexus_catalog_scope(p_actor, v_store);
    IF v_stores IS NULL THEN
        RETURN nexus_err_store_required();
    END IF;
    RETURN nexus_ok(200, nexus_page(
        (SELECT jsonb_agg(nexus_movement_json(x.m, x.sku) ORDER BY (x.m).id DESC)
           FROM (SELECT sm AS m, pv.sku
                   FROM stock_movements sm
                   JOIN product_variants pv ON pv.id = sm.variant_id
                   JOIN products p ON p.id = pv.product_id
                  WHERE p.vendor_id = ANY (v_stores)
                    AND sm.id < nexus_page_cursor(p_meta)
                  ORDER BY sm.id DESC LIMIT v_limit) x),
        v_limit));
END
$$;

CREATE OR REPLACE FUNCTION nexus_api_store_inventory(p_actor bigint, p_id text, p_id2 text,
                                                     p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_vid bigint := nexus_id(p_id);
BEGIN
    IF nexus_catalog_role(p_actor, v_vid) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such store.');
    END IF;
    UPDATE vendors SET low_stock_threshold = (p_body->>'low_stock_threshold')::int
     WHERE id = v_vid
       AND low_stock_threshold <> (p_body->>'low_stock_threshold')::int;
    PERFORM nexus_catalog_audit(p_actor, p_meta, v_vid,
        'store.inventory', 'vendor', v_vid::text,
        jsonb_build_object('low_stock_threshold', (p_body->>'low_stock_threshold')::int));
    RETURN (SELECT nexus_ok(200, jsonb_build_object('store_id', id,
                                                    'low_stock_threshold', low_stock_threshold))
              FROM vendors WHERE id = v_vid);
END
$$;

CREATE OR REPLACE FUNCTION nexus_api_variant_inventory(p_actor bigint, p_id text, p_id2 text,
                                                       p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint := nexus_id(p_id);
BEGIN
    IF nexus_seller_variant_vendor(p_actor, v_id) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such variant in your stores.');
    END IF;
    IF NOT p_body ? 'low_stock_threshold' THEN
        RETURN nexus_err(422, 'invalid_body', 'Some fields are missing or invalid; see invalid_params.',
                         jsonb_build_object('invalid_params', jsonb_build_array(
                             jsonb_build_object('name', 'low_stock_threshold',
                                                'reason', 'is required (null: the store''s)'))));
    END IF;
    UPDATE product_variants
       SET low_stock_threshold = (p_body->>'low_stock_threshold')::int
     WHERE id = v_id
       AND low_stock_threshold IS DISTINCT FROM (p_body->>'low_stock_threshold')::int;
    PERFORM nexus_catalog_audit(p_actor, p_meta, nexus_seller_variant_vendor(p_actor, v_id),
        'variant.inventory', 'variant', v_id::text,
        jsonb_build_object('low_stock_threshold', (p_body->>'low_stock_threshold')::int));
    RETURN nexus_ok(200, nexus_stock_json(v_id));
END
$$;

-- ---------------------------------------------------------------------------
-- Media (0013)

CREATE OR REPLACE FUNCTION nexus_api_media_create(p_actor bigint, p_id text, p_id2 text,
                                                  p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_pid bigint := nexus_media_product(p_actor, nexus_id(p_id));
    v_max bigint := (p_meta->'s3'->>'max_upload_size')::bigint;
    v_type text := p_body->>'content_type';
    v_key text;
    u media_uploads;
BEGIN
    IF v_pid IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such product.');
    END IF;
    IF (p_body->>'size')::bigint > v_max THEN
        RETURN nexus_err(422, 'invalid_body', 'Some fields are missing or invalid; see invalid_params.',
                         jsonb_build_object('invalid_params', jsonb_build_array(
                             jsonb_build_object('name', 'size',
                                                'reason', format('must be at most %s bytes', v_max)))));
    END IF;

    -- serializes the product's gallery writes
    PERFORM 1 FROM products WHERE id = v_pid FOR NO KEY UPDATE;
    IF (SELECT count(*) FROM media_uploads
         WHERE product_id = v_pid AND expires_at > now()) >= 20 THEN
        RETURN nexus_err(409, 'too_many_uploads',
                         'A product has at most 20 uploads waiting; complete or delete some.');
    END IF;
    IF (SELECT count(*) FROM product_media WHERE product_id = v_pid) >= 50 THEN
        RETURN nexus_err(409, 'gallery_full', 'A product has at most 50 images.');
    END IF;
    -- uploads never completed are forgotten a day after their URL expired
    DELETE FROM media_uploads WHERE product_id = v_pid AND expires_at < now() - interval '1 day';

    -- an unguessable name from the request's random token
    v_key := format('products/%s/%s.%s', v_pid,
                    left(encode(sha256(convert_to(p_meta->>'token', 'UTF8')), 'hex'), 32),
                    CASE v_type WHEN 'image/jpeg' THEN 'jpg' WHEN 'image/png' THEN 'png'
                                WHEN 'image/webp' THEN 'webp' ELSE 'gif' END);

    INSERT INTO media_uploads (product_id, object_key, url, content_type, byte_size,
                               filename, alt, created_by, expires_at)
    VALUES (v_pid, v_key, (p_meta->'s3'->>'public_url') || '/' || v_key, v_type,
            (p_body->>'size')::bigint, p_body->>'filename', coalesce(p_body->>'alt', ''),
            p_actor, now() + make_interval(secs => (p_meta->'s3'->>'upload_ttl')::int))
    RETURNING * INTO u;
    PERFORM nexus_catalog_audit(p_actor, p_meta, nexus_product_vendor(v_pid),
        'media.create', 'media', u.id::text,
        jsonb_build_object('product_id', v_pid, 'key', u.object_key));
    RETURN nexus_ok(201, nexus_media_upload_json(u) || jsonb_build_object('media_id', u.id));
END
$$;

-- nexus_api_media_complete: 0017_media_verify.sql (it also checks the
-- object in the bucket first), with the same audit row for operators.

CREATE OR REPLACE FUNCTION nexus_api_media_update(p_actor bigint, p_id text, p_id2 text,
                                                  p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    m product_media;
    u media_uploads;
    v_order bigint[];
    v_pos int;
    v_primary boolean;
BEGIN
    SELECT * INTO m FROM product_media WHERE id = nexus_id(p_id);
    IF NOT FOUND THEN
        SELECT * INTO u FROM media_uploads WHERE id = nexus_id(p_id);
        IF NOT FOUND OR nexus_media_product(p_actor, u.product_id) IS NULL THEN
            RETURN nexus_err(404, 'not_found', 'No such media.');
        END IF;
        IF p_body ? 'position' OR p_body ? 'is_primary' THEN
            RETURN nexus_err(409, 'media_pending',
                             'The upload is not complete; only alt can change.');
        END IF;
        UPDATE media_uploads SET alt = coalesce(p_body->>'alt', alt)
         WHERE id = u.id RETURNING * INTO u;
        PERFORM nexus_catalog_audit(p_actor, p_meta, nexus_product_vendor(u.product_id),
            'media.update', 'media', u.id::text,
            jsonb_build_object('product_id', u.product_id, 'fields',
                (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(p_body) k)));
        RETURN nexus_ok(200, nexus_media_upload_json(u));
    END IF;
    IF nexus_media_product(p_actor, m.product_id) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such media.');
    END IF;

    PERFORM 1 FROM products WHERE id = m.product_id FOR NO KEY UPDATE;
    SELECT * INTO m FROM product_media WHERE id = m.id;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such media.');
    END IF;

    v_primary := coalesce((p_body->>'is_primary')::boolean, m.is_primary);
    IF v_primary AND NOT m.is_primary THEN
        UPDATE product_media SET is_primary = false
         WHERE product_id = m.product_id AND is_primary;
    END IF;
    UPDATE product_media SET is_primary = v_primary,
                             alt = coalesce(p_body->>'alt', alt)
     WHERE id = m.id;

    -- the gallery without this image, then this image put back at its place;
    -- the primary image stays first
    v_order := ARRAY(SELECT id FROM product_media
                      WHERE product_id = m.product_id AND id <> m.id
                      ORDER BY is_primary DESC, position, id);
    IF v_primary THEN
        v_pos := 0;
    ELSE
        v_pos := coalesce((p_body->>'position')::int, m.position);
        IF EXISTS (SELECT 1 FROM product_media
                    WHERE product_id = m.product_id AND is_primary) THEN
            v_pos := greatest(v_pos, 1);
        END IF;
        v_pos := least(v_pos, cardinality(v_order));
    END IF;
    v_order := v_order[1:v_pos] || m.id || v_order[v_pos + 1:];
    PERFORM nexus_media_renumber(m.product_id, v_order);

    SELECT * INTO m FROM product_media WHERE id = m.id;
    PERFORM nexus_catalog_audit(p_actor, p_meta, nexus_product_vendor(m.product_id),
        'media.update', 'media', m.id::text,
        jsonb_build_object('product_id', m.product_id, 'fields',
            (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(p_body) k)));
    RETURN nexus_ok(200, nexus_media_json(m));
END
$$;

CREATE OR REPLACE FUNCTION nexus_api_media_delete(p_actor bigint, p_id text, p_id2 text,
                                                  p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    m product_media;
    u media_uploads;
BEGIN
    SELECT * INTO m FROM product_media WHERE id = nexus_id(p_id);
    IF NOT FOUND THEN
        SELECT * INTO u FROM media_uploads WHERE id = nexus_id(p_id);
        IF NOT FOUND OR nexus_media_product(p_actor, u.product_id) IS NULL THEN
            RETURN nexus_err(404, 'not_found', 'No such media.');
        END IF;
        DELETE FROM media_uploads WHERE id = u.id;
        INSERT INTO outbox (topic, payload)
        VALUES ('media.deleted', jsonb_build_object('key', u.object_key,
                                                    'product_id', u.product_id));
        PERFORM nexus_catalog_audit(p_actor, p_meta, nexus_product_vendor(u.product_id),
            'media.delete', 'media', u.id::text,
            jsonb_build_object('product_id', u.product_id, 'key', u.object_key));
        RETURN nexus_ok(204, NULL);
    END IF;
    IF nexus_media_product(p_actor, m.product_id) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such media.');
    END IF;

    PERFORM 1 FROM products WHERE id = m.product_id FOR NO KEY UPDATE;
    DELETE FROM product_media WHERE id = m.id RETURNING * INTO m;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such media.');
    END IF;
    -- the gallery keeps a primary image: the next one
    IF m.is_primary THEN
        UPDATE product_media SET is_primary = true
         WHERE id = (SELECT id FROM product_media WHERE product_id = m.product_id
                      ORDER BY position, id LIMIT 1);
    END IF;
    PERFORM nexus_media_renumber(m.product_id);
    IF m.object_key IS NOT NULL THEN
        INSERT INTO outbox (topic, payload)
        VALUES ('media.deleted', jsonb_build_object('key', m.object_key,
                                                    'product_id', m.product_id));
    END IF;
    PERFORM nexus_catalog_audit(p_actor, p_meta, nexus_product_vendor(m.product_id),
        'media.delete', 'media', m.id::text,
        jsonb_build_object('product_id', m.product_id, 'key', m.object_key));
    RETURN nexus_ok(204, NULL);
END
$$;
