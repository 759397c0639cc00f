-- 0011 accounts API: the data side of sign-up, log-in, sessions, refresh
-- tokens, the address book, store onboarding and the admin's user and store
-- management.
--
-- The module calls every endpoint through one prepared statement,
--   SELECT * FROM nexus_api($endpoint, $actor, $id, $id2, $body, $meta)
-- which runs nexus_api_<endpoint>(actor, id, id2, body, meta) and returns
-- (status, body): an HTTP status and a JSON text, which is the resource for
-- 2xx and {code, detail, ...} for errors. Each call is one statement, so one
-- transaction: a failure leaves nothing half-written.
--
--   actor  the signed-in user's id (NULL when anonymous). Every function
--          filters by it: this is where object-level authorization lives.
--   id,id2 the path segments the route captured (text, validated here)
--   body   the request body, already checked by the module against the
--          endpoint's field list (types, lengths, formats, no unknown keys)
--   meta   {ip, request_id, user_agent, session_id, args{...}, token, ...}:
--          token is a fresh random token from the module (RAND_bytes) for
--          endpoints that hand one out; secrets arrive only as such tokens
--          or as password hashes computed by the module.
--
-- Functions that run queries are plpgsql, not SQL: PostgreSQL plans an SQL
-- function's body on every call from a new statement, while plpgsql keeps
-- its plans for the connection (GET /api/me: 0.73 ms -> 0.14 ms).

CREATE TYPE nexus_answer AS (status int, body text);

CREATE FUNCTION nexus_ok(p_status int, p_body jsonb) RETURNS nexus_answer
LANGUAGE sql IMMUTABLE AS $$
    SELECT ROW(p_status, p_body::text)::nexus_answer
$$;

CREATE FUNCTION nexus_err(p_status int, p_code text, p_detail text,
                          p_extra jsonb DEFAULT '{}') RETURNS nexus_answer
LANGUAGE sql IMMUTABLE AS $$
    SELECT ROW(p_status, (jsonb_build_object('code', p_code, 'detail', p_detail)
                          || p_extra)::text)::nexus_answer
$$;

-- A path id: a positive integer, else NULL (the caller answers 404).
CREATE FUNCTION nexus_id(p text) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p ~ '^[1-9][0-9]{0,17}$' THEN p::bigint END
$$;

CREATE FUNCTION nexus_token_hash(p_token text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT sha256(convert_to(p_token, 'UTF8'))
$$;

CREATE FUNCTION nexus_audit(p_actor bigint, p_meta jsonb, p_action text,
                            p_entity_type text, p_entity_id text,
                            p_details jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_log (actor_user_id, actor_ip, request_id, action,
                           entity_type, entity_id, details)
    VALUES (p_actor, (p_meta->>'ip')::inet, p_meta->>'request_id', p_action,
            p_entity_type, p_entity_id, p_details);
END
$$;

CREATE FUNCTION nexus_api(p_endpoint text, p_actor bigint, p_id text,
                          p_id2 text, p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v nexus_answer;
BEGIN
    IF p_endpoint !~ '^[a-z][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'nexus_api: bad endpoint name %', p_endpoint;
    END IF;
    -- in FROM, so the function runs once (not once per column)
    EXECUTE format('SELECT * FROM nexus_api_%s($1, $2, $3, $4, $5)', p_endpoint)
        INTO v USING p_actor, p_id, p_id2, coalesce(p_body, '{}'), p_meta;
    RETURN v;
END
$$;

-- ---------------------------------------------------------------------------
-- Platform settings an operator changes at run time (GET/PATCH
-- /api/admin/settings). Each key has one JSON type, checked here.
CREATE TABLE platform_settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint,          -- a user id; no FK, so emptying users keeps these
    CONSTRAINT platform_settings_known CHECK (
        (key = 'store_name' AND jsonb_typeof(value) = 'string'
             AND length(value #>> '{}') BETWEEN 1 AND 100)
        OR (key = 'support_email' AND jsonb_typeof(value) IN ('string', 'null'))
        OR (key = 'registration_open' AND jsonb_typeof(value) = 'boolean')
        OR (key = 'default_currency' AND jsonb_typeof(value) = 'string'
             AND value #>> '{}' ~ '^[A-Z]{3}$'))
);
INSERT INTO platform_settings (key, value) VALUES
    ('store_name', '"Nexus"'), ('support_email', 'null'),
    ('registration_open', 'true'), ('default_currency', '"USD"');

CREATE FUNCTION nexus_setting_value(p_key text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT value FROM platform_settings WHERE key = p_key);
END
$$;

-- ---------------------------------------------------------------------------
-- JSON shapes

CREATE FUNCTION nexus_user_json(p_user_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_build_object(
            'id', u.id,
            'email', u.email,
            'name', u.name,
            'phone', u.phone,
            'email_verified', u.email_verified_at IS NOT NULL,
            'status', u.status,
            'roles', coalesce((SELECT jsonb_agg(ur.role ORDER BY ur.role)
                                 FROM user_roles ur WHERE ur.user_id = u.id), '[]'),
            'stores', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                    'id', v.id, 'slug', v.slug, 'name', v.name,
                                    'status', v.status, 'role', vs.role)
                                    ORDER BY v.id)
                                  FROM vendor_staff vs JOIN vendors v ON v.id = vs.vendor_id
                                 WHERE vs.user_id = u.id), '[]'),
            'created_at', nexus_json_ts(u.created_at),
            'last_login_at', nexus_json_ts(u.last_login_at))
        FROM users u WHERE u.id = p_user_id);
END
$$;

CREATE FUNCTION nexus_address_json(a addresses) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'id', a.id, 'kind', a.kind, 'is_default', a.is_default,
        'full_name', a.full_name, 'company', a.company,
        'line1', a.line1, 'line2', a.line2, 'city', a.city,
        'region', a.region, 'postal_code', a.postal_code,
        'country', a.country, 'phone', a.phone,
        'created_at', nexus_json_ts(a.created_at),
        'updated_at', nexus_json_ts(a.updated_at))
$$;

CREATE FUNCTION nexus_store_json(p_vendor_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_build_object(
            'id', v.id, 'slug', v.slug, 'name', v.name,
            'description', v.description, 'website', v.website,
            'country', v.country, 'status', v.status,
            'contact_email', v.contact_email, 'currency', v.currency,
            'payout_method', v.payout_method,
            'created_at', nexus_json_ts(v.created_at),
            'approved_at', nexus_json_ts(v.approved_at),
            'application', (SELECT jsonb_build_object(
                                'id', a.id, 'status', a.status,
                                'applicant_id', a.user_id,
                                'applicant_email', u.email,
                                'rejection_reason', a.rejection_reason,
                                'reviewed_at', nexus_json_ts(a.reviewed_at),
                                'created_at', nexus_json_ts(a.created_at))
                              FROM vendor_applications a
                              LEFT JOIN users u ON u.id = a.user_id
                             WHERE a.vendor_id = v.id
                             ORDER BY a.id DESC LIMIT 1))
        FROM vendors v WHERE v.id = p_vendor_id);
END
$$;

-- ---------------------------------------------------------------------------
-- Sign-up, log-in, sessions

-- Always the same answer, so sign-up does not reveal who has an account:
-- the owner of an existing address is told by e-mail instead.
CREATE FUNCTION nexus_api_register(p_actor bigint, p_id text, p_id2 text,
                                   p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_uid bigint;
    v_email citext := p_body->>'email';
BEGIN
    IF nexus_setting_value('registration_open') = 'false' THEN
        RETURN nexus_err(403, 'registration_closed',
                         'Sign-up is closed on this platform.');
    END IF;

    INSERT INTO users (email, password_hash, name)
    VALUES (v_email, p_meta->>'password_hash', p_body->>'name')
    ON CONFLICT (email) DO NOTHING
    RETURNING id INTO v_uid;

    IF v_uid IS NULL THEN
        INSERT INTO outbox (topic, payload)
        VALUES ('email.account_exists', jsonb_build_object('email', v_email));
    ELSE
        INSERT INTO user_roles (user_id, role) VALUES (v_uid, 'customer');
        INSERT INTO user_tokens (user_id, purpose, token_hash, email, expires_at)
        VALUES (v_uid, 'email_verify', nexus_token_hash(p_meta->>'token'),
                v_email, now() + interval '48 hours');
        INSERT INTO outbox (topic, payload)
        VALUES ('email.verify', jsonb_build_object(
                    'user_id', v_uid, 'email', v_email,
                    'token', p_meta->>'token'));
    END IF;

    RETURN nexus_ok(202, jsonb_build_object(
        'status', 'accepted',
        'detail', 'If the address can be used, a verification e-mail is on '
                  'its way. You can sign in now.'));
END
$$;

CREATE FUNCTION nexus_api_login_lookup(p_actor bigint, p_id text, p_id2 text,
                                       p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT nexus_ok(200, jsonb_build_object('user_id', u.id,
                                                'phc', u.password_hash))
          FROM (SELECT 1) one
          LEFT JOIN users u ON u.email = (p_body->>'email')::citext
                           AND u.status = 'active');
END
$$;

CREATE FUNCTION nexus_api_login_failed(p_actor bigint, p_id text, p_id2 text,
                                       p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET failed_login_count = failed_login_count + 1
     WHERE id = (p_meta->>'user_id')::bigint;
    RETURN (SELECT nexus_ok(200, '{}'));
END
$$;

-- meta: user_id, mode ('token' | 'cookie'), token (the session cookie or,
-- for API clients, the refresh token), csrf_token, session_ttl, refresh_ttl
-- (seconds), rehash (a stronger password hash, optional).
CREATE FUNCTION nexus_api_login_finish(p_actor bigint, p_id text, p_id2 text,
                                       p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_uid bigint := (p_meta->>'user_id')::bigint;
    v_cookie boolean := p_meta->>'mode' = 'cookie';
    v_ttl interval := make_interval(secs => (p_meta->>(CASE WHEN v_cookie
                          THEN 'session_ttl' ELSE 'refresh_ttl' END))::int);
    v_sid bigint;
BEGIN
    UPDATE users SET last_login_at = now(), failed_login_count = 0,
                     password_hash = coalesce(p_meta->>'rehash', password_hash)
     WHERE id = v_uid AND status = 'active';
    IF NOT FOUND THEN
        RETURN nexus_err(401, 'invalid_credentials',
                         'The e-mail address or password is wrong.');
    END IF;

    -- an API session's own token is never handed out: it cannot be a cookie
    INSERT INTO sessions (user_id, token_hash, csrf_hash, expires_at, ip, user_agent)
    VALUES (v_uid,
            nexus_token_hash(CASE WHEN v_cookie THEN p_meta->>'token'
                                  ELSE p_meta->>'token' || ':api' END),
            CASE WHEN v_cookie THEN nexus_token_hash(p_meta->>'csrf_token') END,
            now() + v_ttl, (p_meta->>'ip')::inet,
            left(p_meta->>'user_agent', 512))
    RETURNING id INTO v_sid;

    IF NOT v_cookie THEN
        INSERT INTO refresh_tokens (user_id, session_id, family_id, token_hash, expires_at)
        VALUES (v_uid, v_sid, gen_random_uuid(),
                nexus_token_hash(p_meta->>'token'), now() + v_ttl);
    END IF;

    RETURN nexus_ok(200, jsonb_build_object('session_id', v_sid,
                                            'user', nexus_user_json(v_uid)));
END
$$;

-- A refresh token works once. Presenting a used one again means it was
-- copied: the whole family and its session are revoked.
CREATE FUNCTION nexus_api_refresh(p_actor bigint, p_id text, p_id2 text,
                                  p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    t refresh_tokens;
    v_ttl interval := make_interval(secs => (p_meta->>'refresh_ttl')::int);
BEGIN
    SELECT * INTO t FROM refresh_tokens
     WHERE token_hash = nexus_token_hash(p_body->>'refresh_token')
       FOR UPDATE;

    IF NOT FOUND OR t.revoked_at IS NOT NULL OR t.expires_at <= now() THEN
        RETURN nexus_err(401, 'invalid_grant',
                         'The refresh token is not valid; sign in again.');
    END IF;

    IF t.used_at IS NOT NULL THEN
        UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = 'reuse_detected'
         WHERE family_id = t.family_id AND revoked_at IS NULL;
        UPDATE sessions SET revoked_at = now()
         WHERE id = t.session_id AND revoked_at IS NULL;
        PERFORM nexus_audit(t.user_id, p_meta, 'auth.refresh_reused', 'session',
                            t.session_id::text,
                            jsonb_build_object('family_id', t.family_id));
        RETURN nexus_err(401, 'invalid_grant',
                         'The refresh token was already used; the session is '
                         'revoked. Sign in again.');
    END IF;

    PERFORM 1 FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = t.session_id AND s.revoked_at IS NULL
       AND s.expires_at > now() AND u.status = 'active';
    IF NOT FOUND THEN
        RETURN nexus_err(401, 'invalid_grant',
                         'The session has ended; sign in again.');
    END IF;

    UPDATE refresh_tokens SET used_at = now() WHERE id = t.id;
    INSERT INTO refresh_tokens (user_id, session_id, family_id, parent_id,
                                token_hash, expires_at)
    VALUES (t.user_id, t.session_id, t.family_id, t.id,
            nexus_token_hash(p_meta->>'token'), now() + v_ttl);
    UPDATE sessions SET last_seen_at = now(),
                        expires_at = greatest(expires_at, now() + v_ttl)
     WHERE id = t.session_id;

    RETURN nexus_ok(200, jsonb_build_object('user_id', t.user_id,
                                            'session_id', t.session_id));
END
$$;

CREATE FUNCTION nexus_revoke_sessions(p_user_id bigint, p_session_id bigint,
                                      p_reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions SET revoked_at = now()
     WHERE user_id = p_user_id AND revoked_at IS NULL
       AND (p_session_id IS NULL OR id = p_session_id);
    UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = p_reason
     WHERE user_id = p_user_id AND revoked_at IS NULL
       AND (p_session_id IS NULL OR session_id = p_session_id);
END
$$;

CREATE FUNCTION nexus_api_logout(p_actor bigint, p_id text, p_id2 text,
                                 p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM nexus_revoke_sessions(p_actor,
        CASE WHEN coalesce((p_body->>'all')::boolean, false) THEN NULL
             ELSE (p_meta->>'session_id')::bigint END,
        'logout');
    RETURN nexus_ok(204, NULL);
END
$$;

CREATE FUNCTION nexus_api_verify_email(p_actor bigint, p_id text, p_id2 text,
                                       p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_uid bigint;
    v_email citext;
BEGIN
    UPDATE user_tokens SET used_at = now()
     WHERE token_hash = nexus_token_hash(p_body->>'token')
       AND purpose = 'email_verify' AND used_at IS NULL AND expires_at > now()
    RETURNING user_id, email INTO v_uid, v_email;

    IF v_uid IS NOT NULL THEN
        UPDATE users SET email_verified_at = coalesce(email_verified_at, now())
         WHERE id = v_uid AND email = v_email AND status = 'active';
        IF FOUND THEN
            RETURN nexus_ok(200, jsonb_build_object('email_verified', true));
        END IF;
    END IF;

    RETURN nexus_err(400, 'invalid_token',
                     'The link is invalid, used or expired; ask for a new one.');
END
$$;

CREATE FUNCTION nexus_api_me_verify_email(p_actor bigint, p_id text, p_id2 text,
                                          p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    u users;
BEGIN
    SELECT * INTO u FROM users WHERE id = p_actor;
    IF u.email_verified_at IS NOT NULL THEN
        RETURN nexus_err(409, 'already_verified', 'The address is already verified.');
    END IF;
    -- one live link at a time
    UPDATE user_tokens SET used_at = now()
     WHERE user_id = p_actor AND purpose = 'email_verify' AND used_at IS NULL;
    INSERT INTO user_tokens (user_id, purpose, token_hash, email, expires_at)
    VALUES (p_actor, 'email_verify', nexus_token_hash(p_meta->>'token'),
            u.email, now() + interval '48 hours');
    INSERT INTO outbox (topic, payload)
    VALUES ('email.verify', jsonb_build_object('user_id', p_actor,
                'email', u.email, 'token', p_meta->>'token'));
    RETURN nexus_ok(202, jsonb_build_object('status', 'accepted'));
END
$$;

-- Always 202: the answer does not reveal whether the address has an account.
CREATE FUNCTION nexus_api_reset_request(p_actor bigint, p_id text, p_id2 text,
                                        p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    u users;
BEGIN
    SELECT * INTO u FROM users
     WHERE email = (p_body->>'email')::citext AND status = 'active';
    IF FOUND THEN
        UPDATE user_tokens SET used_at = now()
         WHERE user_id = u.id AND purpose = 'password_reset' AND used_at IS NULL;
        INSERT INTO user_tokens (user_id, purpose, token_hash, email, expires_at)
        VALUES (u.id, 'password_reset', nexus_token_hash(p_meta->>'token'),
                u.email, now() + interval '1 hour');
        INSERT INTO outbox (topic, payload)
        VALUES ('email.password_reset', jsonb_build_object('user_id', u.id,
                    'email', u.email, 'token', p_meta->>'token'));
    END IF;
    RETURN nexus_ok(202, jsonb_build_object(
        'status', 'accepted',
        'detail', 'If the address has an account, a reset link is on its way.'));
END
$$;

-- meta.password_hash: the new password, hashed by the module
CREATE FUNCTION nexus_api_reset_confirm(p_actor bigint, p_id text, p_id2 text,
                                        p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_uid bigint;
    v_email citext;
BEGIN
    UPDATE user_tokens SET used_at = now()
     WHERE token_hash = nexus_token_hash(p_body->>'token')
       AND purpose = 'password_reset' AND used_at IS NULL AND expires_at > now()
    RETURNING user_id, email INTO v_uid, v_email;

    IF v_uid IS NULL THEN
        RETURN nexus_err(400, 'invalid_token',
                         'The link is invalid, used or expired; ask for a new one.');
    END IF;

    -- the link went to this address, so it is verified too
    UPDATE users SET password_hash = p_meta->>'password_hash',
                     email_verified_at = coalesce(email_verified_at, now()),
                     failed_login_count = 0
     WHERE id = v_uid AND email = v_email AND status = 'active';
    IF NOT FOUND THEN
        RETURN nexus_err(400, 'invalid_token',
                         'The link is invalid, used or expired; ask for a new one.');
    END IF;

    PERFORM nexus_revoke_sessions(v_uid, NULL, 'password_change');
    PERFORM nexus_audit(v_uid, p_meta, 'auth.password_reset', 'user', v_uid::text);
    INSERT INTO outbox (topic, payload)
    VALUES ('email.password_changed', jsonb_build_object('user_id', v_uid,
                                                         'email', v_email));
    RETURN nexus_ok(200, jsonb_build_object('status', 'password_changed'));
END
$$;

-- ---------------------------------------------------------------------------
-- The caller's account

CREATE FUNCTION nexus_api_me_get(p_actor bigint, p_id text, p_id2 text,
                                 p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT nexus_ok(200, nexus_user_json(p_actor)));
END
$$;

CREATE FUNCTION nexus_api_me_update(p_actor bigint, p_id text, p_id2 text,
                                    p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET
        name = CASE WHEN p_body ? 'name' THEN p_body->>'name' ELSE name END,
        phone = CASE WHEN p_body ? 'phone' THEN p_body->>'phone' ELSE phone END
     WHERE id = p_actor;
    RETURN nexus_ok(200, nexus_user_json(p_actor));
END
$$;

-- the stored hash, for the module to check a password the caller typed
CREATE FUNCTION nexus_api_password_lookup(p_actor bigint, p_id text, p_id2 text,
                                          p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT nexus_ok(200, jsonb_build_object('user_id', id, 'phc', password_hash))
          FROM users WHERE id = p_actor);
END
$$;

CREATE FUNCTION nexus_api_password_change(p_actor bigint, p_id text, p_id2 text,
                                          p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_email citext;
BEGIN
    UPDATE users SET password_hash = p_meta->>'password_hash'
     WHERE id = p_actor RETURNING email INTO v_email;
    PERFORM nexus_revoke_sessions(p_actor, NULL, 'password_change');
    PERFORM nexus_audit(p_actor, p_meta, 'auth.password_change', 'user', p_actor::text);
    INSERT INTO outbox (topic, payload)
    VALUES ('email.password_changed', jsonb_build_object('user_id', p_actor,
                                                         'email', v_email));
    RETURN nexus_ok(200, jsonb_build_object(
        'status', 'password_changed',
        'detail', 'Every session is signed out; sign in with the new password.'));
END
$$;

CREATE FUNCTION nexus_api_me_export(p_actor bigint, p_id text, p_id2 text,
                                    p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT nexus_ok(200, jsonb_build_object(
            'exported_at', nexus_json_ts(now()),
            'user', nexus_user_json(p_actor),
            'addresses', coalesce((SELECT jsonb_agg(nexus_address_json(a) ORDER BY a.id)
                                     FROM addresses a WHERE a.user_id = p_actor), '[]'),
            'sessions', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                      'id', s.id, 'created_at', nexus_json_ts(s.created_at),
                                      'last_seen_at', nexus_json_ts(s.last_seen_at),
                                      'expires_at', nexus_json_ts(s.expires_at),
                                      'revoked_at', nexus_json_ts(s.revoked_at),
                                      'ip', host(s.ip), 'user_agent', s.user_agent)
                                      ORDER BY s.id)
                                    FROM sessions s WHERE s.user_id = p_actor), '[]'),
            'orders', coalesce((SELECT jsonb_agg(to_jsonb(o) - 'user_id' ORDER BY o.id)
                                  FROM orders o WHERE o.user_id = p_actor), '[]'),
            'reviews', coalesce((SELECT jsonb_agg(to_jsonb(r) - 'user_id' ORDER BY r.id)
                                   FROM reviews r WHERE r.user_id = p_actor), '[]'),
            'store_applications', coalesce((SELECT jsonb_agg(to_jsonb(a) - 'user_id'
                                                             ORDER BY a.id)
                                              FROM vendor_applications a
                                             WHERE a.user_id = p_actor), '[]'),
            'activity', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                      'at', nexus_json_ts(l.occurred_at),
                                      'action', l.action, 'entity_type', l.entity_type,
                                      'entity_id', l.entity_id, 'ip', host(l.actor_ip))
                                      ORDER BY l.id)
                                    FROM audit_log l WHERE l.actor_user_id = p_actor), '[]'))));
END
$$;

-- Erasure: personal data goes, orders stay for the books (their address
-- snapshots are kept as the law on invoices requires; the account is gone).
CREATE FUNCTION nexus_api_me_delete(p_actor bigint, p_id text, p_id2 text,
                                    p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM vendor_staff vs JOIN vendors v ON v.id = vs.vendor_id
     WHERE vs.user_id = p_actor AND vs.role = 'owner'
       AND v.status IN ('active', 'pending', 'suspended');
    IF FOUND THEN
        RETURN nexus_err(409, 'store_owner',
                         'The account owns a store; close or hand over the '
                         'store first.');
    END IF;

    PERFORM nexus_audit(p_actor, p_meta, 'user.delete', 'user', p_actor::text);
    DELETE FROM addresses WHERE user_id = p_actor;
    DELETE FROM vendor_staff WHERE user_id = p_actor;
    UPDATE vendor_applications SET payout_details = '{}'
     WHERE user_id = p_actor;
    DELETE FROM vendor_applications WHERE user_id = p_actor AND status = 'pending';
    PERFORM user_anonymize(p_actor);
    RETURN nexus_ok(204, NULL);
END
$$;

-- ---------------------------------------------------------------------------
-- Address book: every statement filters by the actor, so another user's id
-- is simply not found.

CREATE FUNCTION nexus_api_addresses_list(p_actor bigint, p_id text, p_id2 text,
                                         p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT nexus_ok(200, jsonb_build_object('items',
            coalesce((SELECT jsonb_agg(nexus_address_json(a) ORDER BY a.kind, NOT a.is_default, a.id)
                        FROM addresses a
                       WHERE a.user_id = p_actor
                         AND (p_meta->'args'->>'kind' IS NULL
                              OR a.kind = p_meta->'args'->>'kind')), '[]'))));
END
$$;

CREATE FUNCTION nexus_api_address_get(p_actor bigint, p_id text, p_id2 text,
                                      p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce(
            (SELECT nexus_ok(200, nexus_address_json(a)) FROM addresses a
              WHERE a.id = nexus_id(p_id) AND a.user_id = p_actor),
            nexus_err(404, 'not_found', 'No such address.')));
END
$$;

CREATE FUNCTION nexus_api_address_create(p_actor bigint, p_id text, p_id2 text,
                                         p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    a addresses;
    v_kind text := p_body->>'kind';
    v_default boolean;
BEGIN
    -- serializes one user's address writes, so the default stays unique
    PERFORM 1 FROM users WHERE id = p_actor FOR UPDATE;
    IF (SELECT count(*) FROM addresses WHERE user_id = p_actor) >= 50 THEN
        RETURN nexus_err(409, 'too_many_addresses',
                         'An account keeps at most 50 addresses.');
    END IF;
    -- the first address of a kind is its default
    v_default := coalesce((p_body->>'is_default')::boolean, false)
                 OR NOT EXISTS (SELECT 1 FROM addresses
                                 WHERE user_id = p_actor AND kind = v_kind);
    IF v_default THEN
        UPDATE addresses SET is_default = false
         WHERE user_id = p_actor AND kind = v_kind AND is_default;
    END IF;
    INSERT INTO addresses (user_id, kind, is_default, full_name, company, line1,
                           line2, city, region, postal_code, country, phone)
    VALUES (p_actor, v_kind, v_default, p_body->>'full_name', p_body->>'company',
            p_body->>'line1', p_body->>'line2', p_body->>'city',
            p_body->>'region', p_body->>'postal_code', p_body->>'country',
            p_body->>'phone')
    RETURNING * INTO a;
    RETURN nexus_ok(201, nexus_address_json(a));
END
$$;

CREATE FUNCTION nexus_api_address_update(p_actor bigint, p_id text, p_id2 text,
                                         p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    a addresses;
    v_kind text;
BEGIN
    PERFORM 1 FROM users WHERE id = p_actor FOR UPDATE;
    SELECT * INTO a FROM addresses WHERE id = nexus_id(p_id) AND user_id = p_actor;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such address.');
    END IF;

    v_kind := coalesce(p_body->>'kind', a.kind);
    IF coalesce((p_body->>'is_default')::boolean, false) THEN
        UPDATE addresses SET is_default = false
         WHERE user_id = p_actor AND kind = v_kind AND is_default AND id <> a.id;
    END IF;

    -- present keys change, absent keys stay; null clears an optional field
    UPDATE addresses SET
        kind        = v_kind,
        is_default  = CASE WHEN p_body ? 'is_default'
                           THEN coalesce((p_body->>'is_default')::boolean, false)
                           WHEN v_kind <> a.kind THEN false
                           ELSE is_default END,
        full_name   = coalesce(p_body->>'full_name', full_name),
        company     = CASE WHEN p_body ? 'company' THEN p_body->>'company' ELSE company END,
        line1       = coalesce(p_body->>'line1', line1),
        line2       = CASE WHEN p_body ? 'line2' THEN p_body->>'line2' ELSE line2 END,
        city        = coalesce(p_body->>'city', city),
        region      = CASE WHEN p_body ? 'region' THEN p_body->>'region' ELSE region END,
        postal_code = CASE WHEN p_body ? 'postal_code' THEN p_body->>'postal_code' ELSE postal_code END,
        country     = coalesce(p_body->>'country', country),
        phone       = CASE WHEN p_body ? 'phone' THEN p_body->>'phone' ELSE phone END
     WHERE id = a.id
    RETURNING * INTO a;
    RETURN nexus_ok(200, nexus_address_json(a));
END
$$;

CREATE FUNCTION nexus_api_address_delete(p_actor bigint, p_id text, p_id2 text,
                                         p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM addresses WHERE id = nexus_id(p_id) AND user_id = p_actor;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such address.');
    END IF;
    RETURN nexus_ok(204, NULL);
END
$$;

-- ---------------------------------------------------------------------------
-- Selling: apply for a store; owners manage their staff

CREATE FUNCTION nexus_api_store_apply(p_actor bigint, p_id text, p_id2 text,
                                      p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_vid bigint;
BEGIN
    PERFORM 1 FROM users WHERE id = p_actor FOR UPDATE;
    PERFORM 1 FROM vendor_applications WHERE user_id = p_actor AND status = 'pending';
    IF FOUND THEN
        RETURN nexus_err(409, 'application_pending',
                         'There is already an application waiting for review.');
    END IF;

    INSERT INTO vendors (slug, name, description, website, country, status,
                         contact_email, currency, payout_method, payout_details)
    VALUES (p_body->>'slug', p_body->>'name', p_body->>'description',
            p_body->>'website', p_body->>'country', 'pending',
            p_body->>'contact_email', coalesce(p_body->>'currency', 'USD'),
            p_body->>'payout_method', coalesce(p_body->'payout_details', '{}'))
    ON CONFLICT (slug) DO NOTHING
    RETURNING id INTO v_vid;
    IF v_vid IS NULL THEN
        RETURN nexus_err(409, 'slug_taken', 'Another store has this slug.',
                         jsonb_build_object('invalid_params', jsonb_build_array(
                             jsonb_build_object('name', 'slug',
                                                'reason', 'is taken'))));
    END IF;

    INSERT INTO vendor_applications (user_id, store_name, requested_slug,
        description, website, country, contact_email, currency, payout_method,
        payout_details, vendor_id)
    VALUES (p_actor, p_body->>'name', p_body->>'slug', p_body->>'description',
            p_body->>'website', p_body->>'country', p_body->>'contact_email',
            coalesce(p_body->>'currency', 'USD'), p_body->>'payout_method',
            coalesce(p_body->'payout_details', '{}'), v_vid);
    PERFORM nexus_audit(p_actor, p_meta, 'store.apply', 'vendor', v_vid::text);
    INSERT INTO outbox (topic, payload)
    VALUES ('admin.store_application', jsonb_build_object('vendor_id', v_vid));
    RETURN nexus_ok(201, nexus_store_json(v_vid));
END
$$;

CREATE FUNCTION nexus_api_seller_stores(p_actor bigint, p_id text, p_id2 text,
                                        p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT nexus_ok(200, jsonb_build_object('items', coalesce(
            (SELECT jsonb_agg(nexus_store_json(vs.vendor_id)
                              || jsonb_build_object('role', vs.role) ORDER BY vs.vendor_id)
               FROM vendor_staff vs WHERE vs.user_id = p_actor), '[]'))));
END
$$;

-- the actor's role in a store: 'owner', 'staff', or NULL (not theirs: 404)
CREATE FUNCTION nexus_store_role(p_actor bigint, p_vendor_id bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT vs.role FROM vendor_staff vs JOIN vendors v ON v.id = vs.vendor_id
         WHERE vs.vendor_id = p_vendor_id AND vs.user_id = p_actor
           AND v.status = 'active');
END
$$;

CREATE FUNCTION nexus_staff_json(p_vendor_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_build_object('items', coalesce(jsonb_agg(jsonb_build_object(
                   'user_id', u.id, 'email', u.email, 'name', u.name,
                   'role', vs.role, 'since', nexus_json_ts(vs.created_at))
                   ORDER BY vs.role = 'owner' DESC, u.id), '[]'))
          FROM vendor_staff vs JOIN users u ON u.id = vs.user_id
         WHERE vs.vendor_id = p_vendor_id);
END
$$;

CREATE FUNCTION nexus_api_staff_list(p_actor bigint, p_id text, p_id2 text,
                                     p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF nexus_store_role(p_actor, nexus_id(p_id)) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such store.');
    END IF;
    RETURN nexus_ok(200, nexus_staff_json(nexus_id(p_id)));
END
$$;

CREATE FUNCTION nexus_api_staff_add(p_actor bigint, p_id text, p_id2 text,
                                    p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_vid bigint := nexus_id(p_id);
    v_role text := nexus_store_role(p_actor, v_vid);
    v_uid bigint;
BEGIN
    IF v_role IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such store.');
    ELSIF v_role <> 'owner' THEN
        RETURN nexus_err(403, 'owner_only', 'Only the store owner manages staff.');
    END IF;

    SELECT id INTO v_uid FROM users
     WHERE email = (p_body->>'email')::citext AND status = 'active';
    IF v_uid IS NULL THEN
        RETURN nexus_err(404, 'user_not_found',
                         'No active account has this e-mail address.');
    END IF;

    INSERT INTO vendor_staff (vendor_id, user_id, role) VALUES (v_vid, v_uid, 'staff')
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN nexus_err(409, 'already_staff', 'This account already works for the store.');
    END IF;
    PERFORM nexus_audit(p_actor, p_meta, 'store.staff_add', 'vendor', v_vid::text,
                        jsonb_build_object('user_id', v_uid));
    RETURN nexus_ok(201, nexus_staff_json(v_vid));
END
$$;

CREATE FUNCTION nexus_api_staff_remove(p_actor bigint, p_id text, p_id2 text,
                                       p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_vid bigint := nexus_id(p_id);
    v_role text := nexus_store_role(p_actor, v_vid);
BEGIN
    IF v_role IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such store.');
    ELSIF v_role <> 'owner' THEN
        RETURN nexus_err(403, 'owner_only', 'Only the store owner manages staff.');
    END IF;

    DELETE FROM vendor_staff
     WHERE vendor_id = v_vid AND user_id = nexus_id(p_id2) AND role = 'staff';
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such staff member (the owner stays).');
    END IF;
    PERFORM nexus_audit(p_actor, p_meta, 'store.staff_remove', 'vendor', v_vid::text,
                        jsonb_build_object('user_id', nexus_id(p_id2)));
    RETURN nexus_ok(204, NULL);
END
$$;

-- ---------------------------------------------------------------------------
-- Platform operators

-- keyset pages over ids, newest first: ?cursor=<last id>&limit=N
CREATE FUNCTION nexus_page_limit(p_meta jsonb) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_meta->'args'->>'limit' ~ '^[1-9][0-9]{0,2}$'
                THEN least((p_meta->'args'->>'limit')::int, 100) ELSE 50 END
$$;

CREATE FUNCTION nexus_page_cursor(p_meta jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(nexus_id(p_meta->'args'->>'cursor'), 9223372036854775807)
$$;

CREATE FUNCTION nexus_page(p_items jsonb, p_limit int) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'items', coalesce(p_items, '[]'),
        'next_cursor', CASE WHEN jsonb_array_length(coalesce(p_items, '[]')) = p_limit
                            THEN (p_items->(p_limit - 1)->>'id') END)
$$;

CREATE FUNCTION nexus_api_admin_stores(p_actor bigint, p_id text, p_id2 text,
                                       p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_status text := coalesce(p_meta->'args'->>'status', 'pending');
    v_limit int := nexus_page_limit(p_meta);
BEGIN
    IF v_status NOT IN ('pending', 'active', 'suspended', 'rejected') THEN
        RETURN nexus_err(400, 'invalid_parameter',
                         'Parameter "status" must be pending, active, suspended or rejected.');
    END IF;
    RETURN nexus_ok(200, nexus_page(
        (SELECT jsonb_agg(nexus_store_json(x.id) ORDER BY x.id DESC)
           FROM (SELECT v.id FROM vendors v
                  WHERE v.status = v_status AND v.id < nexus_page_cursor(p_meta)
                  ORDER BY v.id DESC LIMIT v_limit) x),
        v_limit));
END
$$;

CREATE FUNCTION nexus_api_admin_store_approve(p_actor bigint, p_id text, p_id2 text,
                                              p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v vendors;
    a vendor_applications;
BEGIN
    SELECT * INTO v FROM vendors WHERE id = nexus_id(p_id) FOR UPDATE;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such store.');
    END IF;
    IF v.status NOT IN ('pending', 'suspended') THEN
        RETURN nexus_err(409, 'invalid_state',
                         format('The store is %s; it cannot be approved.', v.status));
    END IF;

    UPDATE vendors SET status = 'active', approved_at = coalesce(approved_at, now())
     WHERE id = v.id;

    IF v.status = 'pending' THEN
        UPDATE vendor_applications
           SET status = 'approved', reviewed_by = p_actor, reviewed_at = now()
         WHERE vendor_id = v.id AND status = 'pending'
        RETURNING * INTO a;
        IF a.id IS NOT NULL THEN
            INSERT INTO vendor_staff (vendor_id, user_id, role)
            VALUES (v.id, a.user_id, 'owner') ON CONFLICT DO NOTHING;
            INSERT INTO outbox (topic, payload)
            VALUES ('email.store_approved', jsonb_build_object(
                        'vendor_id', v.id, 'user_id', a.user_id));
        END IF;
    END IF;

    PERFORM nexus_audit(p_actor, p_meta, 'store.approve', 'vendor', v.id::text,
                        jsonb_build_object('from', v.status));
    RETURN nexus_ok(200, nexus_store_json(v.id));
END
$$;

CREATE FUNCTION nexus_api_admin_store_reject(p_actor bigint, p_id text, p_id2 text,
                                             p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v vendors;
    a vendor_applications;
BEGIN
    SELECT * INTO v FROM vendors WHERE id = nexus_id(p_id) FOR UPDATE;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such store.');
    END IF;
    IF v.status <> 'pending' THEN
        RETURN nexus_err(409, 'invalid_state',
                         format('The store is %s; it cannot be rejected.', v.status));
    END IF;

    UPDATE vendors SET status = 'rejected' WHERE id = v.id;
    UPDATE vendor_applications
       SET status = 'rejected', reviewed_by = p_actor, reviewed_at = now(),
           rejection_reason = p_body->>'reason'
     WHERE vendor_id = v.id AND status = 'pending'
    RETURNING * INTO a;
    IF a.id IS NOT NULL THEN
        INSERT INTO outbox (topic, payload)
        VALUES ('email.store_rejected', jsonb_build_object(
                    'vendor_id', v.id, 'user_id', a.user_id,
                    'reason', p_body->>'reason'));
    END IF;
    PERFORM nexus_audit(p_actor, p_meta, 'store.reject', 'vendor', v.id::text,
                        jsonb_build_object('reason', p_body->>'reason'));
    RETURN nexus_ok(200, nexus_store_json(v.id));
END
$$;

CREATE FUNCTION nexus_api_admin_store_suspend(p_actor bigint, p_id text, p_id2 text,
                                              p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v vendors;
BEGIN
    SELECT * INTO v FROM vendors WHERE id = nexus_id(p_id) FOR UPDATE;
    IF NOT FOUND THEN
        RETURN nexus_err(404, 'not_found', 'No such store.');
    END IF;
    IF v.status <> 'active' THEN
        RETURN nexus_err(409, 'invalid_state',
                         format('The store is %s; it cannot be suspended.', v.status));
    END IF;
    UPDATE vendors SET status = 'suspended' WHERE id = v.id;
    PERFORM nexus_audit(p_actor, p_meta, 'store.suspend', 'vendor', v.id::text,
                        jsonb_build_object('reason', p_body->>'reason'));
    RETURN nexus_ok(200, nexus_store_json(v.id));
END
$$;

CREATE FUNCTION nexus_api_admin_users(p_actor bigint, p_id text, p_id2 text,
                                      p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT nexus_ok(200, nexus_page(
            (SELECT jsonb_agg(nexus_user_json(x.id) ORDER BY x.id DESC)
               FROM (SELECT u.id FROM users u
                      WHERE u.id < nexus_page_cursor(p_meta)
                        AND (p_meta->'args'->>'email' IS NULL
                             OR u.email::text LIKE replace(replace(replace(
                                    lower(p_meta->'args'->>'email'), '\', '\\'),
                                    '%', '\%'), '_', '\_') || '%')
                        AND (p_meta->'args'->>'status' IS NULL
                             OR u.status = p_meta->'args'->>'status')
                      ORDER BY u.id DESC LIMIT nexus_page_limit(p_meta)) x),
            nexus_page_limit(p_meta))));
END
$$;

CREATE FUNCTION nexus_api_admin_user_update(p_actor bigint, p_id text, p_id2 text,
                                            p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    u users;
BEGIN
    SELECT * INTO u FROM users WHERE id = nexus_id(p_id) FOR UPDATE;
    IF NOT FOUND OR u.status = 'deleted' THEN
        RETURN nexus_err(404, 'not_found', 'No such user.');
    END IF;
    IF u.id = p_actor THEN
        RETURN nexus_err(409, 'own_account',
                         'Operators cannot change their own status or role.');
    END IF;

    IF p_body ? 'status' AND p_body->>'status' IS DISTINCT FROM u.status THEN
        UPDATE users SET status = p_body->>'status' WHERE id = u.id;
        IF p_body->>'status' <> 'active' THEN
            PERFORM nexus_revoke_sessions(u.id, NULL, 'admin');
        END IF;
    END IF;

    IF p_body ? 'admin' THEN
        IF (p_body->>'admin')::boolean THEN
            INSERT INTO user_roles (user_id, role, granted_by)
            VALUES (u.id, 'admin', p_actor) ON CONFLICT DO NOTHING;
        ELSE
            DELETE FROM user_roles WHERE user_id = u.id AND role = 'admin';
        END IF;
    END IF;

    PERFORM nexus_audit(p_actor, p_meta, 'user.update', 'user', u.id::text, p_body);
    RETURN nexus_ok(200, nexus_user_json(u.id));
END
$$;

CREATE FUNCTION nexus_api_admin_audit(p_actor bigint, p_id text, p_id2 text,
                                      p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT nexus_ok(200, nexus_page(
            (SELECT jsonb_agg(jsonb_build_object(
                        'id', l.id, 'at', nexus_json_ts(l.occurred_at),
                        'actor_user_id', l.actor_user_id, 'ip', host(l.actor_ip),
                        'request_id', l.request_id, 'action', l.action,
                        'entity_type', l.entity_type, 'entity_id', l.entity_id,
                        'details', l.details) ORDER BY l.id DESC)
               FROM (SELECT * FROM audit_log l
                      WHERE l.id < nexus_page_cursor(p_meta)
                        AND (p_meta->'args'->>'actor' IS NULL
                             OR l.actor_user_id = nexus_id(p_meta->'args'->>'actor'))
                        AND (p_meta->'args'->>'entity_type' IS NULL
                             OR l.entity_type = p_meta->'args'->>'entity_type')
                        AND (p_meta->'args'->>'entity_id' IS NULL
                             OR l.entity_id = p_meta->'args'->>'entity_id')
                      ORDER BY l.id DESC LIMIT nexus_page_limit(p_meta)) l),
            nexus_page_limit(p_meta))));
END
$$;

CREATE FUNCTION nexus_settings_json() RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_object_agg(key, value ORDER BY key) FROM platform_settings);
END
$$;

CREATE FUNCTION nexus_api_admin_settings(p_actor bigint, p_id text, p_id2 text,
                                         p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT nexus_ok(200, nexus_settings_json()));
END
$$;

-- the module has checked each member's type; the table checks them again
CREATE FUNCTION nexus_api_admin_settings_update(p_actor bigint, p_id text,
                                                p_id2 text, p_body jsonb,
                                                p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    v_before jsonb := nexus_settings_json();
BEGIN
    UPDATE platform_settings s
       SET value = p_body->s.key, updated_at = now(), updated_by = p_actor
     WHERE p_body ? s.key AND s.value IS DISTINCT FROM p_body->s.key;
    PERFORM nexus_audit(p_actor, p_meta, 'settings.update', 'settings', NULL,
                        jsonb_build_object('before', v_before, 'changes', p_body));
    RETURN nexus_ok(200, nexus_settings_json());
END
$$;

-- Creating an operator is a command-line step (scripts/create-admin), never
-- a default password: this sets up the account from a hash made outside.
CREATE FUNCTION nexus_create_admin(p_email citext, p_password_hash text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_uid bigint;
BEGIN
    INSERT INTO users (email, password_hash, email_verified_at)
    VALUES (p_email, p_password_hash, now())
    ON CONFLICT (email) DO UPDATE
        SET password_hash = excluded.password_hash,
            status = 'active', failed_login_count = 0
    RETURNING id INTO v_uid;
    INSERT INTO user_roles (user_id, role) VALUES (v_uid, 'admin'), (v_uid, 'customer')
    ON CONFLICT DO NOTHING;
    PERFORM nexus_revoke_sessions(v_uid, NULL, 'admin');
    PERFORM nexus_audit(NULL, '{}', 'user.create_admin', 'user', v_uid::text);
    RETURN v_uid;
END
$$;
