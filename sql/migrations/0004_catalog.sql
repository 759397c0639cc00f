-- 0004 catalog: categories (+ closure table), tags, attributes, products,
-- variants, media, reviews, stock movements.
-- Names and columns are fixed by docs/contracts.md. The derived data
-- (products.price_*, ratings, catalog_listing) is maintained in 0005.

-- ---------------------------------------------------------------------------
-- Categories: adjacency list + closure table maintained by triggers.
CREATE TABLE categories (
    id          bigserial PRIMARY KEY,
    parent_id   bigint REFERENCES categories (id) ON DELETE RESTRICT,  -- move/delete children first
    slug        text NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text,
    image_url   text,
    position    int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT categories_slug_key UNIQUE (slug),
    CONSTRAINT categories_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    CONSTRAINT categories_not_own_parent CHECK (parent_id <> id)
);
CREATE INDEX categories_parent_idx ON categories (parent_id, position, name);
CREATE INDEX categories_roots_idx ON categories (position, name) WHERE parent_id IS NULL;
CREATE TRIGGER categories_updated_at BEFORE UPDATE ON categories
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

-- Every category is its own ancestor at depth 0.
CREATE TABLE category_closure (
    ancestor_id   bigint NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    descendant_id bigint NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    depth         int NOT NULL CHECK (depth >= 0),
    PRIMARY KEY (ancestor_id, descendant_id),
    CHECK ((depth = 0) = (ancestor_id = descendant_id))
);
CREATE INDEX category_closure_descendant_idx ON category_closure (descendant_id, depth, ancestor_id);

CREATE FUNCTION categories_closure_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO category_closure (ancestor_id, descendant_id, depth)
    SELECT NEW.id, NEW.id, 0
    UNION ALL
    SELECT c.ancestor_id, NEW.id, c.depth + 1
      FROM category_closure c
     WHERE c.descendant_id = NEW.parent_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER categories_closure_insert AFTER INSERT ON categories
    FOR EACH ROW EXECUTE FUNCTION categories_closure_insert();

CREATE FUNCTION categories_check_cycle() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'categories.id cannot change' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.parent_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM category_closure
         WHERE ancestor_id = NEW.id AND descendant_id = NEW.parent_id) THEN
        RAISE EXCEPTION 'category % cannot move under its own descendant %', NEW.id, NEW.parent_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'categories_no_cycle';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER categories_check_cycle BEFORE UPDATE OF id, parent_id ON categories
    FOR EACH ROW EXECUTE FUNCTION categories_check_cycle();

-- Moving a subtree: unlink it from its old ancestors, link it under the new
-- parent's ancestors. (The listing refresh for the moved products is added by
-- 0005's statement trigger on categories.)
CREATE FUNCTION categories_closure_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NOT DISTINCT FROM OLD.parent_id THEN
        RETURN NULL;
    END IF;
    DELETE FROM category_closure cc
     USING category_closure sub, category_closure anc
     WHERE sub.ancestor_id = NEW.id
       AND cc.descendant_id = sub.descendant_id
       AND anc.descendant_id = NEW.id AND anc.depth > 0
       AND cc.ancestor_id = anc.ancestor_id;
    INSERT INTO category_closure (ancestor_id, descendant_id, depth)
    SELECT p.ancestor_id, s.descendant_id, p.depth + s.depth + 1
      FROM category_closure p
      CROSS JOIN category_closure s
     WHERE p.descendant_id = NEW.parent_id
       AND s.ancestor_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER categories_closure_move AFTER UPDATE OF parent_id ON categories
    FOR EACH ROW EXECUTE FUNCTION categories_closure_move();

-- Set-based rebuild (bulk loads with triggers off).
CREATE FUNCTION category_closure_rebuild() RETURNS void
LANGUAGE sql AS $$
    DELETE FROM category_closure;
    INSERT INTO category_closure (ancestor_id, descendant_id, depth)
    WITH RECURSIVE t (ancestor_id, descendant_id, depth) AS (
        SELECT id, id, 0 FROM categories
        UNION ALL
        SELECT t.ancestor_id, c.id, t.depth + 1
          FROM t JOIN categories c ON c.parent_id = t.descendant_id
    )
    SELECT ancestor_id, descendant_id, depth FROM t;
$$;

-- ---------------------------------------------------------------------------
CREATE TABLE tags (
    id         bigserial PRIMARY KEY,
    slug       text NOT NULL,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tags_slug_key UNIQUE (slug),
    CONSTRAINT tags_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100)
);

CREATE TABLE attributes (
    id         bigserial PRIMARY KEY,
    slug       text NOT NULL,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    type       text NOT NULL CHECK (type IN ('text', 'number', 'boolean', 'choice')),
    choices    text[],                     -- allowed values when type = 'choice' (NULL = open)
    filterable boolean NOT NULL DEFAULT true,
    position   int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT attributes_slug_key UNIQUE (slug),
    CONSTRAINT attributes_slug_format CHECK (slug ~ '^[a-z0-9]+([-_][a-z0-9]+)*$' AND length(slug) <= 100),
    CHECK (choices IS NULL OR type = 'choice')
);

-- ---------------------------------------------------------------------------
CREATE TABLE products (
    id               bigserial PRIMARY KEY,
    vendor_id        bigint NOT NULL REFERENCES vendors (id) ON DELETE RESTRICT,
    slug             text NOT NULL,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    description      text NOT NULL DEFAULT '',
    status           text NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'pending', 'active', 'archived')),
    currency         char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    -- derived from ACTIVE variants by trigger (0005); NULL when none
    price_min        bigint CHECK (price_min >= 0),
    price_max        bigint CHECK (price_max >= price_min),
    compare_at_price bigint,                -- compare_at of the cheapest active variant
    in_stock         boolean NOT NULL DEFAULT false,
    -- derived from APPROVED reviews by trigger (0005)
    rating_avg       numeric(3,2) NOT NULL DEFAULT 0 CHECK (rating_avg BETWEEN 0 AND 5),
    rating_count     int NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    rating_sum       bigint NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    search_vector    tsvector GENERATED ALWAYS AS (
                         setweight(to_tsvector('english', name), 'A') ||
                         setweight(to_tsvector('english', description), 'B')) STORED,
    metadata         jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_slug_key UNIQUE (slug),
    CONSTRAINT products_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 200),
    CONSTRAINT products_id_currency_key UNIQUE (id, currency),   -- variants reference (id, currency)
    CHECK ((price_min IS NULL) = (price_max IS NULL)),
    CHECK (compare_at_price IS NULL OR compare_at_price > price_min)
);
CREATE INDEX products_vendor_idx ON products (vendor_id, status);
CREATE INDEX products_search_idx ON products USING gin (search_vector);
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE TRIGGER products_updated_at BEFORE UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

CREATE TABLE product_variants (
    id                  bigserial PRIMARY KEY,
    product_id          bigint NOT NULL,
    sku                 text NOT NULL CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$' AND length(sku) <= 64),
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    options             jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(options) = 'object'),
    price               bigint NOT NULL CHECK (price >= 0),
    compare_at_price    bigint CHECK (compare_at_price > price),
    currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    stock               int NOT NULL DEFAULT 0 CHECK (stock >= 0),
    low_stock_threshold int NOT NULL DEFAULT 5 CHECK (low_stock_threshold >= 0),
    weight_grams        int CHECK (weight_grams >= 0),
    barcode             text,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    position            int NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT product_variants_sku_key UNIQUE (sku),
    CONSTRAINT product_variants_id_product_key UNIQUE (id, product_id),
    -- a variant is priced in its product's currency
    CONSTRAINT product_variants_product_fk FOREIGN KEY (product_id, currency)
        REFERENCES products (id, currency) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX product_variants_product_idx ON product_variants (product_id, position, id);
CREATE TRIGGER product_variants_updated_at BEFORE UPDATE ON product_variants
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

CREATE TABLE product_categories (
    product_id  bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    category_id bigint NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    is_primary  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (product_id, category_id)
);
CREATE UNIQUE INDEX product_categories_one_primary ON product_categories (product_id) WHERE is_primary;
CREATE INDEX product_categories_category_idx ON product_categories (category_id, product_id);

CREATE TABLE product_tags (
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    tag_id     bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (product_id, tag_id)
);
CREATE INDEX product_tags_tag_idx ON product_tags (tag_id, product_id);

-- Multi-valued: a product may have color=red and color=blue.
CREATE TABLE product_attribute_values (
    product_id   bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    attribute_id bigint NOT NULL REFERENCES attributes (id) ON DELETE CASCADE,
    value        text NOT NULL CHECK (length(value) BETWEEN 1 AND 200),
    PRIMARY KEY (product_id, attribute_id, value)
);
CREATE INDEX product_attribute_values_attr_idx ON product_attribute_values (attribute_id, value);

CREATE TABLE product_media (
    id           bigserial PRIMARY KEY,
    product_id   bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    variant_id   bigint,
    url          text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    alt          text NOT NULL DEFAULT '',
    position     int NOT NULL DEFAULT 0 CHECK (position >= 0),
    is_primary   boolean NOT NULL DEFAULT false,
    content_type text NOT NULL DEFAULT 'image/jpeg' CHECK (content_type ~ '^(image|video)/[a-z0-9.+-]+$'),
    width        int CHECK (width > 0),
    height       int CHECK (height > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- a variant image belongs to a variant of the same product
    CONSTRAINT product_media_variant_fk FOREIGN KEY (variant_id, product_id)
        REFERENCES product_variants (id, product_id) ON DELETE CASCADE
);
CREATE INDEX product_media_product_idx ON product_media (product_id, position, id);
CREATE UNIQUE INDEX product_media_one_primary ON product_media (product_id) WHERE is_primary;

-- ---------------------------------------------------------------------------
-- Reviews: one per user per product; only 'approved' ones count.
CREATE TABLE reviews (
    id                bigserial PRIMARY KEY,
    product_id        bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    user_id           bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rating            smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title             text CHECK (length(title) <= 200),
    body              text CHECK (length(body) <= 10000),
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    verified_purchase boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reviews_one_per_user UNIQUE (product_id, user_id)
);
CREATE INDEX reviews_product_approved_idx ON reviews (product_id, created_at DESC)
    INCLUDE (rating) WHERE status = 'approved';
CREATE INDEX reviews_user_idx ON reviews (user_id);
CREATE INDEX reviews_pending_idx ON reviews (created_at) WHERE status = 'pending';
CREATE TRIGGER reviews_updated_at BEFORE UPDATE ON reviews
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

-- ---------------------------------------------------------------------------
-- Stock ledger. Invariant: for every variant,
--   product_variants.stock = sum(stock_movements.delta).
-- Two equivalent ways to change stock (both keep the invariant):
--  (a) UPDATE product_variants SET stock = stock - $n WHERE id = $1 AND stock >= $n;
--      a trigger (0005) records the movement; reason/actor/order/note come from
--      set_config('nexus.stock_reason'|'nexus.actor_user_id'|'nexus.order_id'|
--      'nexus.stock_note', ..., true) (default reason: 'received' on insert,
--      'adjusted' on update);
--  (b) INSERT INTO stock_movements (variant_id, delta, reason, ...): the trigger
--      below applies the delta to the variant (fails with check_violation
--      'product_variants_stock_check' when it would go negative).
CREATE TABLE stock_movements (
    id            bigserial PRIMARY KEY,
    variant_id    bigint NOT NULL REFERENCES product_variants (id) ON DELETE CASCADE,
    delta         int NOT NULL CHECK (delta <> 0),
    stock_after   int NOT NULL CHECK (stock_after >= 0),
    reason        text NOT NULL CHECK (reason IN ('received', 'sold', 'returned', 'adjusted')),
    actor_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
    order_id      bigint,                  -- FK added with orders (0009)
    note          text CHECK (length(note) <= 1000),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_variant_idx ON stock_movements (variant_id, id);
CREATE INDEX stock_movements_order_idx ON stock_movements (order_id) WHERE order_id IS NOT NULL;

CREATE FUNCTION stock_movements_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_stock int;
BEGIN
    IF nexus_setting('nexus.stock_internal') = 'on' THEN
        RETURN NEW;                     -- row written by the variant trigger itself
    END IF;
    PERFORM set_config('nexus.stock_internal', 'on', true);
    UPDATE product_variants SET stock = stock + NEW.delta
     WHERE id = NEW.variant_id
    RETURNING stock INTO v_stock;
    PERFORM set_config('nexus.stock_internal', '', true);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'variant % does not exist', NEW.variant_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    NEW.stock_after := v_stock;
    NEW.actor_user_id := coalesce(NEW.actor_user_id, nexus_setting('nexus.actor_user_id')::bigint);
    RETURN NEW;
END
$$;
CREATE TRIGGER stock_movements_apply BEFORE INSERT ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION stock_movements_apply();

CREATE FUNCTION stock_movements_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stock_movements is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER stock_movements_no_update BEFORE UPDATE ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION stock_movements_immutable();
