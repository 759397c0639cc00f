-- 0017 media: completing an upload checks the object in the bucket first.
--
-- POST /api/seller/media/{id}/complete now runs in three steps: the
-- read-only nexus_api_media_complete_check names the pending upload's object
-- key and presigned Content-Type (or answers the ready media when it was
-- completed already: completing twice answers the same), the module asks
-- S3 (HEAD) whether the object is there, of that type and within
-- nexus_s3_max_upload_size, and only then does nexus_api_media_complete
-- record it, in one transaction, with the byte size S3 reported (in
-- p_meta->'object', which the module alone fills in) rather than the size
-- the client announced when it asked for the upload. An upload whose object
-- is missing or unusable stays pending, so the client can upload again and
-- retry.

CREATE FUNCTION nexus_api_media_complete_check(p_actor bigint, p_id text, p_id2 text,
                                               p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u media_uploads;
    m product_media;
BEGIN
    SELECT * INTO u FROM media_uploads WHERE id = nexus_id(p_id);
    IF NOT FOUND THEN
        SELECT * INTO m FROM product_media WHERE id = nexus_id(p_id);
        IF FOUND AND nexus_media_product(p_actor, m.product_id) IS NOT NULL THEN
            RETURN nexus_ok(200, nexus_media_json(m));
        END IF;
        RETURN nexus_err(404, 'not_found', 'No such media.');
    END IF;
    IF nexus_media_product(p_actor, u.product_id) IS NULL THEN
        RETURN nexus_err(404, 'not_found', 'No such media.');
    END IF;
    -- the same rule as nexus_api_media_complete: no need to ask S3
    IF u.expires_at < now() - interval '1 hour' THEN
        RETURN nexus_err(409, 'upload_expired',
                         'The upload URL expired; ask for a new one.');
    END IF;
    RETURN nexus_ok(200, nexus_media_upload_json(u));
END
$$;

CREATE OR REPLACE FUNCTION nexus_api_media_complete(p_actor bigint, p_id text, p_id2 text,
                                                    p_body jsonb, p_meta jsonb)
RETURNS nexus_answer
LANGUAGE plpgsql AS $$
DECLARE
    u media_uploads;
    m product_media;
    v_size bigint := (p_meta->'object'->>'size')::bigint;
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
    -- only after the module asked S3 about this very object
    IF v_size IS NULL OR p_meta->'object'->>'key' IS DISTINCT FROM u.object_key THEN
        RAISE EXCEPTION 'nexus_api_media_complete: the object was not verified';
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
            u.content_type, u.object_key, v_size)
    RETURNING * INTO m;
    PERFORM nexus_media_renumber(u.product_id);
    SELECT * INTO m FROM product_media WHERE id = m.id;
    -- as 0016: an operator's completion is audited with the store
    PERFORM nexus_catalog_audit(p_actor, p_meta, nexus_product_vendor(u.product_id),
        'media.complete', 'media', m.id::text,
        jsonb_build_object('product_id', m.product_id, 'key', m.object_key));
    RETURN nexus_ok(200, nexus_media_json(m));
END
$$;
