-- 0003 vendors (stores), their staff and onboarding applications.
-- A single-seller shop is simply one vendor.

CREATE TABLE vendors (
    id                  bigserial PRIMARY KEY,
    slug                text NOT NULL,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description         text,
    logo_url            text,
    website             text,
    country             char(2) CHECK (country ~ '^[A-Z]{2}$'),
    status              text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'active', 'suspended', 'rejected')),
    contact_email       citext,
    currency            char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),  -- payout currency
    commission_rate_bps int NOT NULL DEFAULT 1000 CHECK (commission_rate_bps BETWEEN 0 AND 10000),
    payout_method       text CHECK (payout_method IN ('bank_transfer', 'paypal', 'stripe', 'chapa')),
    payout_details      jsonb NOT NULL DEFAULT '{}'::jsonb,  -- non-secret references only (last4, account id)
    -- derived by trigger from approved reviews of the vendor's products (0005)
    rating_avg          numeric(3,2) NOT NULL DEFAULT 0 CHECK (rating_avg BETWEEN 0 AND 5),
    rating_count        int NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    rating_sum          bigint NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    approved_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT vendors_slug_key UNIQUE (slug),
    CONSTRAINT vendors_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    CHECK (jsonb_typeof(payout_details) = 'object')
);
CREATE INDEX vendors_status_idx ON vendors (status);
CREATE TRIGGER vendors_updated_at BEFORE UPDATE ON vendors
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

-- Who may manage a store. Exactly one owner per vendor at most.
CREATE TABLE vendor_staff (
    vendor_id  bigint NOT NULL REFERENCES vendors (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'staff')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vendor_id, user_id)
);
CREATE UNIQUE INDEX vendor_staff_one_owner ON vendor_staff (vendor_id) WHERE role = 'owner';
CREATE INDEX vendor_staff_user_idx ON vendor_staff (user_id);

-- Store onboarding: a user applies, an admin approves (creating the vendor
-- and the owner row) or rejects.
CREATE TABLE vendor_applications (
    id               bigserial PRIMARY KEY,
    user_id          bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    store_name       text NOT NULL CHECK (length(store_name) BETWEEN 1 AND 200),
    requested_slug   text NOT NULL CHECK (requested_slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    description      text,
    website          text,
    country          char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    contact_email    citext NOT NULL,
    currency         char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    payout_method    text NOT NULL CHECK (payout_method IN ('bank_transfer', 'paypal', 'stripe', 'chapa')),
    payout_details   jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(payout_details) = 'object'),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    vendor_id        bigint REFERENCES vendors (id) ON DELETE SET NULL,  -- set on approval
    reviewed_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    reviewed_at      timestamptz,
    rejection_reason text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'pending') = (reviewed_at IS NULL)),
    CHECK (status <> 'rejected' OR rejection_reason IS NOT NULL)
);
-- one open application per user
CREATE UNIQUE INDEX vendor_applications_one_pending ON vendor_applications (user_id)
    WHERE status = 'pending';
CREATE INDEX vendor_applications_status_idx ON vendor_applications (status, created_at);
CREATE TRIGGER vendor_applications_updated_at BEFORE UPDATE ON vendor_applications
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();
