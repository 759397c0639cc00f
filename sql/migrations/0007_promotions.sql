-- 0007 coupons and promotions.
--
-- Rounding rule (write it the same way in C): a percent discount of
-- percent_off_bps basis points on an amount A (minor units) is
--   floor(A * percent_off_bps / 10000)
-- (never more than the stated percentage), then capped by max_discount and
-- by A itself. Fixed discounts are capped by A.

CREATE TABLE coupons (
    id                   bigserial PRIMARY KEY,
    code                 citext NOT NULL,
    description          text,
    discount_type        text NOT NULL CHECK (discount_type IN ('percent', 'fixed')),
    percent_off_bps      int CHECK (percent_off_bps BETWEEN 1 AND 10000),
    amount_off           bigint CHECK (amount_off > 0),
    currency             char(3) CHECK (currency ~ '^[A-Z]{3}$'),
    min_subtotal         bigint CHECK (min_subtotal >= 0),
    max_discount         bigint CHECK (max_discount > 0),
    vendor_id            bigint REFERENCES vendors (id) ON DELETE CASCADE,  -- NULL: platform-wide
    starts_at            timestamptz,
    ends_at              timestamptz,
    usage_limit          int CHECK (usage_limit > 0),          -- total redemptions
    usage_limit_per_user int CHECK (usage_limit_per_user > 0),
    times_redeemed       int NOT NULL DEFAULT 0 CHECK (times_redeemed >= 0),
    active               boolean NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT coupons_code_key UNIQUE (code),
    CONSTRAINT coupons_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{1,63}$'),
    CONSTRAINT coupons_kind CHECK (
        (discount_type = 'percent' AND percent_off_bps IS NOT NULL AND amount_off IS NULL)
     OR (discount_type = 'fixed' AND amount_off IS NOT NULL AND percent_off_bps IS NULL
         AND currency IS NOT NULL)),
    CONSTRAINT coupons_money_currency CHECK (
        (min_subtotal IS NULL AND max_discount IS NULL) OR currency IS NOT NULL),
    CONSTRAINT coupons_window CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at),
    -- the limit is enforced by the schema: redemptions bump times_redeemed
    CONSTRAINT coupons_usage_limit CHECK (usage_limit IS NULL OR times_redeemed <= usage_limit)
);
CREATE TRIGGER coupons_updated_at BEFORE UPDATE ON coupons
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

-- order_id FK is added in 0009 (orders).
CREATE TABLE coupon_redemptions (
    id          bigserial PRIMARY KEY,
    coupon_id   bigint NOT NULL REFERENCES coupons (id) ON DELETE RESTRICT,
    order_id    bigint NOT NULL,
    user_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    amount      bigint NOT NULL CHECK (amount >= 0),
    currency    char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    redeemed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT coupon_redemptions_once_per_order UNIQUE (coupon_id, order_id)
);
CREATE INDEX coupon_redemptions_user_idx ON coupon_redemptions (coupon_id, user_id);

-- Redeeming locks the coupon row (serializing parallel redemptions), bumps
-- times_redeemed (CHECK coupons_usage_limit) and checks the per-user limit.
-- Errors: check_violation with constraint 'coupons_usage_limit' or
-- 'coupon_redemptions_per_user' -> the C code maps both to 409.
CREATE FUNCTION coupon_redemptions_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    c coupons;
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE coupons SET times_redeemed = times_redeemed + 1
         WHERE id = NEW.coupon_id RETURNING * INTO c;
        IF c.usage_limit_per_user IS NOT NULL AND NEW.user_id IS NOT NULL
           AND (SELECT count(*) FROM coupon_redemptions
                 WHERE coupon_id = NEW.coupon_id AND user_id = NEW.user_id) > c.usage_limit_per_user THEN
            RAISE EXCEPTION 'coupon % already used % time(s) by user %', c.code,
                  c.usage_limit_per_user, NEW.user_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'coupon_redemptions_per_user';
        END IF;
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN         -- order cancelled before payment: give the use back
        UPDATE coupons SET times_redeemed = times_redeemed - 1 WHERE id = OLD.coupon_id;
        RETURN NULL;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER coupon_redemptions_apply AFTER INSERT OR DELETE ON coupon_redemptions
    FOR EACH ROW EXECUTE FUNCTION coupon_redemptions_apply();

-- Automatic promotions (no code): percent or fixed off on targeted products.
CREATE TABLE promotions (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description     text,
    discount_type   text NOT NULL CHECK (discount_type IN ('percent', 'fixed')),
    percent_off_bps int CHECK (percent_off_bps BETWEEN 1 AND 10000),
    amount_off      bigint CHECK (amount_off > 0),
    currency        char(3) CHECK (currency ~ '^[A-Z]{3}$'),
    vendor_id       bigint REFERENCES vendors (id) ON DELETE CASCADE,  -- NULL: platform promotion
    status          text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'ended')),
    priority        int NOT NULL DEFAULT 0,
    stackable       boolean NOT NULL DEFAULT false,
    starts_at       timestamptz,
    ends_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((discount_type = 'percent' AND percent_off_bps IS NOT NULL AND amount_off IS NULL)
        OR (discount_type = 'fixed' AND amount_off IS NOT NULL AND percent_off_bps IS NULL
            AND currency IS NOT NULL)),
    CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX promotions_active_idx ON promotions (starts_at, ends_at) WHERE status = 'active';
CREATE TRIGGER promotions_updated_at BEFORE UPDATE ON promotions
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

-- What a promotion applies to: exactly one of product/category/vendor/tag.
CREATE TABLE promotion_targets (
    id           bigserial PRIMARY KEY,
    promotion_id bigint NOT NULL REFERENCES promotions (id) ON DELETE CASCADE,
    product_id   bigint REFERENCES products (id) ON DELETE CASCADE,
    category_id  bigint REFERENCES categories (id) ON DELETE CASCADE,
    vendor_id    bigint REFERENCES vendors (id) ON DELETE CASCADE,
    tag_id       bigint REFERENCES tags (id) ON DELETE CASCADE,
    CHECK (num_nonnulls(product_id, category_id, vendor_id, tag_id) = 1)
);
CREATE INDEX promotion_targets_promotion_idx ON promotion_targets (promotion_id);
CREATE INDEX promotion_targets_product_idx ON promotion_targets (product_id) WHERE product_id IS NOT NULL;
CREATE INDEX promotion_targets_category_idx ON promotion_targets (category_id) WHERE category_id IS NOT NULL;
