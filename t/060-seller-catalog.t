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

# carol (3) also works for acme as staff: she must name a store
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
