-- 0006 catalog API: the JSON documents the module serves as-is.
-- All STABLE, one statement each, NULL when not found / not visible.
-- PL/pgSQL (not SQL) on purpose: PL/pgSQL caches the plan per connection,
-- a non-inlinable SQL function is re-planned on every call in PostgreSQL 15.
-- Timestamps: nexus_json_ts() => "2024-03-01T09:30:00Z". Money: integers in
-- minor units. rating.average: number with 2 decimals (e.g. 4.50).

-- The product document (nexus_api_product) is precomputed: see
-- 0010_product_documents.sql.

-- Active vendor by slug. product_count = visible products listed
-- (catalog_listing scope 0), read from catalog_listing_counts.
CREATE FUNCTION nexus_api_vendor(p_slug text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
    SELECT json_build_object(
        'id', v.id,
        'slug', v.slug,
        'name', v.name,
        'description', v.description,
        'logo_url', v.logo_url,
        'website', v.website,
        'country', v.country,
        'rating', json_build_object('average', v.rating_avg, 'count', v.rating_count),
        'product_count', coalesce((
            SELECT c.product_count FROM catalog_listing_counts c
             WHERE c.category_id = 0 AND c.vendor_id = v.id), 0),
        'created_at', nexus_json_ts(v.created_at))
      FROM vendors v
     WHERE v.slug = p_slug AND v.status = 'active');
END
$$;

-- Visible products in a category scope (the category and all descendants).
CREATE FUNCTION nexus_category_product_count(p_category_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(product_count), 0)::bigint
      FROM catalog_listing_counts WHERE category_id = p_category_id
$$;

-- Category by slug, with breadcrumb (ancestors root first, excluding itself),
-- children ordered by position then name, and product counts.
CREATE FUNCTION nexus_api_category(p_slug text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
    SELECT json_build_object(
        'id', c.id,
        'slug', c.slug,
        'name', c.name,
        'description', c.description,
        'parent', (SELECT json_build_object('slug', pa.slug, 'name', pa.name)
                     FROM categories pa WHERE pa.id = c.parent_id),
        'ancestors', coalesce((
            SELECT json_agg(json_build_object('slug', a.slug, 'name', a.name) ORDER BY cc.depth DESC)
              FROM category_closure cc JOIN categories a ON a.id = cc.ancestor_id
             WHERE cc.descendant_id = c.id AND cc.depth > 0), '[]'::json),
        'children', coalesce((
            SELECT json_agg(json_build_object('slug', ch.slug, 'name', ch.name,
                                              'product_count', (
                                                  SELECT coalesce(sum(n.product_count), 0)
                                                    FROM catalog_listing_counts n
                                                   WHERE n.category_id = ch.id))
                            ORDER BY ch.position, ch.name, ch.id)
              FROM categories ch WHERE ch.parent_id = c.id), '[]'::json),
        'product_count', (SELECT coalesce(sum(n.product_count), 0)
                            FROM catalog_listing_counts n WHERE n.category_id = c.id))
      FROM categories c
     WHERE c.slug = p_slug);
END
$$;

-- Whole tree: array of roots, each {id, slug, name, product_count, children},
-- children recursively, siblings ordered by position, name. Never NULL
-- ('[]' for an empty catalog). One statement: nodes in depth-first order,
-- each emits its opening text and closes as many levels as the next node
-- climbs (the text is then parsed as json, which also validates it).
CREATE FUNCTION nexus_api_category_tree() RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
    WITH RECURSIVE sib AS (
        SELECT c.id, c.parent_id, c.slug, c.name,
               row_number() OVER (PARTITION BY c.parent_id ORDER BY c.position, c.name, c.id) AS rn
          FROM categories c
    ), t AS (
        SELECT id, slug, name, ARRAY[rn] AS path, 0 AS depth FROM sib WHERE parent_id IS NULL
        UNION ALL
        SELECT s.id, s.slug, s.name, t.path || s.rn, t.depth + 1
          FROM t JOIN sib s ON s.parent_id = t.id
    ), o AS (
        SELECT t.*,
               lead(t.depth, 1, 0) OVER w AS next_depth,
               row_number() OVER w = count(*) OVER () AS is_last,
               coalesce(n.product_count, 0) AS product_count
          FROM t
          LEFT JOIN (SELECT category_id, sum(product_count) AS product_count
                       FROM catalog_listing_counts GROUP BY category_id) n ON n.category_id = t.id
        WINDOW w AS (ORDER BY t.path)
    )
    SELECT ('[' || coalesce(string_agg(
               '{"id":' || o.id || ',"slug":' || to_json(o.slug)::text
               || ',"name":' || to_json(o.name)::text
               || ',"product_count":' || o.product_count || ',"children":['
               || CASE WHEN o.next_depth > o.depth THEN ''
                       ELSE repeat(']}', o.depth - o.next_depth + 1)
                            || CASE WHEN o.is_last THEN '' ELSE ',' END END,
               '' ORDER BY o.path), '') || ']')::json
      FROM o);
END
$$;
