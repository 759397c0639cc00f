# The public catalog against the test fixture (sql/seed/test_fixture.sql):
# tree, documents, every filter and sort, keyset pages, visibility rules,
# HTTP semantics (405, HEAD, ETag/304, request ids).
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;
use Digest::SHA ();

our $Tree = '{"categories":[{"id":1,"slug":"apparel","name":"Apparel","product_count":7,"children":[{"id":2,"slug":"shirts","name":"Shirts","product_count":4,"children":[{"id":3,"slug":"t-shirts","name":"T-Shirts","product_count":3,"children":[]}]},{"id":4,"slug":"shoes","name":"Shoes","product_count":2,"children":[]}]},{"id":5,"slug":"electronics","name":"Electronics","product_count":3,"children":[]}]}';

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config", <<'_EOC_');
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
_EOC_
    }

    if (!defined $block->config) {
        $block->set_value("config", <<'_EOC_');
    location /api/ {
        nexus_api;
        nexus_page_size 20;
        nexus_page_size_max 50;
    }
_EOC_
    }

    if (!defined $block->no_error_log && !defined $block->error_log) {
        $block->set_value("no_error_log", "[error]\n[alert]\n");
    }
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the category tree, exact
--- request
GET /api/categories
--- response_headers
Content-Type: application/json
--- response_body eval
$main::Tree
--- error_code: 200



=== TEST 2: a category document with parent, breadcrumb and children
--- request
GET /api/categories/shirts
--- response_body_like: ^\{"id" ?: ?2, "slug" ?: ?"shirts", "name" ?: ?"Shirts", .*"parent" ?: ?\{"slug" ?: ?"apparel", "name" ?: ?"Apparel"\}, "ancestors" ?: ?\[\{"slug" ?: ?"apparel", "name" ?: ?"Apparel"\}\], "children" ?: ?\[\{"slug" ?: ?"t-shirts", "name" ?: ?"T-Shirts", "product_count" ?: ?3\}\], "product_count" ?: ?4\}$
--- error_code: 200



=== TEST 3: an unknown category is a 404 problem
--- request
GET /api/categories/no-such-thing
--- response_headers
Content-Type: application/problem+json
--- response_body_like: "status":404,"code":"not_found"
--- error_code: 404



=== TEST 4: every visible product, cheapest first (archived, draft, suspended vendor and no active variant are hidden)
--- request
GET /api/products
--- response_body_like eval
Nexus::Test::ids_re(7, 1, 12, 2, 3, 4, 6, 5, 8)
--- error_code: 200



=== TEST 5: a list item carries price, compare-at price, stock, rating, image, vendor and ISO time
--- request
GET /api/products?tag=sale&limit=1
--- response_body chomp
{"items":[{"id" : 2, "slug" : "organic-cotton-tee", "name" : "Organic Cotton Tee", "price" : {"min" : 2499, "max" : 2499, "currency" : "USD"}, "compare_at_price" : 2999, "in_stock" : true, "rating" : {"average" : 3.00, "count" : 1}, "image_url" : "https://images.example.com/products/organic-cotton-tee-1.jpg", "vendor" : {"slug" : "acme", "name" : "Acme Outfitters"}, "created_at" : "2024-01-02T10:00:00Z"}],"next_cursor":"cC4yNDk5LjI","limit":1,"sort":"price"}
--- error_code: 200



=== TEST 6: a category includes its descendants
--- request
GET /api/products?category=apparel
--- response_body_like eval
Nexus::Test::ids_re(1, 12, 2, 3, 4, 5, 8)



=== TEST 7: a leaf category
--- request
GET /api/products?category=t-shirts
--- response_body_like eval
Nexus::Test::ids_re(1, 12, 2)



=== TEST 8: vendor filter
--- request
GET /api/products?vendor=globex
--- response_body_like eval
Nexus::Test::ids_re(3, 6, 5, 8)



=== TEST 9: price range in minor units, bounds included
--- request
GET /api/products?min_price=2199&max_price=8999
--- response_body_like eval
Nexus::Test::ids_re(12, 2, 3, 4)



=== TEST 10: tag filter
--- request
GET /api/products?tag=organic
--- response_body_like eval
Nexus::Test::ids_re(1, 12, 2)



=== TEST 11: attribute filter
--- request
GET /api/products?attr=color:blue
--- response_body_like eval
Nexus::Test::ids_re(2, 3, 4, 6)



=== TEST 12: in stock only
--- request
GET /api/products?in_stock=true
--- response_body_like eval
Nexus::Test::ids_re(7, 1, 12, 2, 3, 4, 6, 8)



=== TEST 13: filters combine
--- request
GET /api/products?category=apparel&vendor=acme&attr=color:red&in_stock=1&max_price=10000
--- response_body_like eval
Nexus::Test::ids_re(1, 4)



=== TEST 14: a filter that matches nothing is an empty page
--- request
GET /api/products?category=electronics&tag=organic
--- response_body chomp
{"items":[],"next_cursor":null,"limit":20,"sort":"price"}



=== TEST 15: most expensive first
--- request
GET /api/products?sort=-price
--- response_body_like eval
Nexus::Test::ids_re(8, 5, 6, 4, 3, 2, 12, 1, 7)



=== TEST 16: newest first
--- request
GET /api/products?sort=newest
--- response_body_like eval
Nexus::Test::ids_re(12, 8, 7, 6, 5, 4, 3, 2, 1)



=== TEST 17: best rated first, ties by newest id
--- request
GET /api/products?sort=rating
--- response_body_like eval
Nexus::Test::ids_re(6, 1, 2, 12, 8, 7, 5, 4, 3)



=== TEST 18: by name
--- request
GET /api/products?sort=name
--- response_body_like eval
Nexus::Test::ids_re(12, 1, 5, 2, 3, 4, 8, 7, 6)



=== TEST 19: walking the pages by cursor (price)
--- request eval
[
 "GET /api/products?limit=4",
 "GET /api/products?limit=4&cursor=" . Nexus::Test::cursor('p', 2499, 2),
 "GET /api/products?limit=4&cursor=" . Nexus::Test::cursor('p', 14999, 5),
]
--- response_body_like eval
[
 qr/"id" : 7,.*"id" : 1,.*"id" : 12,.*"id" : 2,.*"next_cursor":"\Q${\ Nexus::Test::cursor('p', 2499, 2)}\E"/s,
 Nexus::Test::ids_re(3, 4, 6, 5),
 qr/^\{"items":\[\{"id" : 8,[^\[]*\],"next_cursor":null,/s,
]
--- error_code eval
[200, 200, 200]
--- no_error_log eval
["[error]", "[error]", "[error]"]



=== TEST 20: walking the pages by cursor (newest, rating, name, descending price)
--- request eval
[
 "GET /api/products?sort=newest&limit=3",
 "GET /api/products?sort=newest&limit=3&cursor=" . Nexus::Test::cursor('n', 1704621600000000, 7),
 "GET /api/products?sort=rating&limit=2&cursor=" . Nexus::Test::cursor('r', '3.00', 2),
 "GET /api/products?sort=name&limit=2&cursor=" . Nexus::Test::cursor('a', 'Classic Tee', 1),
 "GET /api/products?sort=-price&limit=2&cursor=" . Nexus::Test::cursor('q', 2199, 12),
]
--- response_body_like eval
[
 qr/"id" : 12,.*"id" : 8,.*"id" : 7,.*"next_cursor":"\Q${\ Nexus::Test::cursor('n', 1704621600000000, 7)}\E"/s,
 Nexus::Test::ids_re(6, 5, 4),
 Nexus::Test::ids_re(12, 8),
 Nexus::Test::ids_re(5, 2),
 Nexus::Test::ids_re(1, 7),
]
--- error_code eval
[200, 200, 200, 200, 200]
--- no_error_log eval
["[error]", "[error]", "[error]", "[error]", "[error]"]



=== TEST 21: the product document: vendor, categories, tags, attributes, variants, media
--- request
GET /api/products/classic-tee
--- response_body_like: ^\{"id" : 1, "slug" : "classic-tee", "name" : "Classic Tee", .*"price" : \{"min" : 1999, "max" : 2199, "currency" : "USD"\}, "in_stock" : true, "rating" : \{"average" : 4.50, "count" : 2\}, .*"vendor" : \{"id" : 1, "slug" : "acme", .*"categories" : \[\{"id" : 3, "slug" : "t-shirts", "name" : "T-Shirts", "is_primary" : true\}\], "tags" : \["organic"\], "attributes" : \[\{"slug" : "color", .*"value" : "red"\}, \{"slug" : "material", .*"value" : "cotton"\}\], "variants" : \[\{"id" : 1, "sku" : "ACME-TEE-S", .*"stock" : 10\}, \{"id" : 2, "sku" : "ACME-TEE-M".*\{"id" : 3, "sku" : "ACME-TEE-L", .*"in_stock" : false, "stock" : 0\}\], "media" : \[\{"url" : "https://images.example.com/products/classic-tee-1.jpg".*"is_primary" : true.*\}\]\}$
--- error_code: 200



=== TEST 22: quotes, backslashes, tabs and unicode survive intact
--- request
GET /api/products/cafe-creme-tee
--- response_body_like: "name" : "Café \\"Crème\\" Tee — ünïcødé ☕", "description" : "Line one with \\"quotes\\".\\nLine two with a backslash \\\\ and a\\ttab."
--- error_code: 200



=== TEST 23: hidden products are not found: archived, draft, suspended vendor
--- request eval
["GET /api/products/archived-jacket", "GET /api/products/draft-hoodie", "GET /api/products/shady-gadget"]
--- error_code eval
[404, 404, 404]
--- response_body_like eval
['"code":"not_found"', '"code":"not_found"', '"code":"not_found"']
--- no_error_log eval
["[error]", "[error]", "[error]"]



=== TEST 24: a vendor's public profile; a suspended vendor is not found
--- request eval
["GET /api/vendors/acme", "GET /api/vendors/shady"]
--- response_body_like eval
['^\{"id" : 1, "slug" : "acme", "name" : "Acme Outfitters", .*"product_count" : 5, ', '"code":"not_found"']
--- error_code eval
[200, 404]
--- no_error_log eval
["[error]", "[error]"]



=== TEST 25: unknown or suspended vendor and unknown category filters are 404s
--- request eval
["GET /api/products?category=nope", "GET /api/products?vendor=nope", "GET /api/products?vendor=shady"]
--- response_body_like eval
['"code":"category_not_found"', '"code":"vendor_not_found"', '"code":"vendor_not_found"']
--- error_code eval
[404, 404, 404]
--- no_error_log eval
["[error]", "[error]", "[error]"]



=== TEST 26: other methods get 405 with Allow
--- request eval
["POST /api/products\n{}", "DELETE /api/products/classic-tee", "PUT /api/categories"]
--- error_code eval
[405, 405, 405]
--- response_headers eval
["Allow: GET, HEAD", "Allow: GET, HEAD", "Allow: GET, HEAD"]
--- response_body_like eval
['"status":405,"code":"method_not_allowed"', '"status":405', '"status":405']
--- no_error_log eval
["[error]", "[error]", "[error]"]



=== TEST 27: unknown routes are 404 problems
--- request eval
["GET /api/nothing", "GET /api/products/classic-tee/extra", "GET /api/vendors", "GET /api/_debug/sleep?s=0"]
--- error_code eval
[404, 404, 404, 404]
--- response_body_like eval
['"code":"not_found"', '"code":"not_found"', '"code":"not_found"', '"code":"not_found"']
--- no_error_log eval
["[error]", "[error]", "[error]", "[error]"]



=== TEST 28: HEAD answers the headers only
--- request
HEAD /api/products/classic-tee
--- response_headers_like
ETag: "[0-9a-f]{32}"
Content-Type: application/json
--- response_body
--- error_code: 200



=== TEST 29: a matching If-None-Match gets 304
--- more_headers eval
'If-None-Match: W/"0000", "' . substr(Digest::SHA::sha1_hex($main::Tree), 0, 32) . '"'
--- request
GET /api/categories
--- response_headers eval
'ETag: "' . substr(Digest::SHA::sha1_hex($main::Tree), 0, 32) . '"'
--- response_body
--- error_code: 304



=== TEST 30: a stale If-None-Match gets the body
--- more_headers
If-None-Match: "00000000000000000000000000000000"
--- request
GET /api/categories
--- response_body eval
$main::Tree
--- error_code: 200



=== TEST 31: every answer carries the request id, errors too
--- request eval
["GET /api/categories", "GET /api/products?limit=0", "GET /api/nope", "PATCH /api/products"]
--- response_headers_like eval
["X-Request-Id: [0-9a-f]{32}", "X-Request-Id: [0-9a-f]{32}", "X-Request-Id: [0-9a-f]{32}", "X-Request-Id: [0-9a-f]{32}"]
--- error_code eval
[200, 400, 404, 405]
--- no_error_log eval
["[error]", "[error]", "[error]", "[error]"]



=== TEST 32: a product without an active variant has a document but no listing
--- request eval
["GET /api/products/no-variant-cap", "GET /api/products?category=t-shirts"]
--- response_body_like eval
['"slug" : "no-variant-cap".*"variants" : \[\]', '^(?!.*no-variant-cap)']
--- error_code eval
[200, 200]
--- no_error_log eval
["[error]", "[error]"]



=== TEST 33: trailing slashes
--- request eval
["GET /api/products/?limit=1", "GET /api/products/classic-tee/"]
--- error_code eval
[200, 200]
--- no_error_log eval
["[error]", "[error]"]
