-- 0009 orders (split per vendor), payments, webhook events, refunds,
-- commissions, payouts.
--
-- An order is what the customer placed and pays once; it is split into one
-- vendor_order per vendor (fulfilled separately); order_items belong to a
-- vendor_order. Names and prices are snapshots taken at purchase.
-- Totals are integers in minor units and are checked by the schema:
--   item:         subtotal = unit_price * quantity; total = subtotal - discount_total + tax_total
--   vendor order: total = subtotal - discount_total + shipping_total + tax_total
--   order:        grand_total = subtotal - discount_total + shipping_total + tax_total
-- Commission (rounded half up, integer arithmetic):
--   commission_amount = (base_amount * rate_bps + 5000) / 10000
--   vendor_amount     = base_amount - commission_amount

CREATE SEQUENCE order_number_seq START 1000;

CREATE TABLE orders (
    id               bigserial PRIMARY KEY,
    number           text NOT NULL DEFAULT 'NX-' || lpad(nextval('order_number_seq')::text, 8, '0'),
    user_id          bigint REFERENCES users (id) ON DELETE SET NULL,   -- NULL: guest checkout
    email            citext NOT NULL,
    status           text NOT NULL DEFAULT 'pending_payment'
                     CHECK (status IN ('pending_payment', 'paid', 'processing', 'partially_shipped',
                                       'shipped', 'delivered', 'completed', 'cancelled',
                                       'partially_refunded', 'refunded')),
    currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    subtotal         bigint NOT NULL CHECK (subtotal >= 0),
    discount_total   bigint NOT NULL DEFAULT 0 CHECK (discount_total >= 0 AND discount_total <= subtotal),
    shipping_total   bigint NOT NULL DEFAULT 0 CHECK (shipping_total >= 0),
    tax_total        bigint NOT NULL DEFAULT 0 CHECK (tax_total >= 0),
    grand_total      bigint NOT NULL CHECK (grand_total >= 0),
    refunded_total   bigint NOT NULL DEFAULT 0 CHECK (refunded_total >= 0 AND refunded_total <= grand_total),
    coupon_id        bigint REFERENCES coupons (id) ON DELETE SET NULL,
    coupon_code      text,
    cart_id          bigint REFERENCES carts (id) ON DELETE SET NULL,
    shipping_address jsonb CHECK (jsonb_typeof(shipping_address) = 'object'),
    billing_address  jsonb CHECK (jsonb_typeof(billing_address) = 'object'),
    shipping_method  text,
    customer_note    text CHECK (length(customer_note) <= 2000),
    placed_at        timestamptz NOT NULL DEFAULT now(),
    paid_at          timestamptz,
    cancelled_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_number_key UNIQUE (number),
    CONSTRAINT orders_id_currency_key UNIQUE (id, currency),
    CONSTRAINT orders_totals_sum CHECK (grand_total = subtotal - discount_total + shipping_total + tax_total),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX orders_user_idx ON orders (user_id, placed_at DESC, id DESC) WHERE user_id IS NOT NULL;
CREATE INDEX orders_status_idx ON orders (status, placed_at);
CREATE INDEX orders_placed_idx ON orders (placed_at DESC, id DESC);
CREATE TRIGGER orders_updated_at BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_order_fk
    FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE SET NULL;
ALTER TABLE coupon_redemptions ADD CONSTRAINT coupon_redemptions_order_fk
    FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE;

CREATE TABLE vendor_orders (
    id              bigserial PRIMARY KEY,
    order_id        bigint NOT NULL,
    vendor_id       bigint NOT NULL REFERENCES vendors (id) ON DELETE RESTRICT,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'paid', 'processing', 'shipped', 'delivered',
                                      'cancelled', 'partially_refunded', 'refunded')),
    currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    subtotal        bigint NOT NULL CHECK (subtotal >= 0),
    discount_total  bigint NOT NULL DEFAULT 0 CHECK (discount_total >= 0 AND discount_total <= subtotal),
    shipping_total  bigint NOT NULL DEFAULT 0 CHECK (shipping_total >= 0),
    tax_total       bigint NOT NULL DEFAULT 0 CHECK (tax_total >= 0),
    total           bigint NOT NULL CHECK (total >= 0),
    carrier         text,
    tracking_number text,
    shipped_at      timestamptz,
    delivered_at    timestamptz,
    cancelled_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT vendor_orders_one_per_vendor UNIQUE (order_id, vendor_id),
    CONSTRAINT vendor_orders_id_order_key UNIQUE (id, order_id),
    CONSTRAINT vendor_orders_id_vendor_key UNIQUE (id, vendor_id),
    CONSTRAINT vendor_orders_order_fk FOREIGN KEY (order_id, currency)
        REFERENCES orders (id, currency) ON DELETE CASCADE,
    CONSTRAINT vendor_orders_totals_sum CHECK (total = subtotal - discount_total + shipping_total + tax_total),
    CHECK (status NOT IN ('shipped', 'delivered') OR shipped_at IS NOT NULL),
    CHECK (status <> 'delivered' OR delivered_at IS NOT NULL)
);
CREATE INDEX vendor_orders_vendor_idx ON vendor_orders (vendor_id, created_at DESC, id DESC);
CREATE INDEX vendor_orders_status_idx ON vendor_orders (vendor_id, status);
CREATE TRIGGER vendor_orders_updated_at BEFORE UPDATE ON vendor_orders
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

CREATE TABLE order_items (
    id                bigserial PRIMARY KEY,
    order_id          bigint NOT NULL,
    vendor_order_id   bigint NOT NULL,
    product_id        bigint REFERENCES products (id) ON DELETE SET NULL,
    variant_id        bigint REFERENCES product_variants (id) ON DELETE SET NULL,
    -- snapshot at purchase
    sku               text NOT NULL,
    product_name      text NOT NULL,
    product_slug      text,
    variant_title     text NOT NULL,
    options           jsonb NOT NULL DEFAULT '{}'::jsonb,
    image_url         text,
    unit_price        bigint NOT NULL CHECK (unit_price >= 0),
    compare_at_price  bigint,
    quantity          int NOT NULL CHECK (quantity > 0),
    currency          char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    subtotal          bigint NOT NULL,
    discount_total    bigint NOT NULL DEFAULT 0 CHECK (discount_total >= 0 AND discount_total <= subtotal),
    tax_total         bigint NOT NULL DEFAULT 0 CHECK (tax_total >= 0),
    total             bigint NOT NULL,
    refunded_quantity int NOT NULL DEFAULT 0 CHECK (refunded_quantity BETWEEN 0 AND quantity),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT order_items_vendor_order_fk FOREIGN KEY (vendor_order_id, order_id)
        REFERENCES vendor_orders (id, order_id) ON DELETE CASCADE,
    CONSTRAINT order_items_order_fk FOREIGN KEY (order_id, currency)
        REFERENCES orders (id, currency) ON DELETE CASCADE,
    CONSTRAINT order_items_subtotal_product CHECK (subtotal = unit_price * quantity),
    CONSTRAINT order_items_totals_sum CHECK (total = subtotal - discount_total + tax_total)
);
CREATE INDEX order_items_order_idx ON order_items (order_id);
CREATE INDEX order_items_vendor_order_idx ON order_items (vendor_order_id);
CREATE INDEX order_items_variant_idx ON order_items (variant_id) WHERE variant_id IS NOT NULL;
CREATE INDEX order_items_product_idx ON order_items (product_id) WHERE product_id IS NOT NULL;

-- ---------------------------------------------------------------------------
-- Payments
CREATE TABLE payments (
    id                  bigserial PRIMARY KEY,
    order_id            bigint NOT NULL,
    provider            text NOT NULL CHECK (provider IN ('stripe', 'chapa', 'paypal')),
    provider_payment_id text,              -- PaymentIntent id, Chapa tx_ref, PayPal order id
    status              text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'requires_action', 'authorized', 'succeeded',
                                          'failed', 'cancelled', 'partially_refunded', 'refunded')),
    amount              bigint NOT NULL CHECK (amount > 0),
    currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- sum of refunds that are pending or succeeded (so concurrent refunds
    -- cannot exceed the payment); maintained by trigger on refunds
    amount_refunded     bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
    idempotency_key     text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    checkout_url        text,
    failure_code        text,
    failure_message     text,
    metadata            jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    authorized_at       timestamptz,
    succeeded_at        timestamptz,
    CONSTRAINT payments_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT payments_provider_payment_key UNIQUE (provider, provider_payment_id),
    CONSTRAINT payments_id_currency_key UNIQUE (id, currency),
    CONSTRAINT payments_order_fk FOREIGN KEY (order_id, currency)
        REFERENCES orders (id, currency) ON DELETE CASCADE,
    CHECK (status NOT IN ('succeeded', 'partially_refunded', 'refunded') OR succeeded_at IS NOT NULL)
);
CREATE INDEX payments_order_idx ON payments (order_id);
-- an order is captured at most once
CREATE UNIQUE INDEX payments_one_success_per_order ON payments (order_id)
    WHERE status IN ('succeeded', 'partially_refunded', 'refunded');
CREATE TRIGGER payments_updated_at BEFORE UPDATE ON payments
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

-- Allowed status transitions (webhooks arrive out of order: a late
-- 'pending' after 'succeeded' must be ignored by the C code, and the schema
-- refuses it with check_violation 'payments_status_transition').
CREATE FUNCTION payments_check_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    IF NOT (
        (OLD.status IN ('pending', 'requires_action')
            AND NEW.status IN ('pending', 'requires_action', 'authorized', 'succeeded', 'failed', 'cancelled'))
     OR (OLD.status = 'authorized' AND NEW.status IN ('succeeded', 'failed', 'cancelled'))
     OR (OLD.status IN ('succeeded', 'partially_refunded') AND NEW.status IN ('partially_refunded', 'refunded'))
    ) THEN
        RAISE EXCEPTION 'payment % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payments_status_transition';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER payments_check_transition BEFORE UPDATE OF status ON payments
    FOR EACH ROW EXECUTE FUNCTION payments_check_transition();

-- Webhook inbox: INSERT ... ON CONFLICT (provider, provider_event_id) DO NOTHING
-- RETURNING id -> no row means a duplicate delivery (answer 200, do nothing).
CREATE TABLE payment_events (
    id                bigserial PRIMARY KEY,
    provider          text NOT NULL CHECK (provider IN ('stripe', 'chapa', 'paypal')),
    provider_event_id text NOT NULL CHECK (length(provider_event_id) BETWEEN 1 AND 255),
    event_type        text NOT NULL,
    payment_id        bigint REFERENCES payments (id) ON DELETE SET NULL,
    payload           jsonb NOT NULL,
    signature_valid   boolean NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    processed_at      timestamptz,
    processing_error  text,
    CONSTRAINT payment_events_dedupe UNIQUE (provider, provider_event_id)
);
CREATE INDEX payment_events_payment_idx ON payment_events (payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX payment_events_unprocessed_idx ON payment_events (received_at) WHERE processed_at IS NULL;

CREATE TABLE refunds (
    id                 bigserial PRIMARY KEY,
    payment_id         bigint NOT NULL,
    order_id           bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    vendor_order_id    bigint,             -- NULL: order-level refund
    amount             bigint NOT NULL CHECK (amount > 0),
    currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reason             text CHECK (length(reason) <= 1000),
    status             text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
    provider_refund_id text,
    idempotency_key    text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    requested_by       bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    succeeded_at       timestamptz,
    CONSTRAINT refunds_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT refunds_payment_fk FOREIGN KEY (payment_id, currency)
        REFERENCES payments (id, currency) ON DELETE CASCADE,
    CONSTRAINT refunds_vendor_order_fk FOREIGN KEY (vendor_order_id, order_id)
        REFERENCES vendor_orders (id, order_id) ON DELETE CASCADE,
    CHECK ((status = 'succeeded') = (succeeded_at IS NOT NULL))
);
CREATE INDEX refunds_payment_idx ON refunds (payment_id);
CREATE INDEX refunds_order_idx ON refunds (order_id);
CREATE TRIGGER refunds_updated_at BEFORE UPDATE ON refunds
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

-- payments.amount_refunded = sum of pending + succeeded refunds; the CHECK on
-- payments refuses over-refunding (check_violation 'payments_amount_refunded_check').
CREATE FUNCTION refunds_sync_payment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE payments p SET amount_refunded = (
        SELECT coalesce(sum(r.amount), 0) FROM refunds r
         WHERE r.payment_id = p.id AND r.status IN ('pending', 'succeeded'))
     WHERE p.id IN (SELECT payment_id FROM new_rows);
    RETURN NULL;
END
$$;
CREATE FUNCTION refunds_sync_payment_del() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE payments p SET amount_refunded = (
        SELECT coalesce(sum(r.amount), 0) FROM refunds r
         WHERE r.payment_id = p.id AND r.status IN ('pending', 'succeeded'))
     WHERE p.id IN (SELECT payment_id FROM old_rows);
    RETURN NULL;
END
$$;
CREATE TRIGGER refunds_sync_payment_ins AFTER INSERT ON refunds
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION refunds_sync_payment();
CREATE TRIGGER refunds_sync_payment_upd AFTER UPDATE ON refunds
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION refunds_sync_payment();
CREATE TRIGGER refunds_sync_payment_del AFTER DELETE ON refunds
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION refunds_sync_payment_del();

-- ---------------------------------------------------------------------------
-- Vendor money
CREATE TABLE payouts (
    id                 bigserial PRIMARY KEY,
    vendor_id          bigint NOT NULL REFERENCES vendors (id) ON DELETE RESTRICT,
    amount             bigint NOT NULL CHECK (amount > 0),
    currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status             text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'processing', 'paid', 'failed', 'cancelled')),
    method             text CHECK (method IN ('bank_transfer', 'paypal', 'stripe', 'chapa')),
    provider_reference text,
    period_start       timestamptz,
    period_end         timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    paid_at            timestamptz,
    CHECK ((status = 'paid') = (paid_at IS NOT NULL)),
    CHECK (period_end IS NULL OR period_start IS NULL OR period_end > period_start)
);
CREATE INDEX payouts_vendor_idx ON payouts (vendor_id, created_at DESC);
CREATE TRIGGER payouts_updated_at BEFORE UPDATE ON payouts
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

CREATE TABLE commissions (
    id                bigserial PRIMARY KEY,
    vendor_order_id   bigint NOT NULL,
    vendor_id         bigint NOT NULL,
    rate_bps          int NOT NULL CHECK (rate_bps BETWEEN 0 AND 10000),
    base_amount       bigint NOT NULL CHECK (base_amount >= 0),
    commission_amount bigint NOT NULL,
    vendor_amount     bigint NOT NULL,
    currency          char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'payable', 'paid', 'reversed')),
    payout_id         bigint REFERENCES payouts (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT commissions_one_per_vendor_order UNIQUE (vendor_order_id),
    CONSTRAINT commissions_vendor_order_fk FOREIGN KEY (vendor_order_id, vendor_id)
        REFERENCES vendor_orders (id, vendor_id) ON DELETE CASCADE,
    CONSTRAINT commissions_rounding CHECK (commission_amount = (base_amount * rate_bps + 5000) / 10000),
    CONSTRAINT commissions_vendor_amount CHECK (vendor_amount = base_amount - commission_amount),
    CHECK (status <> 'paid' OR payout_id IS NOT NULL)
);
CREATE INDEX commissions_vendor_idx ON commissions (vendor_id, status);
CREATE INDEX commissions_payout_idx ON commissions (payout_id) WHERE payout_id IS NOT NULL;
CREATE TRIGGER commissions_updated_at BEFORE UPDATE ON commissions
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();
