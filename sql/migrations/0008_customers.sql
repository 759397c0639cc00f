-- 0008 customers: address book, carts.

CREATE TABLE addresses (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('shipping', 'billing')),
    is_default  boolean NOT NULL DEFAULT false,
    full_name   text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    company     text CHECK (length(company) <= 200),
    line1       text NOT NULL CHECK (length(line1) BETWEEN 1 AND 200),
    line2       text CHECK (length(line2) <= 200),
    city        text NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    region      text CHECK (length(region) <= 100),
    postal_code text CHECK (length(postal_code) <= 20),
    country     char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    phone       text CHECK (length(phone) <= 40),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_user_idx ON addresses (user_id, kind);
-- at most one default shipping and one default billing address per user
-- (switch defaults in one transaction: clear the old one first)
CREATE UNIQUE INDEX addresses_one_default ON addresses (user_id, kind) WHERE is_default;
CREATE TRIGGER addresses_updated_at BEFORE UPDATE ON addresses
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

-- Carts: a signed-in user's cart (user_id) or a guest cart (token_hash =
-- sha256 of the cart cookie). One active cart per user; on login the guest
-- cart is merged into it (status 'merged').
CREATE TABLE carts (
    id         bigserial PRIMARY KEY,
    user_id    bigint REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea UNIQUE CHECK (octet_length(token_hash) = 32),
    status     text NOT NULL DEFAULT 'active'
               CHECK (status IN ('active', 'converted', 'merged', 'abandoned')),
    currency   char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    coupon_id  bigint REFERENCES coupons (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    CHECK (user_id IS NOT NULL OR token_hash IS NOT NULL)
);
CREATE UNIQUE INDEX carts_one_active_per_user ON carts (user_id) WHERE status = 'active';
CREATE INDEX carts_expires_idx ON carts (expires_at) WHERE status = 'active';
CREATE TRIGGER carts_updated_at BEFORE UPDATE ON carts
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

CREATE TABLE cart_items (
    id         bigserial PRIMARY KEY,
    cart_id    bigint NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    variant_id bigint NOT NULL REFERENCES product_variants (id) ON DELETE CASCADE,
    quantity   int NOT NULL CHECK (quantity BETWEEN 1 AND 10000),
    unit_price bigint NOT NULL CHECK (unit_price >= 0),   -- price when added (to flag changes)
    currency   char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    added_at   timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cart_items_one_line_per_variant UNIQUE (cart_id, variant_id)
);
CREATE INDEX cart_items_variant_idx ON cart_items (variant_id);
CREATE TRIGGER cart_items_updated_at BEFORE UPDATE ON cart_items
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

-- Erasure also drops the address book and carts.
CREATE OR REPLACE FUNCTION user_anonymize(p_user_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET
        email = 'deleted-' || id || '@anonymized.invalid',
        password_hash = NULL,
        name = NULL,
        phone = NULL,
        status = 'deleted',
        deleted_at = coalesce(deleted_at, now()),
        anonymized_at = coalesce(anonymized_at, now())
    WHERE id = p_user_id;
    UPDATE sessions SET revoked_at = coalesce(revoked_at, now()) WHERE user_id = p_user_id;
    UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = 'user_deleted'
        WHERE user_id = p_user_id AND revoked_at IS NULL;
    DELETE FROM user_tokens WHERE user_id = p_user_id;
    DELETE FROM user_roles WHERE user_id = p_user_id;
    DELETE FROM addresses WHERE user_id = p_user_id;
    DELETE FROM carts WHERE user_id = p_user_id;
END
$$;
