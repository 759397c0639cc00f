# Seller catalog management: products and variants of the caller's stores
# (create, read, list, edit, archive), every validation failure with its
# path, duplicate SKUs and slugs, another store's product (404), audit rows
# and the initial stock movement; every write reaches the public catalog
# at once, through the Redis cache (nexus_cache on), because the writes go
# through the catalog triggers that bump the catalog version. Approval is
# off here (the default); t/061-admin-catalog.t turns it on.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;
use JSON::PP ();

Nexus::Test::ctl_server();
Nexus::Test::reset_fixture();
END { Nexus::Test::reset_fixture() if $ENV{NEXUS_TEST_PG_PORT} }

# erin (5) also works for globex as staff: she must name a store
Nexus::Test::psql("INSERT INTO vendor_staff (vendor_id, user_id, role) VALUES (2, 5, 'staff')");

our %Tok = Nexus::Test::access_tokens(alice => 1, bob => 2, carol => 3,
    dave => 4, erin => 5);

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_' . ($block->http_config // ''));
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
_EOC_

    $block->set_value("config", <<'_EOC_') unless defined $block->config;
    location /api/ {
        nexus_api;
        nexus_cache on;
        nexus_cache_ttl 60s;
    }
    location /_ctl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT;
        proxy_read_timeout 30s;
    }
_EOC_

    $block->set_value("init", "Nexus::Test::redis_flush(); Time::HiRes::sleep(0.4);")
        unless defined $block->init;

    # a loaded machine (the whole suite, other suites) must not fail a block
    $block->set_value("timeout", 15) unless defined $block->timeout;

    Nexus::Test::expand_who($block, \%main::Tok);
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: create: slug from the name, store implied, categories (first primary), tags, typed attributes, options and variants; initial stock is a received movement; audited; visible at once through the cache
--- request eval
['GET /api/products?category=shoes',
 'GET /api/products?category=shoes',
 '[bob] POST /api/seller/products
{"name": "Trail Runner X", "description": "Grippy.", "status": "active",
 "categories": ["shoes", 5], "tags": ["sale"],
 "attributes": {"color": ["red", "blue"], "material": "mesh"},
 "options": ["size"],
 "variants": [{"sku": "ACME-TRX-42", "options": {"size": "42"}, "price": 7999,
               "compare_at_price": 8999, "weight_grams": 300, "stock": 4},
              {"sku": "ACME-TRX-43", "title": "Size 43", "options": {"size": "43"},
               "price": 8499}]}',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products?category=shoes',
 'GET /api/products/trail-runner-x',
 "POST /_ctl/sql
SELECT v.sku, m.delta, m.reason, m.actor_user_id FROM stock_movements m
  JOIN product_variants v ON v.id = m.variant_id WHERE v.sku LIKE 'ACME-TRX%';
SELECT actor_user_id, action, entity_type, details->>'slug' FROM audit_log ORDER BY id;
SELECT count(*) FROM catalog_listing_verify()"]
--- error_code eval
[200, 200, 201, 200, 200, 200, 200]
--- response_headers eval
['X-Cache: MISS', 'X-Cache: HIT', '', '', 'X-Cache: MISS', 'X-Cache: MISS', '']
--- response_body_like eval
['^(?!.*trail-runner-x)',
 '^(?!.*trail-runner-x)',
 '^\{"id": 14, "name": "Trail Runner X", "slug": "trail-runner-x", "tags": \["sale"\], "status": "active", "options": \["size"\], "approval": null, "currency": "USD", "store_id": 1, "variants": \[\{"id": 17, "sku": "ACME-TRX-42", "price": 7999, "stock": 4, "title": "42", "status": "active", "options": \{"size": "42"\}, "currency": "USD", "position": 0, "product_id": 14, "weight_grams": 300, "compare_at_price": 8999\}, \{"id": 18, "sku": "ACME-TRX-43", "price": 8499, "stock": 0, "title": "Size 43", "status": "active", "options": \{"size": "43"\}, "currency": "USD", "position": 1, "product_id": 14, "weight_grams": null, "compare_at_price": null\}\], "attributes": \{"color": \["blue", "red"\], "material": "mesh"\}, "categories": \[\{"id": 4, "slug": "shoes", "primary": true\}, \{"id": 5, "slug": "electronics", "primary": false\}\], "created_at": "[0-9T:-]+Z", "updated_at": "[0-9T:-]+Z", "description": "Grippy."\}$',
 'ok',
 '"slug" : "trail-runner-x"',
 '"name" : "Trail Runner X"',
 '^ACME-TRX-42\|4\|received\|2\n2\|product.create\|product\|trail-runner-x\n0\n$']
--- no_error_log
[error]



=== TEST 2: validation: every invalid member with its path, in one answer; nothing written
--- request eval
['[bob] POST /api/seller/products
{"name": "Bad", "categories": ["nope", 99, 4, 4], "tags": ["sale", "zzz"],
 "attributes": {"color": 7, "material": ["a", "b"], "weight": "1"},
 "options": ["size"],
 "variants": [{"sku": "OK-1", "options": {"size": "1"}, "price": 100},
              {"sku": "bad sku", "options": {"colour": "x"}, "price": -5,
               "compare_at_price": 3, "weight_grams": "heavy", "status": "gone",
               "extra": 1},
              {"sku": "OK-1", "options": {"size": "2"}, "price": 100,
               "compare_at_price": 100}]}',
 '[bob] POST /api/seller/products
{"name": "", "status": "pending", "tags": "sale", "variants": {}, "options": "size"}',
 '[bob] POST /api/seller/products
{"name": "No Such Store", "store_id": 2}',
 '[erin] POST /api/seller/products
{"name": "Which Store"}',
 "POST /_ctl/sql
SELECT count(*) FROM products; SELECT count(*) FROM product_variants"]
--- error_code eval
[422, 422, 422, 422, 200]
--- response_body_like eval
['"code":"invalid_body",.*"invalid_params":\[\{"name":"categories\[0\]","reason":"is not a known category"\},\{"name":"categories\[1\]","reason":"is not a known category"\},\{"name":"categories\[3\]","reason":"is listed twice"\},\{"name":"tags\[1\]","reason":"is not a known tag"\},\{"name":"attributes.color","reason":"must be a string of 1 to 200 characters"\},\{"name":"attributes.weight","reason":"is not a known attribute"\},\{"name":"attributes.material","reason":"must be a string of 1 to 200 characters"\},\{"name":"variants\[1\].extra","reason":"is not a known field"\},\{"name":"variants\[1\].sku","reason":"must be 1 to 64 letters, digits, \\\\".\\\\", \\\\"_\\\\" or \\\\"-\\\\""\},\{"name":"variants\[1\].options","reason":"must name exactly the product\'s options: size"\},\{"name":"variants\[1\].price","reason":"must be a whole number of minor units, 0 or more"\},\{"name":"variants\[1\].weight_grams","reason":"must be a whole number, 0 or more"\},\{"name":"variants\[1\].status","reason":"must be active or inactive"\},\{"name":"variants\[2\].compare_at_price","reason":"must be greater than price"\},\{"name":"variants\[2\].sku","reason":"is listed twice"\}\]',
 '"invalid_params":\[\{"name":"name","reason":"must not be empty"\},\{"name":"status","reason":"is not one of the allowed values"\},\{"name":"tags","reason":"must be an array"\},\{"name":"options","reason":"must be an array"\},\{"name":"variants","reason":"must be an array"\}\]',
 '"invalid_params":\[\{"name":"store_id","reason":"is not one of your stores"\}\]',
 '"invalid_params":\[\{"name":"store_id","reason":"is required: you work for several stores"\}\]',
 '^14\n18\n$']
--- no_error_log
[error]



=== TEST 3: conflicts: a taken SKU (409 naming it), a taken slug; a generated slug gets a suffix instead
--- request eval
['[bob] POST /api/seller/products
{"name": "Dup", "variants": [{"sku": "NEW-1", "price": 1}, {"sku": "GLX-OXF-1", "price": 1}]}',
 '[bob] POST /api/seller/products
{"name": "Dup", "slug": "classic-tee"}',
 '[bob] POST /api/seller/products
{"name": "Classic Tee!", "slug": null}',
 '[bob] POST /api/seller/products/14/variants
{"sku": "ACME-TRX-42", "options": {"size": "44"}, "price": 1}',
 '[bob] PATCH /api/seller/variants/17
{"sku": "ACME-TEE-S"}',
 '[bob] PATCH /api/seller/products/14
{"slug": "classic-tee"}']
--- error_code eval
[409, 409, 201, 409, 409, 409]
--- response_body_like eval
['"code":"sku_taken","detail":"SKU GLX-OXF-1 is already in use.","sku":"GLX-OXF-1"',
 '"code":"slug_taken"',
 '"slug": "classic-tee-2".*"status": "draft"',
 '"code":"sku_taken","detail":"SKU ACME-TRX-42 is already in use."',
 '"code":"sku_taken","detail":"SKU ACME-TEE-S is already in use."',
 '"code":"slug_taken"']
--- no_error_log
[error]



=== TEST 4: another store's product or variant is not found (GET, PATCH, variants); a customer is refused; nothing changes
--- request eval
['[carol] GET /api/seller/products/14',
 '[carol] PATCH /api/seller/products/14
{"name": "Mine Now"}',
 '[carol] POST /api/seller/products/14/variants
{"sku": "CAROL-1", "options": {"size": "1"}, "price": 1}',
 '[carol] PATCH /api/seller/variants/17
{"price": 1}',
 '[carol] GET /api/seller/products/abc',
 '[alice] GET /api/seller/products',
 '[carol] GET /api/seller/products?store=1',
 "POST /_ctl/sql
SELECT name FROM products WHERE id = 14; SELECT price FROM product_variants WHERE id = 17;
SELECT count(*) FROM product_variants WHERE sku = 'CAROL-1'"]
--- error_code eval
[404, 404, 404, 404, 404, 403, 404, 200]
--- response_body_like eval
['"code":"not_found","detail":"No such product."',
 '"code":"not_found","detail":"No such product."',
 '"code":"not_found","detail":"No such product."',
 '"code":"not_found","detail":"No such variant."',
 '"code":"not_found"',
 '"code":"forbidden"',
 '"code":"not_found","detail":"No such store."',
 '^Trail Runner X\n7999\n0\n$']
--- no_error_log
[error]



=== TEST 5: staff edit: rename, description, categories, tags, attributes; the cached product page and category lists follow at once; the slug stays; audited
--- request eval
['GET /api/products/trail-runner-x',
 'GET /api/products/trail-runner-x',
 'GET /api/products?category=electronics',
 '[erin] PATCH /api/seller/products/14
{"name": "Trail Runner Y", "categories": ["t-shirts"], "tags": ["organic"],
 "attributes": {"color": null, "material": "canvas"}}',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products/trail-runner-x',
 'GET /api/products?category=electronics',
 'GET /api/products?category=t-shirts',
 "POST /_ctl/sql
SELECT actor_user_id, action, details->>'fields' FROM audit_log WHERE action <> 'product.create' ORDER BY id"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_headers eval
['X-Cache: MISS', 'X-Cache: HIT', 'X-Cache: MISS', '', '', 'X-Cache: MISS', 'X-Cache: MISS', 'X-Cache: MISS', '']
--- response_body_like eval
['"name" : "Trail Runner X"',
 '"name" : "Trail Runner X"',
 '"slug" : "trail-runner-x"',
 '"name": "Trail Runner Y", "slug": "trail-runner-x", "tags": \["organic"\].*"attributes": \{"material": "canvas"\}, "categories": \[\{"id": 3, "slug": "t-shirts", "primary": true\}\]',
 'ok',
 '"name" : "Trail Runner Y"',
 '^(?!.*trail-runner-x)',
 '"slug" : "trail-runner-x"',
 '^5\|product.update\|\["attributes", "categories", "name", "tags"\]\n$']
--- no_error_log
[error]



=== TEST 6: variants: add one (stock received), change price and status; the cached list shows the new price; compare-at must stay above price
--- request eval
['GET /api/products?category=t-shirts',
 '[bob] POST /api/seller/products/14/variants
{"sku": "ACME-TRX-44", "options": {"size": "44"}, "price": 6999, "stock": 2}',
 '[bob] PATCH /api/seller/variants/17
{"price": 9999}',
 '[bob] PATCH /api/seller/variants/17
{"price": 5999, "title": "EU 42"}',
 '[bob] PATCH /api/seller/variants/18
{"status": "inactive"}',
 '[bob] POST /api/seller/products/14/variants
{"sku": "ACME-TRX-45", "options": {"width": "wide"}, "price": 1}',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products?category=t-shirts',
 "POST /_ctl/sql
SELECT v.sku, m.delta, m.reason FROM stock_movements m JOIN product_variants v ON v.id = m.variant_id
 WHERE v.product_id = 14 ORDER BY m.id;
SELECT action, entity_id FROM audit_log WHERE action LIKE 'variant.%' ORDER BY id;
SELECT count(*) FROM catalog_listing_verify()"]
--- error_code eval
[200, 201, 422, 200, 200, 422, 200, 200, 200]
--- response_body_like eval
['"slug" : "trail-runner-x", "name" : "Trail Runner Y", "price" : \{"min" : 7999, "max" : 8499',
 '^\{"id": 19, "sku": "ACME-TRX-44", "price": 6999, "stock": 2, "title": "44", "status": "active"',
 '"invalid_params":\[\{"name":"compare_at_price","reason":"must be greater than price"\}\]',
 '"sku": "ACME-TRX-42", "price": 5999, "stock": 4, "title": "EU 42"',
 '"sku": "ACME-TRX-43", "price": 8499, "stock": 0, "title": "Size 43", "status": "inactive"',
 '"invalid_params":\[\{"name":"options","reason":"must name exactly the product\'s options: size"\}\]',
 'ok',
 '"slug" : "trail-runner-x", "name" : "Trail Runner Y", "price" : \{"min" : 5999, "max" : 6999',
 '^ACME-TRX-42\|4\|received\nACME-TRX-44\|2\|received\nvariant.create\|19\nvariant.update\|17\nvariant.update\|18\n0\n$']
--- no_error_log
[error]



=== TEST 7: list: the caller's stores only, filters, keyset pages; archive hides the product from cached pages
--- request eval
['[bob] GET /api/seller/products?limit=2',
 '[bob] GET /api/seller/products?limit=2&cursor=13',
 '[bob] GET /api/seller/products?status=archived',
 '[erin] GET /api/seller/products?store=2&limit=1',
 '[bob] GET /api/seller/products?status=bogus',
 'GET /api/products/trail-runner-x',
 'GET /api/products?category=t-shirts',
 '[bob] PATCH /api/seller/products/14
{"status": "archived"}',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products/trail-runner-x',
 'GET /api/products?category=t-shirts',
 'GET /api/categories/t-shirts',
 "POST /_ctl/sql
SELECT action, details->>'status' FROM audit_log WHERE entity_id = '14' ORDER BY id DESC LIMIT 1"]
--- error_code eval
[200, 200, 200, 200, 400, 200, 200, 200, 200, 404, 200, 200, 200]
--- response_body_like eval
['^\{"items": \[\{"id": 15, .*\{"id": 14, .*"next_cursor": "14"\}$',
 '^\{"items": \[\{"id": 12, .*\{"id": 10, .*"next_cursor": "10"\}$',
 '^\{"items": \[\{"id": 9, "name": "Archived Jacket".*"next_cursor": null\}$',
 '^\{"items": \[\{"id": 8, "name": "Smart Watch".*"store_id": 2,.*"next_cursor": "8"\}$',
 '"code":"invalid_parameter"',
 '"slug" : "trail-runner-x"',
 '"slug" : "trail-runner-x"',
 '"status": "archived"',
 'ok',
 '"code":"not_found"',
 '^(?!.*trail-runner-x)',
 '"product_count" : 3\}$',
 '^product.archive\|archived\n$']
--- no_error_log
[error]
