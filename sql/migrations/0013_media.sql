-- 0013 product media: presigned uploads to object storage and the gallery.
--
-- A seller asks for an upload (POST /api/seller/products/{id}/media): a row
-- in media_uploads records the object key the module signs a PUT URL for.
-- When the client has uploaded the image it confirms it (POST
-- /api/seller/media/{id}/complete): the row moves to product_media with the
-- same id, and only then is it part of the gallery.
--
-- Pending uploads live in their own table rather than behind a status
-- column of product_media, so every reader of product_media (the product
-- documents of 0010, the listing image of 0005, search) sees ready media
-- only, without a change; and the statement triggers on product_media that
-- refresh documents and bump catalog_version (cache invalidation) fire for
-- exactly the writes shoppers can see. Both tables draw ids from
-- product_media's sequence, so a media id names one or the other.
--
-- The gallery is kept in order by these functions: positions 0..n-1 without
-- gaps, and the primary image (at most one, unique index of 0004) first, at
-- position 0, so the documents (ordered by position) show it first.
-- (Rows written by hand or by a seed may break this until the next gallery
-- write through the API renumbers them.)
--
-- Object-level authorization: every function checks that the caller works
-- for the product's store (nexus_store_role); another store's product or
-- media answers 404. Deleting ready media writes an outbox event with the
-- object key, for a worker to delete the object from the bucket.

ALTER TABLE product_media
    ADD COLUMN object_key text CHECK (length(object_key) BETWEEN 1 AND 1024),
    ADD COLUMN byte_size  bigint CHECK (byte_size > 0);

CREATE TABLE media_uploads (
    id           bigint PRIMARY KEY DEFAULT nextval('product_media_id_seq'),
    product_id   bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    object_key   text NOT NULL UNIQUE CHECK (length(object_key) BETWEEN 1 AND 1024),
    url          text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    content_type text NOT NULL
                 CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif')),
    byte_size    bigint NOT NULL CHECK (byte_size > 0),
    filename     text CHECK (length(filename) BETWEEN 1 AND 255),
    alt          text NOT NULL DEFAULT '' CHECK (length(alt) <= 500),
    created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX media_uploads_product_idx ON media_uploads (product_id, id);

-- The product if the caller works for its store, else NULL.
CREATE FUNCTION nexus_media_product(p_actor bigint, p_product_id bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT p.id FROM products p
             WHERE p.id = p_product_id
               AND nexus_store_role(p_actor, p.vendor_id) IS NOT NULL);
END
$$;

CREATE FUNCTION nexus_media_json(m product_media) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', m.id, 'product_id', m.product_id, 'status', 'ready',
                              'url', m.url, 'key', m.object_key,
                              'content_type', m.content_type, 'size', m.byte_size,
                              'alt', m.alt, 'position', m.position,
                              'is_primary', m.is_primary,
                              'width', m.width, 'height', m.height,
                              'created_at', nexus_json_ts(m.created_at))
$$;

CREATE FUNCTION nexus_media_upload_json(u media_uploads) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', u.id, 'product_id', u.product_id, 'status', 'pending',
                              'url', u.url, 'key', u.object_key,
                              'content_type', u.content_type, 'size', u.byte_size,
                              'filename', u.filename, 'alt', u.alt,
                              'created_at', nexus_json_ts(u.created_at),
                              'expires_at', nexus_json_ts(u.expires_at))
$$;

-- Renumbers a product's gallery: p_order (ids) first in that order, then
-- the rest by (primary first, position, id); positions 0..n-1.
CREATE FUNCTION nexus_media_renumber(p_product_id bigint, p_order bigint[] DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE product_media m SET position = o.pos
      FROM (SELECT x.id, (row_number() OVER (ORDER BY x.k, x.prim DESC, x.position, x.id) - 1)::int AS pos
              FROM (SELECT pm.id, pm.is_primary AS prim, pm.position,
                           coalesce(array_position(p_order, pm.id), 2147483647) AS k
                      FROM product_media pm WHERE pm.product_id = p_product_id) x) o
     WHERE m.id = o.id AND m.position IS DISTINCT FROM o.pos;
END
$$;

CREATE FUNCTION nexus_api_media_list(p_actor bigint, p_id text, p_id2 text,
                                     p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_pid bigint := nexus_media_product(p_actor, nexus_id(p_id));
BEGIN
    IF v_pid IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such product.');
    END IF;
    RETURN nexus_ok(200, jsonb_build_object(
        'items', coalesce((SELECT jsonb_agg(nexus_media_json(m) ORDER BY m.position, m.id)
                             FROM product_media m WHERE m.product_id = v_pid), '[]'),
        'pending', coalesce((SELECT jsonb_agg(nexus_media_upload_json(u) ORDER BY u.id)
                               FROM media_uploads u WHERE u.product_id = v_pid), '[]')));
END
$$;

CREATE FUNCTION nexus_api_media_create(p_actor bigint, p_id text, p_id2 text,
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
    RETURN nexus_ok(201, nexus_media_upload_json(u) || jsonb_build_object('media_id', u.id));
END
$$;

CREATE FUNCTION nexus_api_media_complete(p_actor bigint, p_id text, p_id2 text,
                                         p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    u media_uploads;
    m product_media;
BEGIN
    SELECT * INTO u FROM media_uploads WHERE id = nexus_id(p_id);
    IF NOT FOUND THEN
        -- completing twice answers the same
        SELECT * INTO m FROM product_media WHERE id = nexus_id(p_id);
        IF FOUND AND nexus_media_product(p_actor, m.product_id) IS NOT NULL THEN
            RETURN nexus_ok(200, nexus_media_json(m));
        END IF;
        RETURN nexus_err(404, 'not_found', 'No such media.');
    END IF;
    IF nexus_media_product(p_actor, u.product_id) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such media.');
    END IF;

    PERFORM 1 FROM products WHERE id = u.product_id FOR NO KEY UPDATE;
    -- the row may have moved while this waited for the lock
    DELETE FROM media_uploads WHERE id = u.id;
    IF NOT FOUND THEN
        SELECT * INTO m FROM product_media WHERE id = u.id;
        RETURN nexus_ok(200, nexus_media_json(m));
    END IF;
    -- an upload can start until the URL expires; an hour for it to finish
    IF u.expires_at < now() - interval '1 hour' THEN
        RETURN nexus_err(409, 'upload_expired',
                         'The upload URL expired; ask for a new one.');
    END IF;
    IF (SELECT count(*) FROM product_media WHERE product_id = u.product_id) >= 50 THEN
        RETURN nexus_err(409, 'gallery_full', 'A product has at most 50 images.');
    END IF;

    -- the first image of a product becomes its primary one
    INSERT INTO product_media (id, product_id, url, alt, position, is_primary,
                               content_type, object_key, byte_size)
    VALUES (u.id, u.product_id, u.url, u.alt,
            (SELECT count(*) FROM product_media WHERE product_id = u.product_id),
            NOT EXISTS (SELECT 1 FROM product_media
                         WHERE product_id = u.product_id AND is_primary),
            u.content_type, u.object_key, u.byte_size)
    RETURNING * INTO m;
    PERFORM nexus_media_renumber(u.product_id);
    SELECT * INTO m FROM product_media WHERE id = m.id;
    RETURN nexus_ok(200, nexus_media_json(m));
END
$$;

CREATE FUNCTION nexus_api_media_update(p_actor bigint, p_id text, p_id2 text,
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
    RETURN nexus_ok(200, nexus_media_json(m));
END
$$;

CREATE FUNCTION nexus_api_media_delete(p_actor bigint, p_id text, p_id2 text,
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
    RETURN nexus_ok(204, NULL);
END
$$;
