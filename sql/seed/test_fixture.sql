-- Nexus test fixture: small, hand-written, exact. Load with
--     scripts/seed --fixture            (or: psql -X -v ON_ERROR_STOP=1 -1 -f sql/seed/test_fixture.sql)
-- It first EMPTIES EVERY APPLICATION TABLE (users, orders, catalog, ... ; not
-- schema_migrations/roles) and restarts their id sequences, then inserts the
-- rows below through the normal triggers (so catalog_listing, counts, ratings
-- and stock_movements are produced by the same code paths production uses).
-- catalog_version_seq is never reset (it only moves forward).
--
-- USERS (all 'customer'; passwords are test-only, hashed with scrypt ln=10 so
-- a log-in also exercises the re-hash to the configured cost)
--   id email              name   password      roles / stores
--   1  alice@example.com  Alice  alice-pass-1  customer
--   2  bob@example.com    Bob    bob-pass-12   owner of acme (1)
--   3  carol@example.com  Carol  carol-pass-1  owner of globex (2); e-mail not verified
--   4  dave@example.com   Dave   dave-pass-12  admin (platform operator)
--   5  erin@example.com   Erin   erin-pass-12  staff of acme (1)
--
-- VENDORS (currency USD, created_at 2023-06-01T00:00:00Z)
--   id slug    name                  status     country  rating (from approved reviews)
--   1  acme    Acme Outfitters       active     US       4.00 / 3
--   2  globex  Globex Electronics    active     DE       5.00 / 1
--   3  shady   Shady Deals           suspended  US       0.00 / 0   (its products are invisible)
--
-- CATEGORIES (id slug "name" parent position)
--   1 apparel     "Apparel"      -        0
--   2 shirts      "Shirts"       apparel  0
--   3 t-shirts    "T-Shirts"     shirts   0
--   4 shoes       "Shoes"        apparel  1
--   5 electronics "Electronics"  -        1
--   tree order: apparel(shirts(t-shirts), shoes), electronics
--
-- TAGS: 1 organic "Organic", 2 sale "Sale"
-- ATTRIBUTES: 1 color "Color" (choice), 2 material "Material" (text)
--
-- PRODUCTS (all USD; created_at = 2024-01-DD T10:00:00Z where DD = id; updated_at = created_at)
--  id slug                vendor status   categories (*primary)        variants: sku price stock         tags          attributes
--   1 classic-tee         acme   active   t-shirts*                    ACME-TEE-S 1999 10, ACME-TEE-M 1999 5,
--                                                                      ACME-TEE-L 2199 0                  organic       color=red, material=cotton
--   2 organic-cotton-tee  acme   active   t-shirts*, shirts            ACME-OCT-1 2499 20 (compare 2999)  organic, sale color=blue, material=cotton
--   3 oxford-shirt        globex active   shirts*                      GLX-OXF-1 4999 7                   -             color=blue
--   4 running-shoe        acme   active   shoes*                       ACME-RUN-42 8999 3 (compare 10999),
--                                                                      ACME-RUN-43 9999 2                 sale          color=blue, color=red
--   5 leather-boot        globex active   shoes*                       GLX-BOOT-1 14999 0  (OUT OF STOCK) -             -
--   6 wireless-headphones globex active   electronics*                 GLX-WH-1 12999 15 (compare 15999)  sale          color=blue
--   7 usb-c-cable         acme   active   electronics*                 ACME-USB-1 999 100                 -             -
--   8 smart-watch         globex active   electronics*, apparel        GLX-SW-1 19999 4                   -             -
--   9 archived-jacket     acme   ARCHIVED shirts*                      ACME-JKT-1 5999 3                  -             -   (invisible)
--  10 draft-hoodie        acme   DRAFT    t-shirts*                    ACME-HOOD-1 3999 3                 -             -   (invisible)
--  11 shady-gadget        shady  active   electronics*                 SHADY-1 499 50                     -             -   (invisible: vendor suspended)
--  12 cafe-creme-tee      acme   active   t-shirts*                    ACME-CAFE-1 2199 8                 organic       -
--        name: Café "Crème" Tee — ünïcødé ☕      (quotes, unicode, emoji)
--        description: two lines with "quotes", a backslash \ and a tab
--  13 no-variant-cap      acme   active   t-shirts*                    ACME-CAP-1 1499 5 but status 'inactive'
--        -> nexus_api_product returns it (price min/max null, variants []), but it is
--           NOT in catalog_listing and not counted (no active variant = no price).
--   Variant ids: p1: 1,2,3 (positions 0,1,2); p2: 4; p3: 5; p4: 6,7; p5: 8; p6: 9;
--   p7: 10; p8: 11; p9: 12; p10: 13; p11: 14; p12: 15; p13: 16.
--   Variant options: p1 {"size":"S"|"M"|"L"} titles "S","M","L"; p4 {"size":"42"|"43"};
--   all others {} with title "Default".
--
-- DERIVED (what the listing / API must show)
--   price_min/price_max: 1: 1999/2199  2: 2499/2499  3: 4999  4: 8999/9999  5: 14999
--                        6: 12999  7: 999  8: 19999  12: 2199
--   compare_at_price (of the cheapest active variant): 2: 2999, 4: 10999, 6: 15999, others null
--   in_stock: false only for 5 (leather-boot)
--   ratings (approved reviews only): 1: 4.50 / 2 (alice 5, bob 4; carol's 1 is pending)
--                                    2: 3.00 / 1 (alice 3)   6: 5.00 / 1 (bob 5); others 0.00 / 0
--   image_url: 1 -> https://images.example.com/products/classic-tee-2.jpg (position 1 but primary)
--              n -> https://images.example.com/products/<slug>-1.jpg for 2..8; 12 -> NULL (no media)
--   Visible (listed) products: 1,2,3,4,5,6,7,8,12 (9)
--   Listing scope counts: 0 (all): 9, apparel: 7 (1,2,3,4,5,8,12), shirts: 4 (1,2,3,12),
--     t-shirts: 3 (1,2,12), shoes: 2 (4,5), electronics: 3 (6,7,8)
--   Vendor product_count: acme 5 (1,2,4,7,12), globex 4 (3,5,6,8)
--   Scope 0 by price: 7 (999), 1 (1999), 12 (2199), 2 (2499), 3 (4999), 4 (8999),
--     6 (12999), 5 (14999), 8 (19999)
--   Scope 0 newest first: 12, 8, 7, 6, 5, 4, 3, 2, 1
--   Tag filters: organic -> 1, 2, 12; sale -> 2, 4, 6
--   Attribute filters: color=red -> 1, 4; color=blue -> 2, 3, 4, 6
--   tag_slugs / attr_values arrays are sorted, e.g. product 4: {sale} / {color=blue,color=red}

SET client_min_messages = warning;

-- ---------------------------------------------------------------------------
-- Empty every application table (keep schema_migrations, roles and the
-- platform settings, which hold their defaults).
DO $$
DECLARE
    tables text;
BEGIN
    SELECT string_agg(format('%I.%I', schemaname, tablename), ', ')
      INTO tables
      FROM pg_tables
     WHERE schemaname = current_schema()
       AND tablename NOT IN ('schema_migrations', 'roles', 'platform_settings');
    EXECUTE 'TRUNCATE ' || tables || ' RESTART IDENTITY CASCADE';
END
$$;
ALTER SEQUENCE order_number_seq RESTART;
UPDATE platform_settings SET value = CASE key
        WHEN 'store_name' THEN '"Nexus"' WHEN 'support_email' THEN 'null'
        WHEN 'registration_open' THEN 'true' ELSE '"USD"' END::jsonb,
    updated_by = NULL;

-- ---------------------------------------------------------------------------
INSERT INTO users (id, email, name, email_verified_at, created_at, updated_at, password_hash) VALUES
    (1, 'alice@example.com', 'Alice', '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z',
     '$scrypt$ln=10,r=8,p=1$wGfbTx6P4PwKyRCLcLis7A$kakhA3GZ0yAeX5LAI869POzSRpdylwbPuR5v/QW4p7Q'),
    (2, 'bob@example.com',   'Bob',   '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z',
     '$scrypt$ln=10,r=8,p=1$5cea53pKl7gZBDCiKs0VhA$pUrGsdRUtfBa0dBZXs0q+TllQEaHzLpBg1AZ6geh5A0'),
    (3, 'carol@example.com', 'Carol', NULL,                   '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z',
     '$scrypt$ln=10,r=8,p=1$BLDEnl7ShsMEY0BZrxxEXQ$jaYQrA/obpmeDegKrtS9jxTQG3ogmyT0WOkaJFkmH8c'),
    (4, 'dave@example.com',  'Dave',  '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z',
     '$scrypt$ln=10,r=8,p=1$lWSgonev11EEFo+TVAw/wA$FbWBeSwWUR+6ld8d3FvzzDQpSHPsdE4inDasjHUzAO8'),
    (5, 'erin@example.com',  'Erin',  '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z',
     '$scrypt$ln=10,r=8,p=1$zoQz7szuCG3j0CRzgu1/PA$e/BQ9oaxjMpELB8Cj9Ro4qnaTEtVo9IJcc7HyNvxxvA');
INSERT INTO user_roles (user_id, role) VALUES
    (1, 'customer'), (2, 'customer'), (3, 'customer'), (4, 'customer'), (4, 'admin'), (5, 'customer');

INSERT INTO vendors (id, slug, name, description, logo_url, website, country, status,
                     contact_email, currency, commission_rate_bps, approved_at, created_at, updated_at) VALUES
    (1, 'acme', 'Acme Outfitters', 'Everyday clothing and gear.',
        'https://images.example.com/vendors/acme.png', 'https://acme.example.com', 'US', 'active',
        'shop@acme.example.com', 'USD', 1000, '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z'),
    (2, 'globex', 'Globex Electronics', 'Gadgets that work.',
        'https://images.example.com/vendors/globex.png', 'https://globex.example.com', 'DE', 'active',
        'sales@globex.example.com', 'USD', 1200, '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z'),
    (3, 'shady', 'Shady Deals', 'Suspended for policy violations.',
        NULL, NULL, 'US', 'suspended',
        NULL, 'USD', 1000, NULL, '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z');

INSERT INTO vendor_staff (vendor_id, user_id, role) VALUES
    (1, 2, 'owner'), (2, 3, 'owner'), (1, 5, 'staff');

INSERT INTO categories (id, parent_id, slug, name, description, position, created_at, updated_at) VALUES
    (1, NULL, 'apparel',     'Apparel',     'Clothing and shoes.',        0, '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z'),
    (2, 1,    'shirts',      'Shirts',      'Shirts of every kind.',      0, '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z'),
    (3, 2,    't-shirts',    'T-Shirts',    'Short sleeves, soft cotton.', 0, '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z'),
    (4, 1,    'shoes',       'Shoes',       'Footwear.',                  1, '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z'),
    (5, NULL, 'electronics', 'Electronics', 'Gadgets and accessories.',   1, '2023-06-01T00:00:00Z', '2023-06-01T00:00:00Z');

INSERT INTO tags (id, slug, name) VALUES (1, 'organic', 'Organic'), (2, 'sale', 'Sale');
INSERT INTO attributes (id, slug, name, type, choices, position) VALUES
    (1, 'color', 'Color', 'choice', NULL, 0),
    (2, 'material', 'Material', 'text', NULL, 1);

INSERT INTO products (id, vendor_id, slug, name, description, status, currency, created_at, updated_at) VALUES
    (1,  1, 'classic-tee',         'Classic Tee',         'A plain, soft cotton tee.', 'active', 'USD', '2024-01-01T10:00:00Z', '2024-01-01T10:00:00Z'),
    (2,  1, 'organic-cotton-tee',  'Organic Cotton Tee',  'Certified organic cotton.', 'active', 'USD', '2024-01-02T10:00:00Z', '2024-01-02T10:00:00Z'),
    (3,  2, 'oxford-shirt',        'Oxford Shirt',        'Button-down oxford cloth shirt.', 'active', 'USD', '2024-01-03T10:00:00Z', '2024-01-03T10:00:00Z'),
    (4,  1, 'running-shoe',        'Running Shoe',        'Light and fast.', 'active', 'USD', '2024-01-04T10:00:00Z', '2024-01-04T10:00:00Z'),
    (5,  2, 'leather-boot',        'Leather Boot',        'Full-grain leather.', 'active', 'USD', '2024-01-05T10:00:00Z', '2024-01-05T10:00:00Z'),
    (6,  2, 'wireless-headphones', 'Wireless Headphones', 'Noise cancelling, 30 h battery.', 'active', 'USD', '2024-01-06T10:00:00Z', '2024-01-06T10:00:00Z'),
    (7,  1, 'usb-c-cable',         'USB-C Cable',         '1 m, braided.', 'active', 'USD', '2024-01-07T10:00:00Z', '2024-01-07T10:00:00Z'),
    (8,  2, 'smart-watch',         'Smart Watch',         'Tracks steps and sleep.', 'active', 'USD', '2024-01-08T10:00:00Z', '2024-01-08T10:00:00Z'),
    (9,  1, 'archived-jacket',     'Archived Jacket',     'No longer sold.', 'archived', 'USD', '2024-01-09T10:00:00Z', '2024-01-09T10:00:00Z'),
    (10, 1, 'draft-hoodie',        'Draft Hoodie',        'Not published yet.', 'draft', 'USD', '2024-01-10T10:00:00Z', '2024-01-10T10:00:00Z'),
    (11, 3, 'shady-gadget',        'Shady Gadget',        'Too good to be true.', 'active', 'USD', '2024-01-11T10:00:00Z', '2024-01-11T10:00:00Z'),
    (12, 1, 'cafe-creme-tee',      E'Caf\u00e9 "Cr\u00e8me" Tee \u2014 \u00fcn\u00efc\u00f8d\u00e9 \u2615',
            E'Line one with "quotes".\nLine two with a backslash \\ and a\ttab.',
            'active', 'USD', '2024-01-12T10:00:00Z', '2024-01-12T10:00:00Z'),
    (13, 1, 'no-variant-cap',      'No-Variant Cap',      'Its only variant is inactive.', 'active', 'USD', '2024-01-13T10:00:00Z', '2024-01-13T10:00:00Z');

INSERT INTO product_variants (id, product_id, sku, title, options, price, compare_at_price, currency, stock, status, position) VALUES
    (1,  1,  'ACME-TEE-S',  'S',       '{"size":"S"}',  1999, NULL,  'USD', 10,  'active',   0),
    (2,  1,  'ACME-TEE-M',  'M',       '{"size":"M"}',  1999, NULL,  'USD', 5,   'active',   1),
    (3,  1,  'ACME-TEE-L',  'L',       '{"size":"L"}',  2199, NULL,  'USD', 0,   'active',   2),
    (4,  2,  'ACME-OCT-1',  'Default', '{}',            2499, 2999,  'USD', 20,  'active',   0),
    (5,  3,  'GLX-OXF-1',   'Default', '{}',            4999, NULL,  'USD', 7,   'active',   0),
    (6,  4,  'ACME-RUN-42', '42',      '{"size":"42"}', 8999, 10999, 'USD', 3,   'active',   0),
    (7,  4,  'ACME-RUN-43', '43',      '{"size":"43"}', 9999, NULL,  'USD', 2,   'active',   1),
    (8,  5,  'GLX-BOOT-1',  'Default', '{}',            14999, NULL, 'USD', 0,   'active',   0),
    (9,  6,  'GLX-WH-1',    'Default', '{}',            12999, 15999, 'USD', 15, 'active',   0),
    (10, 7,  'ACME-USB-1',  'Default', '{}',            999,  NULL,  'USD', 100, 'active',   0),
    (11, 8,  'GLX-SW-1',    'Default', '{}',            19999, NULL, 'USD', 4,   'active',   0),
    (12, 9,  'ACME-JKT-1',  'Default', '{}',            5999, NULL,  'USD', 3,   'active',   0),
    (13, 10, 'ACME-HOOD-1', 'Default', '{}',            3999, NULL,  'USD', 3,   'active',   0),
    (14, 11, 'SHADY-1',     'Default', '{}',            499,  NULL,  'USD', 50,  'active',   0),
    (15, 12, 'ACME-CAFE-1', 'Default', '{}',            2199, NULL,  'USD', 8,   'active',   0),
    (16, 13, 'ACME-CAP-1',  'Default', '{}',            1499, NULL,  'USD', 5,   'inactive', 0);

INSERT INTO product_categories (product_id, category_id, is_primary) VALUES
    (1, 3, true), (2, 3, true), (2, 2, false), (3, 2, true), (4, 4, true), (5, 4, true),
    (6, 5, true), (7, 5, true), (8, 5, true), (8, 1, false), (9, 2, true), (10, 3, true),
    (11, 5, true), (12, 3, true), (13, 3, true);

INSERT INTO product_tags (product_id, tag_id) VALUES
    (1, 1), (2, 1), (2, 2), (4, 2), (6, 2), (12, 1);

INSERT INTO product_attribute_values (product_id, attribute_id, value) VALUES
    (1, 1, 'red'), (1, 2, 'cotton'), (2, 1, 'blue'), (2, 2, 'cotton'), (3, 1, 'blue'),
    (4, 1, 'blue'), (4, 1, 'red'), (6, 1, 'blue');

INSERT INTO product_media (id, product_id, url, alt, position, is_primary, width, height) VALUES
    (1, 1, 'https://images.example.com/products/classic-tee-1.jpg', 'Classic Tee, front', 0, false, 1200, 1200),
    (2, 1, 'https://images.example.com/products/classic-tee-2.jpg', 'Classic Tee, model', 1, true, 1200, 1600),
    (3, 2, 'https://images.example.com/products/organic-cotton-tee-1.jpg', 'Organic Cotton Tee', 0, true, 1200, 1200),
    (4, 3, 'https://images.example.com/products/oxford-shirt-1.jpg', 'Oxford Shirt', 0, true, 1200, 1200),
    (5, 4, 'https://images.example.com/products/running-shoe-1.jpg', 'Running Shoe', 0, true, 1200, 1200),
    (6, 5, 'https://images.example.com/products/leather-boot-1.jpg', 'Leather Boot', 0, true, 1200, 1200),
    (7, 6, 'https://images.example.com/products/wireless-headphones-1.jpg', 'Wireless Headphones', 0, true, 1200, 1200),
    (8, 7, 'https://images.example.com/products/usb-c-cable-1.jpg', 'USB-C Cable', 0, true, 1200, 1200),
    (9, 8, 'https://images.example.com/products/smart-watch-1.jpg', 'Smart Watch', 0, true, 1200, 1200);

INSERT INTO reviews (id, product_id, user_id, rating, title, body, status, created_at, updated_at) VALUES
    (1, 1, 1, 5, 'Love it', 'Soft and fits well.', 'approved', '2024-02-01T00:00:00Z', '2024-02-01T00:00:00Z'),
    (2, 1, 2, 4, 'Good', 'Runs a bit small.', 'approved', '2024-02-02T00:00:00Z', '2024-02-02T00:00:00Z'),
    (3, 1, 3, 1, 'Meh', 'Pending moderation.', 'pending', '2024-02-03T00:00:00Z', '2024-02-03T00:00:00Z'),
    (4, 2, 1, 3, 'OK', 'Fine.', 'approved', '2024-02-04T00:00:00Z', '2024-02-04T00:00:00Z'),
    (5, 6, 2, 5, 'Great sound', 'Worth it.', 'approved', '2024-02-05T00:00:00Z', '2024-02-05T00:00:00Z');

-- Deterministic updated_at (the derived-column triggers touched the rows).
-- (nexus_set_updated_at treats "set to the unchanged value" as "not set",
-- hence the WHERE clauses.)
UPDATE products SET updated_at = created_at WHERE updated_at <> created_at;
UPDATE product_variants SET updated_at = '2024-01-01T00:00:00Z', created_at = '2024-01-01T00:00:00Z';
UPDATE vendors SET updated_at = created_at WHERE updated_at <> created_at;

-- Explicit ids were used: move the sequences past them.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'vendors', 'categories', 'tags', 'attributes', 'products',
                             'product_variants', 'product_media', 'reviews'] LOOP
        EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''), (SELECT max(id) FROM %I))', t, t);
    END LOOP;
END
$$;

-- The fixture must be self-consistent: fail loudly otherwise.
DO $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM catalog_listing_verify();
    IF n > 0 THEN
        RAISE EXCEPTION 'fixture: catalog_listing has % inconsistencies', n;
    END IF;
    SELECT count(*) INTO n FROM catalog_listing WHERE category_id = 0;
    IF n <> 9 THEN
        RAISE EXCEPTION 'fixture: expected 9 listed products, got %', n;
    END IF;
END
$$;
