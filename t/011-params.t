# Bad input gets a 400 (or 404) problem document naming the parameter and
# why; never a 500, never a crash, never SQL from the client.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;
use MIME::Base64 ();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_') unless defined $block->http_config;
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
_EOC_

    $block->set_value("config", <<'_EOC_') unless defined $block->config;
    location /api/ {
        nexus_api;
        nexus_page_size_max 50;
    }
_EOC_

    # each block is one bad request: 400, problem+json, the parameter named
    if (defined(my $param = $block->param)) {
        $block->set_value("error_code", 400) unless defined $block->error_code;
        $block->set_value("response_headers",
                          "Content-Type: application/problem+json\n")
            unless defined $block->response_headers;
        $block->set_value("response_body_like",
            qq{^\\{"type":"https://nexus.dev/problems/invalid_parameter","title":"Bad Request","status":400,"code":"invalid_parameter","detail":"Parameter \\\\"\Q$param\E\\\\" [^"]+","invalid_params":\\[\\{"name":"\Q$param\E","reason":"[^"]+"\\}\\]\\}\$})
            unless defined $block->response_body_like;
    }

    $block->set_value("no_error_log", "[error]\n[alert]\n")
        unless defined $block->no_error_log;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: non-numeric price
--- request
GET /api/products?min_price=abc
--- param: min_price



=== TEST 2: negative price
--- request
GET /api/products?max_price=-5
--- param: max_price



=== TEST 3: a decimal price (amounts are integer minor units)
--- request
GET /api/products?min_price=19.99
--- param: min_price



=== TEST 4: an absurd price
--- request
GET /api/products?max_price=99999999999999999999999
--- param: max_price



=== TEST 5: min above max
--- request
GET /api/products?min_price=500&max_price=100
--- param: min_price



=== TEST 6: negative limit
--- request
GET /api/products?limit=-1
--- param: limit



=== TEST 7: zero limit
--- request
GET /api/products?limit=0
--- param: limit



=== TEST 8: a limit above the cap
--- request
GET /api/products?limit=51
--- param: limit



=== TEST 9: a non-numeric limit
--- request
GET /api/products?limit=ten
--- param: limit



=== TEST 10: an unknown sort key
--- request
GET /api/products?sort=popularity
--- param: sort



=== TEST 11: SQL in a sort key
--- request
GET /api/products?sort=price%3B%20DROP%20TABLE%20products
--- param: sort



=== TEST 12: SQL metacharacters in a category slug
--- request
GET /api/products?category=%27%20OR%201%3D1%20--
--- param: category



=== TEST 13: SQL metacharacters in a vendor slug
--- request
GET /api/products?vendor=acme%27%3B--
--- param: vendor



=== TEST 14: SQL metacharacters in a tag
--- request
GET /api/products?tag=sale%22%29%20OR%20%28%221%22%3D%221
--- param: tag



=== TEST 15: SQL metacharacters in an attribute value are only data
--- request
GET /api/products?attr=color:red%27%20OR%20%271%27%3D%271
--- response_body chomp
{"items":[],"next_cursor":null,"limit":24,"sort":"price"}
--- error_code: 200



=== TEST 16: an attribute filter without a value
--- request
GET /api/products?attr=color
--- param: attr



=== TEST 17: an attribute filter with a bad name
--- request
GET /api/products?attr=Co%20lor:red
--- param: attr



=== TEST 18: in_stock that is not a boolean
--- request
GET /api/products?in_stock=maybe
--- param: in_stock



=== TEST 19: a huge cursor
--- request eval
"GET /api/products?cursor=" . ("A" x 5000)
--- param: cursor



=== TEST 20: a cursor that is not base64
--- request
GET /api/products?cursor=%%%%
--- param: cursor



=== TEST 21: a cursor with a non-numeric key
--- request eval
"GET /api/products?cursor=" . Nexus::Test::cursor('p', 'abc', 1)
--- param: cursor



=== TEST 22: a cursor with SQL in it
--- request eval
"GET /api/products?cursor=" . Nexus::Test::cursor('p', "1) OR (1=1", 1)
--- param: cursor



=== TEST 23: a cursor from another sort order
--- request eval
"GET /api/products?sort=newest&cursor=" . Nexus::Test::cursor('p', 1999, 1)
--- param: cursor



=== TEST 24: a cursor with a key out of range for bigint
--- request eval
"GET /api/products?cursor=" . Nexus::Test::cursor('p', '9' x 30, 1)
--- param: cursor



=== TEST 25: a name cursor that is not UTF-8 is rejected by PostgreSQL as data, not a 500
--- request eval
"GET /api/products?sort=name&cursor=" . MIME::Base64::encode_base64url("a.\xff\xfe.1")
--- response_body_like: "status":400,"code":"invalid_parameter"
--- error_code: 400



=== TEST 26: a rating cursor with an impossible number is a 400
--- request eval
"GET /api/products?sort=rating&cursor=" . Nexus::Test::cursor('r', '1.2.3', 1)
--- response_body_like: "status":400
--- error_code: 400



=== TEST 27: an unknown parameter is named
--- request
GET /api/products?colour=red
--- param: colour



=== TEST 28: a repeated parameter
--- request
GET /api/products?tag=sale&tag=organic
--- param: tag



=== TEST 29: parameters on a document route
--- request
GET /api/products/classic-tee?expand=all
--- param: expand



=== TEST 30: an unknown parameter with binary junk in its name is not echoed
--- request
GET /api/products?%00%ff=1
--- param: (query)



=== TEST 31: SQL in a product slug is just not found
--- request
GET /api/products/classic-tee%27%20OR%20%271%27%3D%271
--- response_body_like: "status":404,"code":"not_found"
--- error_code: 404



=== TEST 32: a very long slug is not found, not an error
--- request eval
"GET /api/products/" . ("a" x 5000)
--- response_body_like: "status":404
--- error_code: 404



=== TEST 33: percent-encoded values are decoded once
--- request
GET /api/products?tag=%6Frganic&limit=%31
--- response_body_like: ^\{"items":\[\{"id" : 1, "slug" : "classic-tee"
--- error_code: 200



=== TEST 34: too many parameters
--- request
GET /api/products?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12&m=13&n=14&o=15&p=16&q=17
--- param: (query)
