# Operators' catalog management: product approval (nexus_product_approval
# on: new and changed products wait, hidden from shoppers even in the
# Redis cache; approve and reject with a reason are recorded and audited),
# categories (create, rename with a stable slug, move with the closure
# kept right, cycles refused, delete refused while in use), tags and
# typed attributes, and that only operators may do any of it.
#
# Then operators on the sellers' routes (0016_admin_products.sql): dave
# creates a product in acme's store and edits globex's, adds and changes
# variants, adjusts stock, bulk-updates a store's stock, lists a store's
# products, low stock and ledger, and manages a product's media; with
# approval on his edits are not held back (publishing a pending product is
# an approval); every write is audited with him as actor and the store;
# without a store where one is needed he gets 422; customers still get 403
# and another store's staff 404; the public pages follow through the cache.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;
use JSON::PP ();
use File::Temp ();

Nexus::Test::ctl_server();
Nexus::Test::reset_fixture();
END { Nexus::Test::reset_fixture() if $ENV{NEXUS_TEST_PG_PORT} }

our %Tok = Nexus::Test::access_tokens(alice => 1, bob => 2, carol => 3,
    dave => 4, erin => 5);

# S3 credentials for the media block (never contacted: the module only
# signs the upload URL)
our $Keys = File::Temp::tempdir(CLEANUP => 1);
for (['s3.id', "AKIDEXAMPLE\n"], ['s3.secret', "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"]) {
    open my $fh, '>', "$Keys/$_->[0]" or die "$Keys/$_->[0]: $!\n";
    print $fh $_->[1];
    close $fh;
}
$ENV{TEST_NGINX_S3_KEYS} = $Keys;
# object storage for TEST 13: complete checks the object with a HEAD, so
# the test server also plays a bucket holding every key as a small PNG
# (t/062-media.t checks the signatures against a real S3 server)
$ENV{TEST_NGINX_FAKE_S3_PORT} = ($ENV{TEST_NGINX_CTL_PORT} // 19920) + 7;

# the sellers' API answers as short lines (public pages and SQL stay as
# they are): what the operator blocks check
sub main::lines {
    my ($body) = @_;
    my $d = eval { JSON::PP::decode_json($body) };
    return $body unless ref $d eq 'HASH';
    my $one;
    $one = sub {
        my ($x) = @_;
        if (exists $x->{store_id} && exists $x->{variants}) {
            my $a = $x->{approval};
            return "product $x->{id} store $x->{store_id} $x->{status} $x->{name}\n"
                   . join('', map { $one->($_) } @{$x->{variants}})
                   . ($a ? "approval $a->{decision} by $a->{decided_by}\n" : '');
        }
        if (exists $x->{sku} && exists $x->{price}) {
            return "variant $x->{id} $x->{sku} $x->{price} $x->{stock} $x->{status}\n";
        }
        if (exists $x->{threshold_from}) {
            return "low $x->{id} $x->{sku} $x->{stock}/$x->{threshold} store $x->{store}{id}\n";
        }
        if (exists $x->{stock_after}) {
            return "move $x->{sku} $x->{delta} $x->{reason} by $x->{actor_user_id}"
                   . (defined $x->{note} ? " ($x->{note})" : '') . "\n";
        }
        if (exists $x->{low_stock}) {
            return "stock $x->{sku} $x->{stock} threshold $x->{threshold}"
                   . ($x->{low_stock} ? ' low' : '') . "\n"
                   . ($x->{movement} ? $one->($x->{movement}) : '');
        }
        if (exists $x->{changed}) {
            return "changed $x->{changed}\n" . join('', map {
                "bulk $_->{sku} $_->{previous} -> $_->{stock}\n" } @{$x->{items}});
        }
        if (exists $x->{low_stock_threshold} && exists $x->{store_id}) {
            return "store $x->{store_id} threshold $x->{low_stock_threshold}\n";
        }
        if (exists $x->{content_type}) {
            return "media $x->{id} product $x->{product_id} $x->{status} "
                   . ($x->{position} // '-') . ($x->{is_primary} ? ' primary' : '')
                   . " $x->{alt}\n" . ($x->{upload} ? "upload $x->{upload}{method}\n" : '');
        }
        if (exists $x->{code} && exists $x->{status}) {
            return "$x->{status} $x->{code}" . join('', map { " $_->{name}: $_->{reason}" }
                                                     @{$x->{invalid_params} || []}) . "\n";
        }
        return undef;
    };
    if (ref $d->{items} eq 'ARRAY' && !exists $d->{changed}) {
        return join('', map { $one->($_) // "?\n" } @{$d->{items}}, @{$d->{pending} || []})
               . (exists $d->{next_cursor} ? 'next ' . ($d->{next_cursor} // 'null') . "\n" : '');
    }
    return $one->($d) // $body;
}

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



=== TEST 9: approval on: an operator creates a product in a named store and edits another store's product, both shown at once (no approval wait) through the cache; variants added and changed; audited with the operator and the store; without a store, 422
--- http_config
    nexus_product_approval on;
--- response_body_filters eval
\&main::lines
--- request eval
['GET /api/products/oxford-shirt',
 'GET /api/products/oxford-shirt',
 '[dave] POST /api/seller/products
{"name": "Operator Lamp", "status": "active", "variants": [{"sku": "ACME-LAMP-1", "price": 2500}]}',
 '[dave] POST /api/seller/products
{"name": "Operator Lamp", "store_id": 99}',
 '[dave] POST /api/seller/products
{"name": "Operator Lamp", "store_id": 1, "status": "active", "categories": ["electronics"],
 "tags": ["sale"], "variants": [{"sku": "ACME-LAMP-1", "price": 2500, "stock": 4}]}',
 '[dave] PATCH /api/seller/products/3
{"name": "Oxford Shirt Deluxe", "description": "Edited by an operator."}',
 '[dave] POST /api/seller/products/3/variants
{"sku": "GLX-OXF-2", "price": 5999, "stock": 2}',
 '[dave] PATCH /api/seller/variants/5
{"price": 4599}',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products/oxford-shirt',
 'GET /api/products/operator-lamp',
 '[dave] GET /api/seller/products/3',
 '[bob] GET /api/seller/products/3',
 '[bob] PATCH /api/seller/products/3
{"name": "Bob Was Here"}',
 '[bob] PATCH /api/seller/variants/5
{"price": 1}',
 '[alice] PATCH /api/seller/products/3
{"name": "Alice Was Here"}',
 '[alice] POST /api/seller/products
{"name": "Alice Thing", "store_id": 2}',
 "POST /_ctl/sql
SELECT name, (SELECT price FROM product_variants WHERE id = 5) FROM products WHERE id = 3;
SELECT actor_user_id, action, entity_type, entity_id, details->>'store_id', details->>'as'
  FROM audit_log WHERE actor_user_id = 4 AND action LIKE ANY ('{product.%,variant.%}')
   AND entity_id IN ('3', '5', '16', '20') ORDER BY id;
SELECT v.sku, m.delta, m.reason, m.actor_user_id FROM stock_movements m
  JOIN product_variants v ON v.id = m.variant_id WHERE v.sku IN ('ACME-LAMP-1', 'GLX-OXF-2') ORDER BY m.id;
SELECT count(*) FROM product_approvals WHERE product_id IN (3, 16);
SELECT count(*) FROM catalog_listing_verify()"]
--- error_code eval
[200, 200, 422, 422, 201, 200, 201, 200, 200, 200, 200, 200, 404, 404, 404, 403, 403, 200]
--- response_headers eval
['X-Cache: MISS', 'X-Cache: HIT', '', '', '', '', '', '', '', 'X-Cache: MISS', 'X-Cache: MISS', '', '', '', '', '', '', '']
--- response_body_like eval
['"name" : "Oxford Shirt"',
 '"name" : "Oxford Shirt"',
 '^422 invalid_body store_id: is required: operators name the store\n$',
 '^422 invalid_body store_id: is not a known store\n$',
 '^product 16 store 1 active Operator Lamp\nvariant 19 ACME-LAMP-1 2500 4 active\n$',
 '^product 3 store 2 active Oxford Shirt Deluxe\nvariant 5 GLX-OXF-1 4999 7 active\n$',
 '^variant 20 GLX-OXF-2 5999 2 active\n$',
 '^variant 5 GLX-OXF-1 4599 7 active\n$',
 'ok',
 '"name" : "Oxford Shirt Deluxe".*"description" : "Edited by an operator."|"description" : "Edited by an operator.".*"name" : "Oxford Shirt Deluxe"',
 '"name" : "Operator Lamp"',
 '^product 3 store 2 active Oxford Shirt Deluxe\nvariant 5 GLX-OXF-1 4599 7 active\nvariant 20 GLX-OXF-2 5999 2 active\n$',
 '^404 not_found\n$',
 '^404 not_found\n$',
 '^404 not_found\n$',
 '^403 forbidden\n$',
 '^403 forbidden\n$',
 '^Oxford Shirt Deluxe\|4599\n4\|product.create\|product\|16\|1\|admin\n4\|product.update\|product\|3\|2\|admin\n4\|variant.create\|variant\|20\|2\|admin\n4\|variant.update\|variant\|5\|2\|admin\nACME-LAMP-1\|4\|received\|4\nGLX-OXF-2\|2\|received\|4\n0\n0\n$']
--- no_error_log
[error]



=== TEST 10: approval on: the store's own edit still waits (hidden, even from the cache); an operator's edit leaves it pending; an operator publishing it approves it, recorded as by /approve
--- http_config
    nexus_product_approval on;
--- response_body_filters eval
\&main::lines
--- request eval
['GET /api/products/oxford-shirt',
 '[carol] PATCH /api/seller/products/3
{"description": "Said by the owner."}',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products/oxford-shirt',
 '[dave] PATCH /api/seller/products/3
{"name": "Oxford Shirt"}',
 '[dave] PATCH /api/seller/products/3
{"status": "active"}',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products/oxford-shirt',
 "POST /_ctl/sql
SELECT product_id, decision, decided_by FROM product_approvals WHERE product_id = 3;
SELECT actor_user_id, action, details->>'status_before', details->>'status', details->>'as'
  FROM audit_log WHERE entity_type = 'product' AND entity_id = '3' ORDER BY id;
SELECT topic, payload->>'product_id', payload->>'store_id' FROM outbox WHERE topic = 'product.approved' AND payload->>'product_id' = '3'"]
--- error_code eval
[200, 200, 200, 404, 200, 200, 200, 200, 200]
--- response_headers eval
['X-Cache: MISS', '', '', 'X-Cache: MISS', '', '', '', 'X-Cache: MISS', '']
--- response_body_like eval
['"name" : "Oxford Shirt Deluxe"',
 '^product 3 store 2 pending Oxford Shirt Deluxe\n',
 'ok',
 '^404 not_found\n$',
 '^product 3 store 2 pending Oxford Shirt\n',
 '^product 3 store 2 active Oxford Shirt\n.*approval approved by 4\n$',
 'ok',
 '"name" : "Oxford Shirt".*"description" : "Said by the owner."|"description" : "Said by the owner.".*"name" : "Oxford Shirt"',
 '^3\|approved\|4\n4\|product.update\|active\|active\|admin\n3\|product.update\|active\|pending\|\n4\|product.update\|pending\|pending\|admin\n4\|product.update\|pending\|active\|admin\n4\|product.approve\|\|\|admin\nproduct.approved\|3\|2\n$']
--- no_error_log
[error]



=== TEST 11: stock for any store: one adjustment, a bulk update naming the store (all or nothing), thresholds; audited with the store; the ledger names the operator; the low-stock event fires
--- response_body_filters eval
\&main::lines
--- request eval
['[dave] POST /api/seller/variants/11/stock
{"delta": 6, "reason": "received", "note": "operator count"}',
 '[dave] POST /api/seller/stock
{"items": [{"sku": "GLX-WH-1", "quantity": 3}]}',
 '[dave] POST /api/seller/stock
{"store_id": 2, "items": [{"sku": "GLX-WH-1", "quantity": 3}, {"sku": "ACME-TEE-S", "quantity": 1}]}',
 '[dave] POST /api/seller/stock
{"store_id": 2, "items": [{"sku": "GLX-WH-1", "quantity": 3}, {"sku": "GLX-BOOT-1", "quantity": 9}], "note": "stocktake"}',
 '[dave] PATCH /api/seller/variants/9/inventory
{"low_stock_threshold": 4}',
 '[dave] PATCH /api/seller/stores/2/inventory
{"low_stock_threshold": 2}',
 '[carol] POST /api/seller/stock
{"store_id": 1, "items": [{"sku": "ACME-TEE-S", "quantity": 1}]}',
 '[bob] POST /api/seller/variants/11/stock
{"delta": 1, "reason": "received"}',
 '[alice] POST /api/seller/stock
{"store_id": 2, "items": [{"sku": "GLX-WH-1", "quantity": 1}]}',
 "POST /_ctl/sql
SELECT string_agg(sku || '=' || stock, ' ' ORDER BY id) FROM product_variants WHERE id IN (1, 8, 9, 11);
SELECT v.sku, m.delta, m.reason, m.actor_user_id, m.note FROM stock_movements m
  JOIN product_variants v ON v.id = m.variant_id WHERE m.actor_user_id = 4 AND v.id IN (8, 9, 11) ORDER BY m.id;
SELECT action, entity_type, entity_id, details->>'store_id', details->>'as' FROM audit_log
 WHERE actor_user_id = 4 AND action IN ('stock.adjust', 'stock.bulk', 'variant.inventory', 'store.inventory') ORDER BY id;
SELECT details->'items' FROM audit_log WHERE action = 'stock.bulk';
SELECT payload->>'sku', payload->>'threshold' FROM outbox WHERE topic = 'inventory.low_stock' AND payload->>'vendor_id' = '2' ORDER BY id;
SELECT count(*) FROM nexus_stock_verify()"]
--- error_code eval
[200, 422, 422, 200, 200, 200, 422, 404, 403, 200]
--- response_body_like eval
['^stock GLX-SW-1 10 threshold 5\nmove GLX-SW-1 6 received by 4 \(operator count\)\n$',
 '^422 invalid_body store_id: is required: operators name the store\n$',
 '^422 invalid_body items\[1\].sku: is not a SKU of this store\n$',
 '^changed 2\nbulk GLX-WH-1 15 -> 3\nbulk GLX-BOOT-1 0 -> 9\n$',
 '^stock GLX-WH-1 3 threshold 4 low\n$',
 '^store 2 threshold 2\n$',
 '^422 invalid_body store_id: is not one of your stores\n$',
 '^404 not_found\n$',
 '^403 forbidden\n$',
 '^ACME-TEE-S=10 GLX-BOOT-1=9 GLX-WH-1=3 GLX-SW-1=10\nGLX-SW-1\|6\|received\|4\|operator count\nGLX-BOOT-1\|9\|adjusted\|4\|stocktake\nGLX-WH-1\|-12\|adjusted\|4\|stocktake\nstock.adjust\|variant\|11\|2\|admin\nstock.bulk\|vendor\|2\|2\|admin\nvariant.inventory\|variant\|9\|2\|admin\nstore.inventory\|vendor\|2\|2\|admin\n\[\{"sku": "GLX-WH-1", "stock": 3, "previous": 15\}, \{"sku": "GLX-BOOT-1", "stock": 9, "previous": 0\}\]\nGLX-WH-1\|5\n0\n$']
--- no_error_log
[error]



=== TEST 12: lists for a store: products, low stock and the ledger need ?store= from an operator (422 without, 404 for an unknown store); store staff see their own stores as before
--- response_body_filters eval
\&main::lines
--- request eval
['[dave] GET /api/seller/products',
 '[dave] GET /api/seller/products?store=2&limit=2',
 '[dave] GET /api/seller/products?store=99',
 '[dave] GET /api/seller/stock/low',
 '[dave] GET /api/seller/stock/low?store=2',
 '[dave] GET /api/seller/stock/movements',
 '[dave] GET /api/seller/stock/movements?store=2&limit=3',
 '[dave] GET /api/seller/stock/movements?store=99',
 '[bob] GET /api/seller/stock/low?store=2',
 '[bob] GET /api/seller/stock/movements?store=2',
 '[carol] GET /api/seller/products?limit=1',
 '[alice] GET /api/seller/stock/low?store=2']
--- error_code eval
[422, 200, 404, 422, 200, 422, 200, 404, 200, 404, 200, 403]
--- response_body_like eval
['^422 store_required store: is required: name the store to act on\n$',
 '^product 8 store 2 active Smart Watch\n.*product 6 store 2 active Wireless Headphones\n.*next 6\n$',
 '^404 not_found\n$',
 '^422 store_required store: is required: name the store to act on\n$',
 '^low 20 GLX-OXF-2 2/2 store 2\nlow 9 GLX-WH-1 3/4 store 2\nnext null\n$',
 '^422 store_required store: is required: name the store to act on\n$',
 '^move GLX-WH-1 -12 adjusted by 4 \(stocktake\)\nmove GLX-BOOT-1 9 adjusted by 4 \(stocktake\)\nmove GLX-SW-1 6 received by 4 \(operator count\)\nnext \d+\n$',
 '^404 not_found\n$',
 '^next null\n$',
 '^404 not_found\n$',
 '^product 8 store 2 active Smart Watch\n',
 '^403 forbidden\n$']
--- no_error_log
[error]



=== TEST 13: media of any store's product: upload URL, complete, alt, list, delete; another store's staff get 404, customers 403; the cached product page follows; audited with the store
--- init
Nexus::Test::redis_flush(); Time::HiRes::sleep(0.4);
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint http://127.0.0.1:$TEST_NGINX_FAKE_S3_PORT;
    server {
        listen 127.0.0.1:$TEST_NGINX_FAKE_S3_PORT;
        location /media/ {
            default_type image/png;
            return 200 "not really a PNG";
        }
    }
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3.secret;
--- response_body_filters eval
\&main::lines
--- request eval
['GET /api/products/smart-watch',
 '[dave] POST /api/seller/products/8/media
{"content_type": "image/png", "size": 1234, "alt": "Side"}',
 '[bob] POST /api/seller/media/10/complete',
 '[alice] POST /api/seller/products/8/media
{"content_type": "image/png", "size": 1234}',
 '[dave] POST /api/seller/media/10/complete',
 '[dave] PATCH /api/seller/media/10
{"alt": "Side view"}',
 '[bob] DELETE /api/seller/media/10',
 '[dave] GET /api/seller/products/8/media',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products/smart-watch',
 '[dave] DELETE /api/seller/media/10',
 'GET /_ctl/sleep?s=0.2',
 'GET /api/products/smart-watch',
 "POST /_ctl/sql
SELECT action, entity_id, details->>'product_id', details->>'store_id', details->>'as'
  FROM audit_log WHERE actor_user_id = 4 AND action LIKE 'media.%' ORDER BY id;
SELECT count(*) FROM outbox WHERE topic = 'media.deleted' AND payload->>'product_id' = '8';
SELECT count(*) FROM product_media WHERE product_id = 8"]
--- error_code eval
[200, 201, 404, 403, 200, 200, 404, 200, 200, 200, 204, 200, 200, 200]
--- response_headers eval
['X-Cache: MISS', '', '', '', '', '', '', '', '', 'X-Cache: MISS', '', '', 'X-Cache: MISS', '']
--- response_body_like eval
['^(?!.*Side view)',
 '^media 10 product 8 pending - Side\nupload PUT\n$',
 '^404 not_found\n$',
 '^403 forbidden\n$',
 '^media 10 product 8 ready 1 Side\n$',
 '^media 10 product 8 ready 1 Side view\n$',
 '^404 not_found\n$',
 '^media 9 product 8 ready 0 primary Smart Watch\nmedia 10 product 8 ready 1 Side view\n$',
 'ok',
 '"alt" : "Side view"',
 '^$',
 'ok',
 '^(?!.*Side view)',
 '^media.create\|10\|8\|2\|admin\nmedia.complete\|10\|8\|2\|admin\nmedia.update\|10\|8\|2\|admin\nmedia.delete\|10\|8\|2\|admin\n1\n1\n$']
--- no_error_log
[error]
