# GET /api/search: full-text ranking (exact name first, name > tags >
# description), prefix matching, typo tolerance, the listing's filters and
# sorts, keyset pagination, facets checked against the data, bad input, and
# the cache following catalog changes (visibility included).
#
# The fixture's visible products (id name price vendor tags attrs):
#   1 Classic Tee 1999 acme organic color=red,material=cotton
#   2 Organic Cotton Tee 2499 acme organic,sale color=blue,material=cotton
#   3 Oxford Shirt 4999 globex - color=blue
#   4 Running Shoe 8999 acme sale color=blue,color=red
#   5 Leather Boot 14999 globex (out of stock)
#   6 Wireless Headphones 12999 globex sale color=blue
#   7 USB-C Cable 999 acme     8 Smart Watch 19999 globex
#   12 Cafe "Creme" Tee 2199 acme organic
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;
use JSON::PP ();

Nexus::Test::ctl_server();
Nexus::Test::reset_fixture();
END { Nexus::Test::reset_fixture() if $ENV{NEXUS_TEST_PG_PORT} }

# "ids=1,12,2 total=3 next=yes typo=no" from a search answer (other bodies
# pass through), so blocks can say in one line what came back
sub main::summary {
    my $body = shift;
    my $j = eval { JSON::PP::decode_json($body) };
    return $body unless ref $j eq 'HASH' && exists $j->{items};
    return sprintf "ids=%s total=%d next=%s typo=%s sort=%s%s",
        join(',', map { $_->{id} } @{ $j->{items} }), $j->{total},
        (defined $j->{next_cursor} ? 'yes' : 'no'),
        ($j->{typo_fallback} ? 'yes' : 'no'), $j->{sort},
        (defined $j->{corrected_query} ? " fix=$j->{corrected_query}" : '');
}

sub main::facets {
    my $body = shift;
    my $j = eval { JSON::PP::decode_json($body) };
    return $body unless ref $j eq 'HASH' && exists $j->{facets};
    my $f = $j->{facets};
    return join "\n",
        'categories: ' . join(' ', map { "$_->{slug}=$_->{count}" } @{ $f->{categories} }),
        'vendors: ' . join(' ', map { "$_->{slug}=$_->{count}" } @{ $f->{vendors} }),
        'price: ' . join(' ', map { "$_->{min}-" . ($_->{max} // '') . "=$_->{count}" } @{ $f->{price} }),
        'attributes: ' . join(' ', map { "$_->{name}:$_->{value}=$_->{count}" } @{ $f->{attributes} }),
        '';
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_') unless defined $block->http_config;
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    nexus_search_backend postgres;
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
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a search answers ranked items, the page envelope and the facets
--- request
GET /api/search?q=tee
--- error_code: 200
--- response_headers
Content-Type: application/json
X-Cache: MISS
--- response_body_like eval
qr/^\{"items":\[\{"id" : 1, "slug" : "classic-tee", .*\],"next_cursor":null,"limit":24,"sort":"relevance","total":3,"typo_fallback":false,"corrected_query":null,"facets":\{"categories" : \[.*\]\}\}$/s



=== TEST 2: the facets of the whole result set, not of the page
--- request
GET /api/search?q=tee&limit=1
--- response_body_filters eval
\&main::facets
--- response_body
categories: apparel=3 shirts=3 t-shirts=3
vendors: acme=3
price: 1000-2499=3
attributes: color:blue=1 color:red=1 material:cotton=2



=== TEST 3: an exact name ranks first, even against a name that says it twice
--- request eval
["POST /_ctl/sql\nUPDATE products SET name = 'Smart Watch Strap for any Smart Watch' WHERE slug = 'usb-c-cable'",
 "GET /_ctl/sleep?s=0.2",
 "POST /_ctl/sql\nSELECT string_agg(product_id::text, ',' ORDER BY ts_rank(doc, websearch_to_tsquery('english', 'smart watch')) DESC) FROM product_search WHERE product_id IN (7, 8)",
 "GET /api/search?q=smart%20watch",
 "GET /api/search?q=SMART%20WATCH%20",
 "GET /api/search?q=smart%20watch%20strap",
 "POST /_ctl/sql\nUPDATE products SET name = 'USB-C Cable' WHERE slug = 'usb-c-cable'"]
--- response_body_filters eval
\&main::summary
--- response_body eval
["", "ok\n", "7,8\n",
 "ids=8,7 total=2 next=no typo=no sort=relevance",
 "ids=8,7 total=2 next=no typo=no sort=relevance",
 "ids=7 total=1 next=no typo=no sort=relevance", ""]



=== TEST 4: weights: name (A) before tag names (B) before description (C)
--- request eval
["POST /_ctl/sql\nUPDATE products SET description = 'Organic cotton, woven.' WHERE slug = 'oxford-shirt'",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/search?q=organic",
 "GET /api/search?q=cotton",
 "POST /_ctl/sql\nUPDATE products SET description = 'Button-down oxford cloth shirt.' WHERE slug = 'oxford-shirt'"]
--- response_body_filters eval
\&main::summary
--- response_body_like eval
["", "ok\n",
 qr/^ids=2,(1,12|12,1),3 total=4 /,
 qr/^ids=2,(1,3|3,1) total=3 /, ""]



=== TEST 5: the last word is also a prefix (search as you type), from its second character on
--- request eval
["GET /api/search?q=headph", "GET /api/search?q=wireless%20headph",
 "GET /api/search?q=smart%20wa", "GET /api/search?q=wi",
 "GET /api/search?q=%22smart%20wa%22", "GET /api/search?q=watch%20-smart",
 "GET /api/search?q=w", "GET /api/search?q=smart%20w"]
--- response_body_filters eval
\&main::summary
--- response_body eval
["ids=6 total=1 next=no typo=no sort=relevance",
 "ids=6 total=1 next=no typo=no sort=relevance",
 "ids=8 total=1 next=no typo=no sort=relevance",
 "ids=6 total=1 next=no typo=no sort=relevance",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids=8 total=1 next=no typo=no sort=relevance"]



=== TEST 6: misspelled words are corrected from the lexicon of visible names and tags when fewer than 5 products match
--- request eval
["GET /api/search?q=hedphones", "GET /api/search?q=runing%20shoe",
 "GET /api/search?q=organik%20cotton", "GET /api/search?q=zzqqxxjj",
 "GET /api/search?q=hedphones&vendor=acme",
 "GET /api/search?q=wireles%20hedphones",
 "GET /api/search?q=jackit",
 "GET /api/search?q=%22organik%20cotton%22",
 "GET /api/search?q=tee%20-organik",
 "GET /api/search?q=smartt&sort=price",
 "POST /_ctl/sql\nSELECT string_agg(word, ',' ORDER BY word) FROM search_words WHERE word IN ('headphones', 'organic', 'jacket', 'archived', 'hoodie', 'shady')"]
--- response_body_filters eval
\&main::summary
--- response_body eval
["ids=6 total=1 next=no typo=yes sort=relevance fix=headphones",
 "ids=4 total=1 next=no typo=yes sort=relevance fix=running shoe",
 "ids=2,1 total=2 next=no typo=yes sort=relevance fix=organic cotton",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids=6 total=1 next=no typo=yes sort=relevance fix=wireless headphones",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids=12,2,1 total=3 next=no typo=no sort=relevance",
 "ids=8 total=1 next=no typo=yes sort=price fix=smart",
 "headphones,organic\n"]



=== TEST 7: the listing's filters and sorts
--- request eval
["GET /api/search?q=tee&sort=price", "GET /api/search?q=tee&sort=-price",
 "GET /api/search?q=tee&max_price=2200", "GET /api/search?q=tee&min_price=2200",
 "GET /api/search?q=tee&attr=material:cotton", "GET /api/search?q=sale&vendor=globex",
 "GET /api/search?q=sale&tag=organic", "GET /api/search?q=sale&sort=name",
 "GET /api/search?q=sale&sort=newest", "GET /api/search?q=sale&sort=rating",
 "GET /api/search?q=tee&category=electronics", "GET /api/search?q=boot&in_stock=true",
 "GET /api/search?q=boot&in_stock=false", "GET /api/search?q=tee&category=t-shirts&sort=-price&limit=2"]
--- response_body_filters eval
\&main::summary
--- response_body eval
["ids=1,12,2 total=3 next=no typo=no sort=price",
 "ids=2,12,1 total=3 next=no typo=no sort=-price",
 "ids=1,12 total=2 next=no typo=no sort=relevance",
 "ids=2 total=1 next=no typo=no sort=relevance",
 "ids=1,2 total=2 next=no typo=no sort=relevance",
 "ids=6 total=1 next=no typo=no sort=relevance",
 "ids=2 total=1 next=no typo=no sort=relevance",
 "ids=2,4,6 total=3 next=no typo=no sort=name",
 "ids=6,4,2 total=3 next=no typo=no sort=newest",
 "ids=6,2,4 total=3 next=no typo=no sort=rating",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids=5 total=1 next=no typo=no sort=relevance",
 "ids=2,12 total=3 next=yes typo=no sort=-price"]



=== TEST 8: keyset pagination by (rank, id) walks the results once each
--- request eval
["GET /_ctl/http/api/search?q=tee&limit=1",
 "GET /_ctl/http/api/search?q=tee&limit=1&cursor={{c}}",
 "GET /_ctl/http/api/search?q=tee&limit=1&cursor={{c}}",
 "GET /_ctl/http/api/search?q=sale%20or%20tee&limit=2&sort=name",
 "GET /_ctl/http/api/search?q=sale%20or%20tee&limit=2&sort=name&cursor={{n}}",
 "GET /_ctl/http/api/search?q=sale%20or%20tee&limit=2&sort=name&cursor={{n}}",
 "GET /_ctl/http/api/search?q=sale%20or%20tee&limit=2&sort=price",
 "GET /_ctl/http/api/search?q=sale%20or%20tee&limit=2&sort=price&cursor={{p}}",
 "GET /_ctl/http/api/search?q=sale%20or%20tee&limit=2&sort=price&cursor={{p}}"]
--- more_headers eval
["X-Ctl-Save: c=json:next_cursor", "X-Ctl-Save: c=json:next_cursor", "",
 "X-Ctl-Save: n=json:next_cursor", "X-Ctl-Save: n=json:next_cursor", "",
 "X-Ctl-Save: p=json:next_cursor", "X-Ctl-Save: p=json:next_cursor", ""]
--- response_body_filters eval
\&main::summary
--- response_body eval
["ids=1 total=3 next=yes typo=no sort=relevance",
 "ids=12 total=3 next=yes typo=no sort=relevance",
 "ids=2 total=3 next=no typo=no sort=relevance",
 "ids=12,1 total=5 next=yes typo=no sort=name",
 "ids=2,4 total=5 next=yes typo=no sort=name",
 "ids=6 total=5 next=no typo=no sort=name",
 "ids=1,12 total=5 next=yes typo=no sort=price",
 "ids=2,4 total=5 next=yes typo=no sort=price",
 "ids=6 total=5 next=no typo=no sort=price"]



=== TEST 9: facet counts agree with counts computed from the catalog tables
--- request
POST /_ctl/sql
WITH r AS (
    SELECT body::json -> 'facets' AS f
      FROM nexus_search('tee or shirt or shoe or watch or sale', NULL, NULL, 0,
                        999999999999999, NULL, NULL, false, 'relevance', 1, NULL, NULL)
), ids AS (
    SELECT p.id, p.vendor_id, p.price_min
      FROM products p JOIN vendors v ON v.id = p.vendor_id
     WHERE p.status = 'active' AND v.status = 'active' AND p.price_min IS NOT NULL
       AND (p.name ~* '(tee|shirt|shoe|watch)'
            OR EXISTS (SELECT 1 FROM product_tags pt JOIN tags t ON t.id = pt.tag_id
                        WHERE pt.product_id = p.id AND t.slug = 'sale'))
), want_cat AS (
    SELECT c.slug, count(DISTINCT ids.id) AS n
      FROM ids JOIN product_categories pc ON pc.product_id = ids.id
      JOIN category_closure cc ON cc.descendant_id = pc.category_id
      JOIN categories c ON c.id = cc.ancestor_id
     GROUP BY c.slug
), got_cat AS (
    SELECT e ->> 'slug' AS slug, (e ->> 'count')::bigint AS n
      FROM r, json_array_elements(r.f -> 'categories') e
), want_ven AS (
    SELECT v.slug, count(*) AS n FROM ids JOIN vendors v ON v.id = ids.vendor_id GROUP BY v.slug
), got_ven AS (
    SELECT e ->> 'slug', (e ->> 'count')::bigint FROM r, json_array_elements(r.f -> 'vendors') e
), want_price AS (
    SELECT CASE WHEN price_min < 1000 THEN 0 WHEN price_min < 2500 THEN 1000
                WHEN price_min < 5000 THEN 2500 WHEN price_min < 10000 THEN 5000
                WHEN price_min < 25000 THEN 10000 WHEN price_min < 50000 THEN 25000
                ELSE 50000 END AS lo, count(*) AS n
      FROM ids GROUP BY 1
), got_price AS (
    SELECT (e ->> 'min')::int, (e ->> 'count')::bigint FROM r, json_array_elements(r.f -> 'price') e
), want_attr AS (
    SELECT a.slug, pav.value, count(*) AS n
      FROM ids JOIN product_attribute_values pav ON pav.product_id = ids.id
      JOIN attributes a ON a.id = pav.attribute_id
     GROUP BY 1, 2
), got_attr AS (
    SELECT e ->> 'name', e ->> 'value', (e ->> 'count')::bigint
      FROM r, json_array_elements(r.f -> 'attributes') e
)
SELECT (SELECT count(*) FROM ids) || ' products; mismatches: '
    || (SELECT count(*) FROM ((TABLE want_cat EXCEPT TABLE got_cat) UNION ALL (TABLE got_cat EXCEPT TABLE want_cat)) x) || ' '
    || (SELECT count(*) FROM ((TABLE want_ven EXCEPT TABLE got_ven) UNION ALL (TABLE got_ven EXCEPT TABLE want_ven)) x) || ' '
    || (SELECT count(*) FROM ((TABLE want_price EXCEPT TABLE got_price) UNION ALL (TABLE got_price EXCEPT TABLE want_price)) x) || ' '
    || (SELECT count(*) FROM ((TABLE want_attr EXCEPT TABLE got_attr) UNION ALL (TABLE got_attr EXCEPT TABLE want_attr)) x)
    || '; categories ' || (SELECT count(*) FROM got_cat)
--- response_body
7 products; mismatches: 0 0 0 0; categories 5



=== TEST 9b: without q, a faceted listing: every visible product in scope, newest first, with the filters, sorts, pagination and facets
--- request eval
["GET /api/search", "GET /api/search?category=apparel",
 "GET /_ctl/http/api/search?category=apparel&sort=price&limit=2",
 "GET /_ctl/http/api/search?category=apparel&sort=price&limit=2&cursor={{next}}",
 "GET /api/search?category=shirts&max_price=2200",
 "GET /api/search?vendor=globex&in_stock=true",
 "GET /api/search?tag=sale&sort=name",
 "POST /_ctl/sql\nSELECT string_agg(product_id::text, ',' ORDER BY product_id DESC) FROM catalog_listing WHERE category_id = (SELECT id FROM categories WHERE slug = 'apparel')"]
--- more_headers eval
["", "", "X-Ctl-Save: next=json:next_cursor", "", "", "", "", ""]
--- response_body_filters eval
\&main::summary
--- response_body eval
["ids=12,8,7,6,5,4,3,2,1 total=9 next=no typo=no sort=newest",
 "ids=12,8,5,4,3,2,1 total=7 next=no typo=no sort=newest",
 "ids=1,12 total=7 next=yes typo=no sort=price",
 "ids=2,3 total=7 next=yes typo=no sort=price",
 "ids=12,1 total=2 next=no typo=no sort=newest",
 "ids=8,6,3 total=3 next=no typo=no sort=newest",
 "ids=2,4,6 total=3 next=no typo=no sort=name",
 "12,8,5,4,3,2,1\n"]



=== TEST 9c: a listing's facets agree with counts computed from the catalog tables
--- request
POST /_ctl/sql
WITH r AS (
    SELECT body::json -> 'facets' AS f, body::json -> 'total' AS total
      FROM nexus_search(NULL, 'apparel', NULL, 0, 999999999999999, NULL, NULL,
                        false, 'newest', 1, NULL, NULL)
), ids AS (
    SELECT DISTINCT p.id, p.vendor_id, p.price_min
      FROM products p JOIN vendors v ON v.id = p.vendor_id
      JOIN product_categories pc ON pc.product_id = p.id
      JOIN category_closure cc ON cc.descendant_id = pc.category_id
      JOIN categories c ON c.id = cc.ancestor_id AND c.slug = 'apparel'
     WHERE p.status = 'active' AND v.status = 'active' AND p.price_min IS NOT NULL
       AND EXISTS (SELECT 1 FROM product_variants pv
                    WHERE pv.product_id = p.id AND pv.status = 'active')
), want_cat AS (
    SELECT c.slug, count(DISTINCT ids.id) AS n
      FROM ids JOIN product_categories pc ON pc.product_id = ids.id
      JOIN category_closure cc ON cc.descendant_id = pc.category_id
      JOIN categories c ON c.id = cc.ancestor_id
     GROUP BY c.slug
), got_cat AS (
    SELECT e ->> 'slug' AS slug, (e ->> 'count')::bigint AS n
      FROM r, json_array_elements(r.f -> 'categories') e
), want_ven AS (
    SELECT v.slug, count(*) AS n FROM ids JOIN vendors v ON v.id = ids.vendor_id GROUP BY v.slug
), got_ven AS (
    SELECT e ->> 'slug', (e ->> 'count')::bigint FROM r, json_array_elements(r.f -> 'vendors') e
), want_attr AS (
    SELECT a.slug, pav.value, count(*) AS n
      FROM ids JOIN product_attribute_values pav ON pav.product_id = ids.id
      JOIN attributes a ON a.id = pav.attribute_id
     GROUP BY 1, 2
), got_attr AS (
    SELECT e ->> 'name', e ->> 'value', (e ->> 'count')::bigint
      FROM r, json_array_elements(r.f -> 'attributes') e
)
SELECT (SELECT count(*) FROM ids) || ' products, total ' || (SELECT total FROM r)::text
    || '; mismatches: '
    || (SELECT count(*) FROM ((TABLE want_cat EXCEPT TABLE got_cat) UNION ALL (TABLE got_cat EXCEPT TABLE want_cat)) x) || ' '
    || (SELECT count(*) FROM ((TABLE want_ven EXCEPT TABLE got_ven) UNION ALL (TABLE got_ven EXCEPT TABLE want_ven)) x) || ' '
    || (SELECT count(*) FROM ((TABLE want_attr EXCEPT TABLE got_attr) UNION ALL (TABLE got_attr EXCEPT TABLE want_attr)) x)
    || '; categories ' || (SELECT count(*) FROM got_cat)
--- response_body
7 products, total 7; mismatches: 0 0 0; categories 5



=== TEST 10: bad input answers 400 problems
--- request eval
["GET /api/search?sort=relevance", "GET /api/search?q=", "GET /api/search?q=%20%20",
 "GET /api/search?q=" . ("a" x 201), "GET /api/search?q=%FF%FE",
 "GET /api/search?q=a%01b", "GET /api/search?q=tee&sort=best",
 "GET /api/search?q=tee&limit=0", "GET /api/search?q=tee&cursor=%21%21%21",
 "GET /api/search?q=tee&cursor=" . Nexus::Test::cursor('p', 1999, 1),
 "GET /api/search?q=tee&cursor=" . Nexus::Test::cursor('s', 'NaN', 1),
 "GET /api/search?q=tee&cursor=" . Nexus::Test::cursor('s', '-1.5', 'x'),
 "GET /api/search?q=tee&page=2", "GET /api/search?q=tee&q=shirt",
 "GET /api/search?q=tee&min_price=-1", "GET /api/search?q=tee&category=nope",
 "GET /api/search?q=tee&vendor=shady", "GET /api/search?q=" . ("a" x 200)]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 404, 404, 200]
--- response_body_like eval
['"name":"sort","reason":"relevance needs q"', '"name":"q"', '"name":"q"', '"name":"q"', '"name":"q"',
 '"name":"q"', '"name":"sort"', '"name":"limit"', '"name":"cursor"',
 '"name":"cursor"', '"name":"cursor"', '"name":"cursor"', '"name":"page"',
 'given more than once', '"name":"min_price"', '"code":"category_not_found"',
 '"code":"vendor_not_found"', '"items":\[\]']
--- no_error_log
[error]



=== TEST 11: answers are cached, and a rename is searchable once PostgreSQL says the catalog changed
--- request eval
["GET /api/search?q=classic", "GET /api/search?q=classic", "GET /api/search?q=zebra",
 "POST /_ctl/sql\nUPDATE products SET name = 'Classic Zebra Tee' WHERE slug = 'classic-tee'",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/search?q=zebra", "GET /api/search?q=zebra", "GET /api/search?q=classic",
 "POST /_ctl/sql\nUPDATE products SET name = 'Classic Tee' WHERE slug = 'classic-tee'"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "", "", "X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", ""]
--- response_body_like eval
['"name" : "Classic Tee"', '"name" : "Classic Tee"', '^\{"items":\[\]', "", "ok",
 '"name" : "Classic Zebra Tee"', '"name" : "Classic Zebra Tee"', '"name" : "Classic Zebra Tee"', ""]



=== TEST 12: a product archived, or of a vendor not active, leaves every search at once
--- request eval
["GET /api/search?q=oxford", "GET /api/search?q=oxford", "GET /api/search?q=gadget",
 "POST /_ctl/sql\nUPDATE products SET status = 'archived' WHERE slug = 'oxford-shirt'",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/search?q=oxford", "GET /api/search?q=oxfrod", "GET /api/search?q=shirt&category=shirts",
 "POST /_ctl/sql\nUPDATE products SET status = 'active' WHERE slug = 'oxford-shirt'",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/search?q=oxford"]
--- response_body_filters eval
\&main::summary
--- response_body eval
["ids=3 total=1 next=no typo=no sort=relevance",
 "ids=3 total=1 next=no typo=no sort=relevance",
 "ids= total=0 next=no typo=no sort=relevance", "", "ok\n",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids= total=0 next=no typo=no sort=relevance", "", "ok\n",
 "ids=3 total=1 next=no typo=no sort=relevance"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "", "", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "", "", "X-Cache: MISS"]



=== TEST 13: the search document follows tag names, tag links and descriptions
--- request eval
["POST /_ctl/sql\nUPDATE tags SET name = 'Bargain' WHERE slug = 'sale'",
 "POST /_ctl/sql\nINSERT INTO product_tags (product_id, tag_id) VALUES (8, 2)",
 "POST /_ctl/sql\nUPDATE products SET description = 'Waterproof, with a zebra strap.' WHERE slug = 'smart-watch'",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/search?q=bargain&sort=price", "GET /api/search?q=sale", "GET /api/search?q=zebra",
 "POST /_ctl/sql\nSELECT count(*) FROM product_search_verify()",
 "POST /_ctl/sql\nDELETE FROM product_tags WHERE product_id = 8 AND tag_id = 2; UPDATE tags SET name = 'Sale' WHERE slug = 'sale'; UPDATE products SET description = 'Tracks steps and sleep.' WHERE slug = 'smart-watch'",
 "POST /_ctl/sql\nSELECT count(*) FROM product_search_verify()",
 "POST /_ctl/sql\nSELECT count(*) FROM search_items_verify()"]
--- response_body_filters eval
\&main::summary
--- response_body eval
["", "", "", "ok\n",
 "ids=2,4,6,8 total=4 next=no typo=no sort=price",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids=8 total=1 next=no typo=no sort=relevance",
 "0\n", "", "0\n", "0\n"]



=== TEST 13b: search_items follows price, stock, category, attribute and vendor changes (filters and facets from the same row)
--- request eval
["POST /_ctl/sql\nUPDATE product_variants SET price = 15000 WHERE product_id = 6",
 "POST /_ctl/sql\nUPDATE product_variants SET stock = 0 WHERE product_id = 4",
 "POST /_ctl/sql\nINSERT INTO product_categories (product_id, category_id, is_primary) VALUES (6, 2, false)",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/search?q=headphones&min_price=14000",
 "GET /api/search?q=shoe&in_stock=true",
 "GET /api/search?q=headphones&category=shirts",
 "POST /_ctl/sql\nSELECT count(*) FROM search_items_verify()",
 "POST /_ctl/sql\nUPDATE vendors SET status = 'suspended' WHERE slug = 'globex'",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/search?q=headphones",
 "POST /_ctl/sql\nSELECT count(*) FROM search_items WHERE vendor_id = 2",
 "POST /_ctl/sql\nUPDATE vendors SET status = 'active' WHERE slug = 'globex'; UPDATE product_variants SET price = 12999 WHERE product_id = 6; UPDATE product_variants SET stock = CASE id WHEN 6 THEN 3 ELSE 2 END WHERE product_id = 4; DELETE FROM product_categories WHERE product_id = 6 AND category_id = 2",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/search?q=headphones",
 "POST /_ctl/sql\nSELECT count(*) FROM search_items_verify()"]
--- response_body_filters eval
\&main::summary
--- response_body eval
["", "", "", "ok\n",
 "ids=6 total=1 next=no typo=no sort=relevance",
 "ids= total=0 next=no typo=no sort=relevance",
 "ids=6 total=1 next=no typo=no sort=relevance",
 "0\n", "", "ok\n",
 "ids= total=0 next=no typo=no sort=relevance",
 "0\n", "", "ok\n",
 "ids=6 total=1 next=no typo=no sort=relevance",
 "0\n"]



=== TEST 13c: concurrent writers to the same products leave search_items, the search documents and the listing consistent
--- init
Nexus::Test::redis_flush();
my @kids;
for my $k (1 .. 6) {
    my $pid = fork() // die "fork: $!\n";
    if ($pid == 0) {
        srand($k * 7919);
        my @ids = (1, 2, 4, 6, 8);
        my $sql = "\\set ON_ERROR_STOP off\n";
        for (1 .. 60) {
            my $p = $ids[int rand @ids];
            my $t = 1 + int rand 2;
            my $c = 1 + int rand 5;
            my @w = (
                "UPDATE products SET description = 'Revision $k.$_ of the text.' WHERE id = $p;",
                "INSERT INTO product_tags (product_id, tag_id) VALUES ($p, $t) ON CONFLICT DO NOTHING;",
                "DELETE FROM product_tags WHERE product_id = $p AND tag_id = $t;",
                "UPDATE product_variants SET price = price + 1 WHERE product_id = $p AND (compare_at_price IS NULL OR compare_at_price > price + 1);",
                "UPDATE product_variants SET stock = (stock + 3) % 7 WHERE product_id = $p;",
                "INSERT INTO product_categories (product_id, category_id, is_primary) VALUES ($p, $c, false) ON CONFLICT DO NOTHING;",
                "DELETE FROM product_categories WHERE product_id = $p AND category_id = $c AND NOT is_primary;",
                "BEGIN; UPDATE products SET name = name || '' WHERE id = $p; UPDATE product_variants SET price = price - 1 WHERE product_id = $p AND price > 100; COMMIT;",
            );
            $sql .= $w[int rand @w] . "\n";
        }
        eval { Nexus::Test::psql($sql) };
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
waitpid($_, 0) for @kids;
--- request eval
["POST /_ctl/sql\nSELECT count(*) FROM search_items_verify()",
 "POST /_ctl/sql\nSELECT count(*) FROM product_search_verify()",
 "POST /_ctl/sql\nSELECT count(*) FROM (SELECT * FROM catalog_listing_expected EXCEPT SELECT * FROM catalog_listing) x",
 "POST /_ctl/sql\nSELECT count(*) FROM products WHERE description LIKE 'Revision %'"]
--- response_body_like eval
["^0\n\$", "^0\n\$", "^0\n\$", "^[1-9][0-9]*\n\$"]



=== TEST 14: an unknown search backend refuses to start
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x user=nexus";
    nexus_search_backend opensearch;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
unknown search backend "opensearch" (known: postgres)



=== TEST 15: nexus_search_backend twice is refused
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x user=nexus";
    nexus_search_backend postgres;
    nexus_search_backend postgres;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_search_backend" directive is duplicate
