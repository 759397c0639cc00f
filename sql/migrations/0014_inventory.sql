-- 0014 inventory: store default low-stock threshold, the low-stock event with
-- the effective threshold, the ledger check, and the seller's stock API.
--
-- Stock only changes through product_variants.stock (or an INSERT into
-- stock_movements); the triggers of 0004/0005 write the ledger row and keep
-- products.in_stock, the listing, the documents and the cache version in
-- step. These functions only set the ledger's reason/actor/note
-- (nexus.stock_reason, nexus.actor_user_id, nexus.stock_note) first.

-- ---------------------------------------------------------------------------
-- Thresholds: a variant's own, or (NULL) its store's.
ALTER TABLE vendors
    ADD COLUMN low_stock_threshold int NOT NULL DEFAULT 5
        CONSTRAINT vendors_low_stock_threshold_check
        CHECK (low_stock_threshold BETWEEN 0 AND 1000000);

ALTER TABLE product_variants
    ALTER COLUMN low_stock_threshold DROP NOT NULL,
    ALTER COLUMN low_stock_threshold DROP DEFAULT;

-- The same as 0005's, except that the low-stock event uses the effective
-- threshold. The event fires when stock goes from above the threshold to at
-- or below it, so once per crossing: further decrements while low write
-- nothing, and going back above re-arms it.
CREATE OR REPLACE FUNCTION catalog_product_variants_changed() RETURNS trigger
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
                                  'stock', n.stock, 'threshold', t.threshold)
          FROM new_rows n
          JOIN old_rows o ON o.id = n.id
          JOIN products p ON p.id = n.product_id
          JOIN vendors v ON v.id = p.vendor_id
         CROSS JOIN LATERAL (SELECT coalesce(n.low_stock_threshold,
                                             v.low_stock_threshold) AS threshold) t
         WHERE n.stock <= t.threshold AND o.stock > t.threshold
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

-- ---------------------------------------------------------------------------
-- The ledger invariant: every variant whose stock is not the sum of its
-- movements (or whose last movement's stock_after is not its stock). Empty
-- when all is well.
CREATE FUNCTION nexus_stock_verify()
RETURNS TABLE (variant_id bigint, stock int, ledger_sum bigint, last_stock_after int)
LANGUAGE sql STABLE AS $$
    SELECT pv.id, pv.stock, coalesce(m.total, 0), l.stock_after
      FROM product_variants pv
      LEFT JOIN (SELECT sm.variant_id, sum(sm.delta) AS total
                   FROM stock_movements sm GROUP BY sm.variant_id) m
             ON m.variant_id = pv.id
      LEFT JOIN LATERAL (SELECT sm.stock_after FROM stock_movements sm
                          WHERE sm.variant_id = pv.id
                          ORDER BY sm.id DESC LIMIT 1) l ON true
     WHERE pv.stock <> coalesce(m.total, 0)
        OR pv.stock <> coalesce(l.stock_after, 0)
     ORDER BY pv.id
$$;

-- ---------------------------------------------------------------------------
-- Seller API helpers

-- a variant of one of the actor's active stores, else NULL (the caller: 404)
CREATE FUNCTION nexus_seller_variant_vendor(p_actor bigint, p_variant_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT p.vendor_id
              FROM product_variants pv
              JOIN products p ON p.id = pv.product_id
              JOIN vendor_staff vs ON vs.vendor_id = p.vendor_id AND vs.user_id = p_actor
              JOIN vendors v ON v.id = p.vendor_id AND v.status = 'active'
             WHERE pv.id = p_variant_id);
END
$$;

CREATE FUNCTION nexus_stock_json(p_variant_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_build_object(
                'variant_id', pv.id, 'sku', pv.sku, 'stock', pv.stock,
                'low_stock_threshold', pv.low_stock_threshold,
                'threshold', coalesce(pv.low_stock_threshold, v.low_stock_threshold),
                'low_stock', pv.stock <= coalesce(pv.low_stock_threshold, v.low_stock_threshold),
                'product_id', p.id, 'store_id', v.id)
              FROM product_variants pv
              JOIN products p ON p.id = pv.product_id
              JOIN vendors v ON v.id = p.vendor_id
             WHERE pv.id = p_variant_id);
END
$$;

CREATE FUNCTION nexus_movement_json(m stock_movements, p_sku text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', m.id, 'variant_id', m.variant_id, 'sku', p_sku, 'delta', m.delta,
        'stock_after', m.stock_after, 'reason', m.reason,
        'actor_user_id', m.actor_user_id, 'order_id', m.order_id, 'note', m.note,
        'created_at', nexus_json_ts(m.created_at))
$$;

-- the ledger's who and why for the stock writes of this transaction
CREATE FUNCTION nexus_stock_context(p_actor bigint, p_reason text, p_note text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('nexus.actor_user_id', coalesce(p_actor::text, ''), true),
            set_config('nexus.stock_reason', coalesce(p_reason, ''), true),
            set_config('nexus.stock_note', coalesce(p_note, ''), true),
            set_config('nexus.order_id', '', true);
END
$$;

-- received and returned add stock, sold takes it away; adjusted does either
CREATE FUNCTION nexus_stock_reason_fits(p_reason text, p_delta bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_reason IN ('received', 'returned') AND p_delta < 0
            THEN 'must be adjusted or sold when stock goes down'
        WHEN p_reason = 'sold' AND p_delta > 0
            THEN 'must be received, returned or adjusted when stock goes up'
    END
$$;

-- ---------------------------------------------------------------------------
-- POST /api/seller/variants/{id}/stock {delta | set, reason, note}
CREATE FUNCTION nexus_api_stock_adjust(p_actor bigint, p_id text, p_id2 text,
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
    RETURN nexus_ok(200, nexus_stock_json(v_id)
                         || jsonb_build_object('movement', nexus_movement_json(v_mv, v_sku)));
END
$$;

-- ---------------------------------------------------------------------------
-- POST /api/seller/stock {items: [{sku, quantity}], reason, note}: sets the
-- quantities of the caller's SKUs, all or nothing. Every bad item is
-- reported (items[i].sku / items[i].quantity) and nothing changes.
CREATE FUNCTION nexus_api_stock_bulk(p_actor bigint, p_id text, p_id2 text,
                                     p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_reason text := coalesce(p_body->>'reason', 'adjusted');
    v_errors jsonb;
    v_out    jsonb;
    v_n      int;
BEGIN
    IF jsonb_typeof(p_body->'items') IS DISTINCT FROM 'array'
       OR jsonb_array_length(p_body->'items') = 0
    THEN
        RETURN nexus_err(422, 'invalid_body', 'Some fields are missing or invalid; see invalid_params.',
                         jsonb_build_object('invalid_params', jsonb_build_array(
                             jsonb_build_object('name', 'items', 'reason', 'must not be empty'))));
    END IF;

    CREATE TEMP TABLE IF NOT EXISTS nexus_stock_bulk_items (
        i int, item jsonb, sku text, quantity bigint, variant_id bigint,
        stock int, first_i int
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
    UPDATE nexus_stock_bulk_items b SET variant_id = x.id, stock = x.stock
      FROM (SELECT pv.id, pv.sku, pv.stock
              FROM product_variants pv
              JOIN products p ON p.id = pv.product_id
             WHERE pv.sku IN (SELECT sku FROM nexus_stock_bulk_items)
               AND nexus_store_role(p_actor, p.vendor_id) IS NOT NULL
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
    RETURN nexus_ok(200, jsonb_build_object('changed', v_n, 'items', v_out));
END
$$;

-- ---------------------------------------------------------------------------
-- GET /api/seller/stock/low[?store=ID]: the caller's variants at or below
-- their threshold, newest variant first, keyset paged by variant id.
CREATE FUNCTION nexus_api_stock_low(p_actor bigint, p_id text, p_id2 text,
                                    p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_limit int := nexus_page_limit(p_meta);
    v_store bigint;
BEGIN
    IF p_meta->'args' ? 'store' THEN
        v_store := nexus_id(p_meta->'args'->>'store');
        IF v_store IS NULL THEN
            RETURN nexus_err(400, 'invalid_parameter', 'Parameter "store" must be a store id.');
        END IF;
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
                   FROM vendor_staff vs
                   JOIN vendors v ON v.id = vs.vendor_id AND v.status = 'active'
                   JOIN products p ON p.vendor_id = v.id
                   JOIN product_variants pv ON pv.product_id = p.id
                  WHERE vs.user_id = p_actor
                    AND (v_store IS NULL OR v.id = v_store)
                    AND pv.stock <= coalesce(pv.low_stock_threshold, v.low_stock_threshold)
                    AND pv.id < nexus_page_cursor(p_meta)
                  ORDER BY pv.id DESC LIMIT v_limit) x),
        v_limit));
END
$$;

-- GET /api/seller/stock/movements[?variant=ID]: the ledger of the caller's
-- stores (or of one variant), newest first, keyset paged by movement id.
CREATE FUNCTION nexus_api_stock_movements(p_actor bigint, p_id text, p_id2 text,
                                          p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_limit   int := nexus_page_limit(p_meta);
    v_variant bigint;
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
    RETURN nexus_ok(200, nexus_page(
        (SELECT jsonb_agg(nexus_movement_json(x.m, x.sku) ORDER BY (x.m).id DESC)
           FROM (SELECT sm AS m, pv.sku
                   FROM stock_movements sm
                   JOIN product_variants pv ON pv.id = sm.variant_id
                   JOIN products p ON p.id = pv.product_id
                  WHERE p.vendor_id IN (SELECT vs.vendor_id FROM vendor_staff vs
                                          JOIN vendors v ON v.id = vs.vendor_id
                                         WHERE vs.user_id = p_actor AND v.status = 'active')
                    AND sm.id < nexus_page_cursor(p_meta)
                  ORDER BY sm.id DESC LIMIT v_limit) x),
        v_limit));
END
$$;

-- ---------------------------------------------------------------------------
-- PATCH /api/seller/stores/{id}/inventory {low_stock_threshold}
CREATE FUNCTION nexus_api_store_inventory(p_actor bigint, p_id text, p_id2 text,
                                          p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_vid bigint := nexus_id(p_id);
BEGIN
    IF nexus_store_role(p_actor, v_vid) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such store.');
    END IF;
    UPDATE vendors SET low_stock_threshold = (p_body->>'low_stock_threshold')::int
     WHERE id = v_vid
       AND low_stock_threshold <> (p_body->>'low_stock_threshold')::int;
    RETURN (SELECT nexus_ok(200, jsonb_build_object('store_id', id,
                                                    'low_stock_threshold', low_stock_threshold))
              FROM vendors WHERE id = v_vid);
END
$$;

-- PATCH /api/seller/variants/{id}/inventory {low_stock_threshold | null}
CREATE FUNCTION nexus_api_variant_inventory(p_actor bigint, p_id text, p_id2 text,
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
    RETURN nexus_ok(200, nexus_stock_json(v_id));
END
$$;
