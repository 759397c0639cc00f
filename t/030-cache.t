# The Redis response cache: hits and misses, invalidation by PostgreSQL
# itself whoever writes (plain SQL here), Redis outages (served from
# PostgreSQL, logged once), and no cache while the change feed is down.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;

Nexus::Test::ctl_server();
Nexus::Test::reset_fixture();
END { Nexus::Test::reset_fixture() if $ENV{NEXUS_TEST_PG_PORT} }

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_') unless defined $block->http_config;
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
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

    # every block starts from an empty cache, once the worker's change feed
    # is up (until then a fresh worker bypasses the cache)
    $block->set_value("init", "Nexus::Test::redis_flush(); Time::HiRes::sleep(0.4);")
        unless defined $block->init;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a miss, then a hit with the same body and ETag
--- request eval
["GET /api/products/classic-tee", "GET /api/products/classic-tee",
 "GET /api/products?category=apparel", "GET /api/products?category=apparel",
 "GET /api/categories", "GET /api/categories"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body_like eval
['"name" : "Classic Tee"', '"name" : "Classic Tee"', '"id" : 1,', '"id" : 1,', '"categories"', '"categories"']
--- error_code eval
[200, 200, 200, 200, 200, 200]



=== TEST 2: a hit answers If-None-Match with 304 too
--- more_headers
If-None-Match: *
--- request eval
["GET /api/vendors/acme", "GET /api/vendors/acme"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- error_code eval
[304, 304]



=== TEST 3: a rename with plain SQL is served fresh at once, never stale from Redis
--- request eval
["GET /api/products/classic-tee",
 "GET /api/products/classic-tee",
 "POST /_ctl/sql\nUPDATE products SET name = 'Classic Tee Mk II' WHERE slug = 'classic-tee'",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/products/classic-tee",
 "GET /api/products/classic-tee"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "", "", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body_like eval
['"name" : "Classic Tee"', '"name" : "Classic Tee"', "", "ok", '"name" : "Classic Tee Mk II"', '"name" : "Classic Tee Mk II"']



=== TEST 4: a variant price change reaches cached lists
--- request eval
["GET /api/products?category=t-shirts",
 "GET /api/products?category=t-shirts",
 "POST /_ctl/sql\nUPDATE product_variants SET price = 999 WHERE sku = 'ACME-OCT-1'",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/products?category=t-shirts"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "", "", "X-Cache: MISS"]
--- response_body_like eval
[Nexus::Test::ids_re(1, 12, 2), Nexus::Test::ids_re(1, 12, 2), "", "ok",
 qr/^\{"items":\[\{"id" : 2, "slug" : "organic-cotton-tee", "name" : "Organic Cotton Tee", "price" : \{"min" : 999, "max" : 999,/]



=== TEST 5: archiving a product hides it from cached documents and lists
--- request eval
["GET /api/products/oxford-shirt",
 "GET /api/products?category=shirts",
 "POST /_ctl/sql\nUPDATE products SET status = 'archived' WHERE slug = 'oxford-shirt'",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/products/oxford-shirt",
 "GET /api/products?category=shirts",
 "GET /api/categories/shirts"]
--- error_code eval
[200, 200, 200, 200, 404, 200, 200]
--- response_body_like eval
['"slug" : "oxford-shirt"', '"id" : 3,', "", "ok", '"code":"not_found"', '^(?!.*"id" : 3,)', '"product_count" : 3\}$']



=== TEST 6: Redis down: the catalog is served from PostgreSQL, the outage logged once
--- request eval
["GET /api/categories",
 "POST /_ctl/redis_stop",
 "GET /api/categories",
 "GET /api/products?limit=2",
 "GET /api/products/classic-tee",
 "GET /api/categories",
 "GET /_ctl/sleep?s=1.2",
 "GET /api/categories",
 "POST /_ctl/redis_start",
 "GET /_ctl/sleep?s=1.2",
 "GET /api/vendors/globex",
 "GET /api/vendors/globex"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: BYPASS", "X-Cache: BYPASS", "X-Cache: BYPASS", "X-Cache: BYPASS", "", "X-Cache: BYPASS", "", "", "X-Cache: MISS", "X-Cache: HIT"]
--- timeout: 20



=== TEST 7: the outage and the recovery are each logged once
--- request eval
["POST /_ctl/redis_stop",
 "GET /api/categories",
 "GET /api/categories",
 "GET /_ctl/sleep?s=1.2",
 "GET /api/categories",
 "GET /api/categories",
 "GET /_ctl/log_count?re=serving%20without%20the%20cache",
 "POST /_ctl/redis_start",
 "GET /_ctl/sleep?s=1.2",
 "GET /api/categories",
 "GET /api/categories",
 "GET /_ctl/log_count?re=serving%20without%20the%20cache",
 "GET /_ctl/log_count?re=redis%20is%20reachable%20again"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
["ok", '"categories"', '"categories"', "ok", '"categories"', '"categories"', "^1\$", "ok", "ok", '"categories"', '"categories"', "^1\$", "^1\$"]
--- timeout: 20



=== TEST 8: while the change feed is down (PostgreSQL restarting) the cache is bypassed, then used again
--- request eval
["GET /api/categories",
 "GET /api/categories",
 "POST /_ctl/pg_stop",
 "POST /_ctl/pg_start",
 "GET /api/categories",
 "GET /_ctl/sleep?s=1.5",
 "POST /_ctl/sql\nUPDATE categories SET name = 'Clothing' WHERE slug = 'apparel'",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/categories",
 "GET /api/categories"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "", "", "X-Cache: BYPASS", "", "", "", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body_like eval
['"name":"Apparel"', '"name":"Apparel"', "ok", "ok", '"name":"Apparel"', "ok", "", "ok", '"name":"Clothing"', '"name":"Clothing"']
--- timeout: 30



=== TEST 9: two locations with different page sizes never share entries
--- config
    location /api/ {
        nexus_api;
        nexus_cache on;
        nexus_page_size 2;
    }
    location /big/ {
        rewrite ^/big(/.*)$ $1 break;
        nexus_api;
        nexus_cache on;
        nexus_page_size 5;
    }
--- request eval
["GET /api/products", "GET /big/api/products", "GET /api/products", "GET /big/api/products"]
--- response_body_like eval
['"limit":2,', '"limit":5,', '"limit":2,', '"limit":5,']
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT", "X-Cache: HIT"]



=== TEST 10: errors are not cached
--- request eval
["GET /api/products?limit=0", "GET /api/products/nope", "GET /api/products/nope"]
--- error_code eval
[400, 404, 404]
--- response_headers eval
["", "X-Cache: MISS", "X-Cache: MISS"]



=== TEST 11: the per-worker cache answers without Redis, and follows every change
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    nexus_cache_local_size 1m;
--- request eval
["GET /api/categories",
 "GET /api/categories",
 "POST /_ctl/redis_stop",
 "GET /api/categories",
 "POST /_ctl/sql\nUPDATE categories SET name = 'Gadgets' WHERE slug = 'electronics'",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/categories",
 "GET /api/categories",
 "POST /_ctl/redis_start",
 "GET /_ctl/sleep?s=1.2",
 "GET /api/categories/electronics",
 "GET /api/categories/electronics"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "", "X-Cache: HIT", "", "", "X-Cache: BYPASS", "X-Cache: HIT", "", "", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body_like eval
['"name":"Electronics"', '"name":"Electronics"', "ok", '"name":"Electronics"', "", "ok", '"name":"Gadgets"', '"name":"Gadgets"', "ok", "ok", '"name" : "Gadgets"', '"name" : "Gadgets"']
--- timeout: 20



=== TEST 12: nexus_cache_local off keeps a location on Redis alone
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    nexus_cache_local_size 1m;
--- config
    location /api/ {
        nexus_api;
        nexus_cache on;
        nexus_cache_local off;
    }
    location /_ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; }
--- request eval
["GET /api/vendors/acme", "GET /api/vendors/acme", "POST /_ctl/redis_flush", "GET /api/vendors/acme"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "", "X-Cache: MISS"]
