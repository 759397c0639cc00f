-- 0010 faster catalog documents.
-- json_agg(... ORDER BY ...) sorts every group with a tuplesort of its own,
-- which costs more than the rows it orders (about 0.1 ms per aggregate). The
-- documents now aggregate subqueries whose ORDER BY follows an index, so the
-- rows arrive in order and no sort runs. Same output, byte for byte.

CREATE OR REPLACE FUNCTION nexus_api_product(p_slug text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
    SELECT json_build_object(
        'id', p.id,
        'slug', p.slug,
        'name', p.name,
        'description', p.description,
        'status', p.status,
        'currency', p.currency,
        'price', json_build_object('min', p.price_min, 'max', p.price_max, 'currency', p.currency),
        'in_stock', p.in_stock,
        'rating', json_build_object('average', p.rating_avg, 'count', p.rating_count),
        'created_at', nexus_json_ts(p.created_at),
        'updated_at', nexus_json_ts(p.updated_at),
        'vendor', json_build_object(
            'id', v.id, 'slug', v.slug, 'name', v.name,
            'rating', json_build_object('average', v.rating_avg, 'count', v.rating_count)),
        'categories', coalesce((
            SELECT json_agg(x.j) FROM (
                SELECT json_build_object('id', c.id, 'slug', c.slug, 'name', c.name,
                                         'is_primary', pc.is_primary) AS j
                  FROM product_categories pc JOIN categories c ON c.id = pc.category_id
                 WHERE pc.product_id = p.id
                 ORDER BY pc.is_primary DESC, c.position, c.name, c.id) x), '[]'::json),
        'tags', coalesce((
            SELECT json_agg(x.slug) FROM (
                SELECT t.slug
                  FROM product_tags pt JOIN tags t ON t.id = pt.tag_id
                 WHERE pt.product_id = p.id
                 ORDER BY t.slug) x), '[]'::json),
        'attributes', coalesce((
            SELECT json_agg(x.j) FROM (
                SELECT json_build_object('slug', a.slug, 'name', a.name, 'type', a.type,
                                         'value', pav.value) AS j
                  FROM product_attribute_values pav JOIN attributes a ON a.id = pav.attribute_id
                 WHERE pav.product_id = p.id
                 ORDER BY a.position, a.slug, pav.value) x), '[]'::json),
        'variants', coalesce((
            SELECT json_agg(x.j) FROM (
                SELECT json_build_object('id', pv.id, 'sku', pv.sku, 'title', pv.title,
                                         'options', pv.options, 'price', pv.price,
                                         'compare_at_price', pv.compare_at_price,
                                         'currency', pv.currency, 'in_stock', pv.stock > 0,
                                         'stock', pv.stock) AS j
                  FROM product_variants pv
                 WHERE pv.product_id = p.id AND pv.status = 'active'
                 ORDER BY pv.product_id, pv.position, pv.id) x), '[]'::json),
        'media', coalesce((
            SELECT json_agg(x.j) FROM (
                SELECT json_build_object('url', m.url, 'alt', m.alt, 'position', m.position,
                                         'is_primary', m.is_primary,
                                         'width', m.width, 'height', m.height) AS j
                  FROM product_media m
                 WHERE m.product_id = p.id
                 ORDER BY m.product_id, m.position, m.id) x), '[]'::json))
      FROM products p
      JOIN vendors v ON v.id = p.vendor_id
     WHERE p.slug = p_slug AND p.status = 'active' AND v.status = 'active');
END
$$;
