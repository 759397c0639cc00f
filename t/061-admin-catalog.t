# Operators' catalog management: product approval (nexus_product_approval
# on: new and changed products wait, hidden from shoppers even in the
# Redis cache; approve and reject with a reason are recorded and audited),
# categories (create, rename with a stable slug, move with the closure
# kept right, cycles refused, delete refused while in use), tags and
# typed attributes, and that only operators may do any of it.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;

Nexus::Test::ctl_server();
Nexus::Test::reset_fixture();
END { Nexus::Test::reset_fixture() if $ENV{NEXUS_TEST_PG_PORT} }

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

=== TEST 1: approval on: a new active product is pending and hidden (pages and cached lists); operators list it; store staff cannot approve; an operator approves and it appears at once
--- http_config
    nexus_product_approval on;
--- request eval
['GET /api/products?category=electronics',
 '[bob] POST /api/seller/products
{"name": "Pending Widget", "status": "active", "categories": ["electronics"],
 "variants": [{"sku": "ACME-PW-1", "price": 1500, "stock": 3}]}',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products/pending-widget',
 'GET /api/products?category=electronics',
 '[dave] GET /api/admin/products?approval=pending',
 '[dave] GET /api/admin/products?approval=maybe',
 '[bob] POST /api/admin/products/14/approve',
 '[dave] POST /api/admin/products/1/approve',
 '[dave] POST /api/admin/products/999/approve',
 '[dave] POST /api/admin/products/14/approve',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products/pending-widget',
 'GET /api/products?category=electronics',
 "POST /_ctl/sql
SELECT product_id, decision, reason, decided_by FROM product_approvals;
SELECT actor_user_id, action, entity_id FROM audit_log ORDER BY id;
SELECT topic, payload->>'product_id' FROM outbox WHERE topic LIKE 'product.%'"]
--- error_code eval
[200, 201, 200, 404, 200, 200, 400, 403, 409, 404, 200, 200, 200, 200, 200]
--- response_headers eval
['X-Cache: MISS', '', '', '', 'X-Cache: MISS', '', '', '', '', '', '', '', 'X-Cache: MISS', 'X-Cache: MISS', '']
--- response_body_like eval
['^(?!.*pending-widget)',
 '"slug": "pending-widget".*"status": "pending"',
 'ok',
 '"code":"not_found"',
 '^(?!.*pending-widget)',
 '^\{"items": \[\{"id": 14, "name": "Pending Widget".*"status": "pending".*\], "next_cursor": null\}$',
 '"code":"invalid_parameter"',
 '"code":"forbidden"',
 '"code":"not_pending"',
 '"code":"not_found"',
 '"status": "active".*"approval": \{"reason": null, "decision": "approved", "decided_at": "[0-9T:-]+Z", "decided_by": 4\}',
 'ok',
 '"name" : "Pending Widget"',
 '"slug" : "pending-widget"',
 '^14\|approved\|\|4\n2\|product.create\|14\n4\|product.approve\|14\nproduct.approved\|14\n$']
--- no_error_log
[error]



=== TEST 2: approval on: a content change to a visible product hides it until approved (the cached page too); price changes and edits that change nothing do not; reject needs a reason, sends it back to draft, recorded
--- http_config
    nexus_product_approval on;
--- request eval
['GET /api/products/pending-widget',
 'GET /api/products/pending-widget',
 '[bob] PATCH /api/seller/products/14
{"status": "active"}',
 '[bob] PATCH /api/seller/variants/17
{"price": 1400}',
 '[bob] PATCH /api/seller/products/14
{"name": "Pending Widget", "categories": [5]}',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products/pending-widget',
 '[erin] PATCH /api/seller/products/14
{"description": "Now with more widget."}',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products/pending-widget',
 'GET /api/products?category=electronics',
 '[dave] POST /api/admin/products/14/reject
{}',
 '[dave] POST /api/admin/products/14/reject
{"reason": "Say what the widget does."}',
 '[bob] GET /api/seller/products/14',
 'GET /api/products/pending-widget',
 "POST /_ctl/sql
SELECT product_id, decision, reason, decided_by FROM product_approvals ORDER BY id;
SELECT action, details->>'reason' FROM audit_log WHERE action LIKE 'product.%' ORDER BY id"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 200, 422, 200, 200, 404, 200]
--- response_headers eval
['X-Cache: MISS', 'X-Cache: HIT', '', '', '', '', 'X-Cache: MISS', '', '', '', 'X-Cache: MISS', '', '', '', '', '']
--- response_body_like eval
['"description" : ""',
 '"description" : ""',
 '"status": "active"',
 '"price": 1400',
 '"status": "active"',
 'ok',
 '"min" : 1400',
 '"description": "Now with more widget.", .*"status": "pending"|"status": "pending".*"description": "Now with more widget."',
 'ok',
 '"code":"not_found"',
 '^(?!.*pending-widget)',
 '"invalid_params":\[\{"name":"reason","reason":"is required"\}\]',
 '"status": "draft".*"approval": \{"reason": "Say what the widget does.", "decision": "rejected"',
 '"status": "draft".*"approval": \{"reason": "Say what the widget does.", "decision": "rejected"',
 '"code":"not_found"',
 '^14\|approved\|\|4\n14\|rejected\|Say what the widget does.\|4\nproduct.create\|\nproduct.approve\|\nproduct.update\|\nproduct.update\|\nproduct.update\|\nproduct.reject\|Say what the widget does.\n$']
--- no_error_log
[error]



=== TEST 3: approval on: a draft needs no approval; publishing it does; approval off: a seller publishes at once, and a pending product edited is published
--- http_config
    nexus_product_approval on;
--- request eval
['[bob] POST /api/seller/products
{"name": "Quiet Draft", "variants": [{"sku": "ACME-QD-1", "price": 100}]}',
 '[bob] PATCH /api/seller/products/15
{"name": "Quiet Draft 2"}',
 '[bob] PATCH /api/seller/products/15
{"status": "active"}',
 '[bob] GET /api/seller/products?status=pending']
--- error_code eval
[201, 200, 200, 200]
--- response_body_like eval
['"status": "draft"', '"name": "Quiet Draft 2".*"status": "draft"', '"status": "pending"',
 '^\{"items": \[\{"id": 15, .*\], "next_cursor": null\}$']



=== TEST 4: approval off (the default): publishing is immediate; a product left pending is published by its next edit
--- request eval
['[bob] PATCH /api/seller/products/15
{"description": "Out now."}',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products/quiet-draft',
 '[dave] GET /api/admin/products']
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
['"status": "active"', 'ok', '"description" : "Out now."', '^\{"items": \[\], "next_cursor": null\}$']



=== TEST 5: categories: create (slug from the name), rename keeps the slug, explicit slug change, move (closure and public pages follow, through the cache), cycles refused, delete refused while in use, audited
--- request eval
['GET /api/categories',
 '[dave] POST /api/admin/categories
{"name": "Hats & Caps", "parent_id": 1, "position": 2}',
 '[dave] POST /api/admin/categories
{"name": "Beanies", "parent_id": 6}',
 '[dave] POST /api/admin/categories
{"name": "Dup", "slug": "shoes"}',
 '[dave] POST /api/admin/categories
{"name": "Orphan", "parent_id": 99}',
 '[dave] PATCH /api/admin/categories/6
{"name": "Headwear"}',
 '[dave] PATCH /api/admin/categories/1
{"parent_id": 7}',
 '[dave] PATCH /api/admin/categories/6
{"parent_id": 6}',
 '[dave] PATCH /api/admin/categories/2
{"parent_id": 5}',
 '[dave] PATCH /api/admin/categories/99
{"name": "x"}',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/categories/t-shirts',
 'GET /api/products?category=electronics',
 '[dave] PATCH /api/admin/categories/7
{"slug": "beanie-hats", "parent_id": null}',
 '[dave] PATCH /api/admin/categories/7
{"parent_id": 6}',
 '[dave] DELETE /api/admin/categories/6',
 '[dave] DELETE /api/admin/categories/5',
 '[dave] DELETE /api/admin/categories/4',
 '[dave] DELETE /api/admin/categories/7',
 '[dave] DELETE /api/admin/categories/6',
 "POST /_ctl/sql
SELECT id, parent_id, slug, name FROM categories WHERE id >= 5 ORDER BY id;
SELECT string_agg(ancestor_id || '>' || descendant_id || ':' || depth, ' ' ORDER BY ancestor_id, descendant_id) FROM category_closure;
SELECT count(*) FROM catalog_listing_verify();
SELECT action, entity_id FROM audit_log WHERE entity_type = 'category' ORDER BY id",
 'GET /api/categories']
--- error_code eval
[200, 201, 201, 409, 422, 200, 409, 409, 200, 404, 200, 200, 200, 200, 200, 409, 409, 409, 204, 204, 200, 200]
--- response_body_like eval
['^(?!.*hats)',
 '"slug": "hats-caps"',
 '"slug": "beanies"',
 '"code":"slug_taken"',
 '"invalid_params":\[\{"name":"parent_id","reason":"is not a known category"\}\]',
 '"name": "Headwear", "path": \["apparel", "hats-caps"\], "slug": "hats-caps"',
 '"code":"category_cycle"',
 '"code":"category_cycle"',
 '"path": \["electronics", "shirts"\]',
 '"code":"not_found"',
 'ok',
 '"ancestors" : \[\{"slug" : "electronics", "name" : "Electronics"\}, \{"slug" : "shirts", "name" : "Shirts"\}\]',
 '"slug" : "classic-tee"',
 '"path": \["beanie-hats"\], "slug": "beanie-hats", "position": 0, "parent_id": null',
 '"path": \["apparel", "hats-caps", "beanie-hats"\]',
 '"code":"category_has_children"',
 '"code":"category_has_children"',
 '"code":"category_in_use"',
 '^$',
 '^$',
 '^5\|\|electronics\|Electronics\n1>1:0 1>4:1 2>2:0 2>3:1 3>3:0 4>4:0 5>2:1 5>3:2 5>5:0\n0\ncategory.create\|6\ncategory.create\|7\ncategory.update\|6\ncategory.move\|2\ncategory.move\|7\ncategory.move\|7\ncategory.delete\|7\ncategory.delete\|6\n$',
 '"slug":"electronics","name":"Electronics","product_count":7,"children":\[\{"id":2,"slug":"shirts"']
--- no_error_log
[error]



=== TEST 6: tags and attributes: create, conflicts, rename, delete (products lose the tag, cached lists follow); typed attribute values refused per type; choices kept consistent with stored values
--- request eval
['GET /api/products?category=t-shirts&tag=organic',
 '[dave] POST /api/admin/tags
{"name": "Eco Friendly"}',
 '[dave] POST /api/admin/tags
{"name": "Organic", "slug": "organic"}',
 '[dave] PATCH /api/admin/tags/3
{"name": "Eco"}',
 '[dave] PATCH /api/admin/tags/99
{"name": "Eco"}',
 '[dave] DELETE /api/admin/tags/1',
 '[dave] DELETE /api/admin/tags/1',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products?category=t-shirts&tag=organic',
 '[dave] POST /api/admin/attributes
{"name": "Water Resistance", "type": "number"}',
 '[dave] POST /api/admin/attributes
{"name": "Vegan", "type": "boolean"}',
 '[dave] POST /api/admin/attributes
{"name": "Fit", "type": "choice", "choices": ["slim", "regular", "slim"]}',
 '[dave] POST /api/admin/attributes
{"name": "Fit", "type": "text", "choices": ["slim"]}',
 '[dave] POST /api/admin/attributes
{"name": "Fit", "type": "choice", "choices": ["slim", "regular"]}',
 '[dave] POST /api/admin/attributes
{"name": "Fit", "type": "list"}',
 '[dave] POST /api/admin/attributes
{"name": "Fit", "slug": "Fit Type", "type": "text"}',
 '[bob] PATCH /api/seller/products/1
{"attributes": {"water_resistance": "10 m", "vegan": "yes", "fit": "baggy"}}',
 '[bob] PATCH /api/seller/products/1
{"attributes": {"water_resistance": 10.5, "vegan": true, "fit": "slim"}}',
 '[dave] PATCH /api/admin/attributes/5
{"choices": ["regular"]}',
 '[dave] PATCH /api/admin/attributes/5
{"choices": ["slim", "regular", "loose"], "name": "Cut"}',
 '[dave] PATCH /api/admin/attributes/3
{"type": "boolean"}',
 "POST /_ctl/sql
SELECT a.slug, pav.value FROM product_attribute_values pav JOIN attributes a ON a.id = pav.attribute_id
 WHERE product_id = 1 ORDER BY 1, 2;
SELECT action, entity_type, entity_id FROM audit_log WHERE entity_type IN ('tag', 'attribute') ORDER BY id"]
--- error_code eval
[200, 201, 409, 200, 404, 204, 404, 200, 200, 201, 201, 422, 422, 201, 422, 422, 422, 200, 409, 200, 409, 200]
--- response_body_like eval
['"slug" : "classic-tee"',
 '^\{"id": 3, "name": "Eco Friendly", "slug": "eco-friendly"\}$',
 '"code":"slug_taken"',
 '^\{"id": 3, "name": "Eco", "slug": "eco-friendly"\}$',
 '"code":"not_found"',
 '^$',
 '"code":"not_found"',
 'ok',
 '^\{"items":\[\],',
 '"slug": "water_resistance".*"type": "number"|"type": "number".*"slug": "water_resistance"',
 '"slug": "vegan"',
 '"invalid_params":\[\{"name":"choices","reason":"must be 1 to 100 distinct strings of 1 to 200 characters"\}\]',
 '"invalid_params":\[\{"name":"choices","reason":"is only for attributes of type choice"\}\]',
 '"choices": \["slim", "regular"\]',
 '"invalid_params":\[\{"name":"type","reason":"is not one of the allowed values"\}\]',
 '"invalid_params":\[\{"name":"slug","reason":"must be lowercase letters and digits, joined by single \\\\"-\\\\" or \\\\"_\\\\""\}\]',
 '"invalid_params":\[\{"name":"attributes.fit","reason":"must be one of: slim, regular"\},\{"name":"attributes.vegan","reason":"must be true or false"\},\{"name":"attributes.water_resistance","reason":"must be a number"\}\]',
 '"attributes": \{"fit": "slim", "color": "red", "vegan": true, "material": "cotton", "water_resistance": 10.5\}',
 '"code":"attribute_in_use"',
 '"name": "Cut".*"choices": \["slim", "regular", "loose"\]',
 '"code":"attribute_in_use"',
 '^color\|red\nfit\|slim\nmaterial\|cotton\nvegan\|true\nwater_resistance\|10.5\ntag.create\|tag\|3\ntag.update\|tag\|3\ntag.delete\|tag\|1\nattribute.create\|attribute\|3\nattribute.create\|attribute\|4\nattribute.create\|attribute\|5\nattribute.update\|attribute\|5\n$']
--- no_error_log
[error]



=== TEST 7: only operators manage the catalog: store staff and customers are refused, nothing written
--- request eval
['[erin] POST /api/admin/categories
{"name": "Erin Was Here"}',
 '[bob] POST /api/admin/tags
{"name": "Bob Tag"}',
 '[alice] PATCH /api/admin/attributes/1
{"name": "Hue"}',
 '[alice] POST /api/seller/products
{"name": "Alice Thing"}',
 'POST /api/admin/products/1/reject
{"reason": "x"}',
 "POST /_ctl/sql
SELECT count(*) FROM categories WHERE slug = 'erin-was-here'; SELECT count(*) FROM tags WHERE slug = 'bob-tag'; SELECT name FROM attributes WHERE id = 1"]
--- error_code eval
[403, 403, 403, 403, 401, 200]
--- response_body_like eval
['"code":"forbidden"', '"code":"forbidden"', '"code":"forbidden"', '"code":"forbidden"', '"status":401', '^0\n0\nColor\n$']



=== TEST 8: nexus_product_approval takes on or off, checked at load
--- http_config
    nexus_product_approval maybe;
--- config
    location /api/ { nexus_api; }
--- request
GET /api/categories
--- must_die
--- error_log
invalid value "maybe" in "nexus_product_approval" directive, it must be "on" or "off"
