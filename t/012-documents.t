# Precomputed product documents and listing rows (with their ready list
# items) stay equal to what their builders make from the catalog, after every kind of write, whoever makes it (plain SQL here).
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;

Nexus::Test::ctl_server();
Nexus::Test::reset_fixture();
END { Nexus::Test::reset_fixture() if $ENV{NEXUS_TEST_PG_PORT} }

our $Verify = "SELECT (SELECT count(*) FROM product_documents_verify()) + (SELECT count(*) FROM catalog_listing_verify())";

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_') unless defined $block->http_config;
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
_EOC_

    $block->set_value("config", <<'_EOC_') unless defined $block->config;
    location /api/ { nexus_api; }
    location /_ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; }
_EOC_
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the fixture's documents are consistent, and only visible products have one
--- request eval
["POST /_ctl/sql\n$main::Verify",
 "POST /_ctl/sql\nSELECT string_agg(product_id::text, ',' ORDER BY product_id) FROM product_documents"]
--- response_body eval
["0\n", "1,2,3,4,5,6,7,8,12,13\n"]



=== TEST 2: every kind of write keeps them consistent
--- request eval
["POST /_ctl/sql\nUPDATE products SET description = 'New words.' WHERE slug = 'classic-tee'",
 "POST /_ctl/sql\nUPDATE product_variants SET stock = 0, title = 'Small' WHERE sku = 'ACME-TEE-S'",
 "POST /_ctl/sql\nINSERT INTO product_media (product_id, url, alt, position, is_primary, content_type, width, height) VALUES (3, 'https://images.example.com/products/oxford-shirt-9.jpg', 'Back', 5, false, 'image/jpeg', 800, 800)",
 "POST /_ctl/sql\nUPDATE categories SET name = 'Tees' WHERE slug = 't-shirts'",
 "POST /_ctl/sql\nUPDATE tags SET slug = 'eco' WHERE slug = 'organic'",
 "POST /_ctl/sql\nUPDATE attributes SET name = 'Colour' WHERE slug = 'color'",
 "POST /_ctl/sql\nDELETE FROM product_tags WHERE product_id = 4",
 "POST /_ctl/sql\nUPDATE vendors SET name = 'Globex Gadgets' WHERE slug = 'globex'",
 "POST /_ctl/sql\nINSERT INTO reviews (product_id, user_id, rating, title, body, status) VALUES (3, 3, 4, 'Fine', 'A fine shirt.', 'approved')",
 "POST /_ctl/sql\nUPDATE products SET slug = 'oxford-shirt-blue' WHERE slug = 'oxford-shirt'",
 "POST /_ctl/sql\n$main::Verify",
 "GET /api/products/classic-tee",
 "GET /api/products/oxford-shirt-blue",
 "GET /api/products/oxford-shirt"]
--- response_body_like eval
["", "", "", "", "", "", "", "", "", "",
 "^0\$",
 '"description" : "New words\.".*"categories" : \[\{"id" : 3, "slug" : "t-shirts", "name" : "Tees".*"tags" : \["eco"\].*"name" : "Colour".*"sku" : "ACME-TEE-S", "title" : "Small", .*"in_stock" : false, "stock" : 0',
 '"slug" : "oxford-shirt-blue".*"rating" : \{"average" : 4\.00, "count" : 1\}.*"vendor" : \{"id" : 2, "slug" : "globex", "name" : "Globex Gadgets"\}.*/oxford-shirt-9\.jpg"',
 '"code":"not_found"']
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404]



=== TEST 3: hiding and showing: archived products, suspended vendors, deleted products
--- request eval
["POST /_ctl/sql\nUPDATE products SET status = 'archived' WHERE slug = 'usb-c-cable'",
 "POST /_ctl/sql\nUPDATE vendors SET status = 'suspended' WHERE slug = 'globex'",
 "POST /_ctl/sql\nSELECT string_agg(product_id::text, ',' ORDER BY product_id) FROM product_documents",
 "POST /_ctl/sql\nUPDATE vendors SET status = 'active' WHERE slug = 'globex'",
 "POST /_ctl/sql\nUPDATE products SET status = 'active' WHERE slug = 'usb-c-cable'",
 "POST /_ctl/sql\nDELETE FROM products WHERE slug = 'no-variant-cap'",
 "POST /_ctl/sql\nSELECT string_agg(product_id::text, ',' ORDER BY product_id) FROM product_documents",
 "POST /_ctl/sql\n$main::Verify"]
--- response_body eval
["", "", "1,2,4,12,13\n", "", "", "", "1,2,3,4,5,6,7,8,12\n", "0\n"]
