-- 0002 identity: users, roles, sessions, refresh tokens, one-time tokens,
-- idempotency keys.
--
-- Secrets are never stored in clear: session ids, refresh tokens and e-mail
-- tokens are stored as SHA-256 digests (bytea, 32 bytes); the client holds
-- the random token. Password hashes are PHC strings ($scrypt$..., $argon2id$...).

CREATE TABLE users (
    id                 bigserial PRIMARY KEY,
    email              citext NOT NULL,
    password_hash      text,               -- NULL: no password login (anonymized, invited, demo)
    name               text CHECK (length(name) <= 200),
    phone              text CHECK (length(phone) <= 40),
    status             text NOT NULL DEFAULT 'active'
                       CHECK (status IN ('active', 'locked', 'disabled', 'deleted')),
    email_verified_at  timestamptz,
    failed_login_count int NOT NULL DEFAULT 0 CHECK (failed_login_count >= 0),
    locked_until       timestamptz,
    last_login_at      timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,        -- account deletion requested/executed
    anonymized_at      timestamptz,        -- personal data scrubbed (see user_anonymize)
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    CONSTRAINT users_deleted_consistent CHECK ((status = 'deleted') = (deleted_at IS NOT NULL)),
    CONSTRAINT users_anonymized_deleted CHECK (anonymized_at IS NULL OR deleted_at IS NOT NULL)
);
CREATE TRIGGER users_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION nexus_set_updated_at();

ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_fk
    FOREIGN KEY (actor_user_id) REFERENCES users (id) ON DELETE SET NULL;

CREATE TABLE roles (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z_]*$'),
    description text NOT NULL
);
INSERT INTO roles (name, description) VALUES
    ('customer', 'Buys products; owns carts, orders, addresses, reviews'),
    ('admin',    'Platform operator: manages catalog, vendors, orders, users');

CREATE TABLE user_roles (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL REFERENCES roles (name) ON UPDATE CASCADE,
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by bigint REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_role_idx ON user_roles (role);

-- Cookie sessions (browser) and the anchor of refresh-token families (API).
CREATE TABLE sessions (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    csrf_hash    bytea CHECK (octet_length(csrf_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    ip           inet,
    user_agent   text CHECK (length(user_agent) <= 512),
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Rotating refresh tokens. Each use creates a child in the same family and
-- marks the parent used; presenting a used token again = theft: revoke the
-- whole family (UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1).
CREATE TABLE refresh_tokens (
    id             bigserial PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id     bigint REFERENCES sessions (id) ON DELETE CASCADE,
    family_id      uuid NOT NULL,
    parent_id      bigint REFERENCES refresh_tokens (id) ON DELETE SET NULL,
    token_hash     bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,            -- rotated (a child exists)
    revoked_at     timestamptz,
    revoked_reason text CHECK (revoked_reason IN ('logout', 'reuse_detected', 'password_change',
                                                  'admin', 'user_deleted', 'expired')),
    CHECK (expires_at > created_at),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- Single-use e-mail tokens: verification, password reset, e-mail change.
-- Use: UPDATE user_tokens SET used_at = now() WHERE token_hash = $1 AND purpose = $2
--      AND used_at IS NULL AND expires_at > now() RETURNING user_id, email;
CREATE TABLE user_tokens (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('email_verify', 'password_reset', 'email_change')),
    token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    email      citext NOT NULL,            -- address the token was sent to (new address for email_change)
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX user_tokens_user_idx ON user_tokens (user_id, purpose) WHERE used_at IS NULL;
CREATE INDEX user_tokens_expires_idx ON user_tokens (expires_at);

-- Idempotency-Key store (checkout, payment creation, refunds ...).
-- scope names the endpoint plus, for guests, their identity
-- (e.g. 'checkout' for a user, 'checkout:cart:123' for a guest cart), so one
-- client can never replay another client's key.
-- Protocol: INSERT ... ON CONFLICT DO NOTHING RETURNING id (claim, status
-- 'in_progress'); on conflict read the row: different request_hash => 422,
-- in_progress => 409, completed => replay response_status/response_body.
CREATE TABLE idempotency_keys (
    id              bigserial PRIMARY KEY,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    scope           text NOT NULL CHECK (length(scope) BETWEEN 1 AND 255),
    user_id         bigint REFERENCES users (id) ON DELETE CASCADE,
    request_hash    bytea NOT NULL CHECK (octet_length(request_hash) = 32),
    status          text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'completed')),
    response_status int CHECK (response_status BETWEEN 100 AND 599),
    response_body   text,
    resource_type   text,                  -- e.g. 'order'
    resource_id     bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    expires_at      timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    CONSTRAINT idempotency_keys_unique UNIQUE NULLS NOT DISTINCT (user_id, scope, key),
    CHECK ((status = 'completed') = (completed_at IS NOT NULL AND response_status IS NOT NULL))
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- GDPR-style erasure: keep the row (orders, reviews reference it) but drop
-- every personal datum and every credential. Idempotent.
CREATE FUNCTION user_anonymize(p_user_id bigint) RETURNS void
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
END
$$;
