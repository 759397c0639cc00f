# Single-seller mode (nexus_single_seller on): one implicit store, so the
# public catalog names no vendor (no "vendor" members in lists or
# documents, no vendor filter, no /api/vendors/, no store applications),
# through the same code paths and the same cache (kept apart from a
# marketplace's entries in a shared Redis).
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;

Nexus::Test::reset_fixture();

our $Http = <<'_EOC_';
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $main::Http . ($block->http_config // ''));

    $block->set_value("config", <<'_EOC_') unless defined $block->config;
    location /api/ {
        nexus_api;
        nexus_cache on;
        nexus_cache_ttl 60s;
    }
_EOC_

    $block->set_value("init", "Nexus::Test::redis_flush(); Time::HiRes::sleep(0.4);")
        unless defined $block->init;
});

# no "vendor" member anywhere in a JSON body, and still valid JSON
sub main::no_vendor {
    return sub {
        my ($body) = @_;
        my $json = eval { JSON::PP::decode_json($body) };
        return "not JSON: $body" unless defined $json;
        my @found;
        my $walk;
        $walk = sub {
            my ($v, $path) = @_;
            if (ref $v eq 'HASH') {
                for my $k (sort keys %$v) {
                    push @found, "$path.$k" if $k =~ /^vendors?(_id)?$/;
                    $walk->($v->{$k}, "$path.$k");
                }
            } elsif (ref $v eq 'ARRAY') {
                $walk->($v->[$_], "$path\[$_]") for 0 .. $#$v;
            }
        };
        $walk->($json, '');
        return @found ? "vendor members: @found\n" : "no vendor members\n";
    };
}

use JSON::PP ();

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a marketplace names vendors (the control for the blocks below)
--- request eval
["GET /api/products?limit=2", "GET /api/products/classic-tee",
 "GET /api/vendors/acme"]
--- response_body_filters eval
main::no_vendor()
--- response_body eval
["vendor members: .items[0].vendor .items[1].vendor\n",
 "vendor members: .vendor\n", "no vendor members\n"]
--- error_code eval
[200, 200, 200]



=== TEST 2: single seller: lists and documents name no vendor, uncached and cached
--- http_config
    nexus_single_seller on;
--- request eval
["GET /api/products?limit=3", "GET /api/products?limit=3",
 "GET /api/products/classic-tee", "GET /api/products/classic-tee",
 "GET /api/categories/t-shirts", "GET /api/products?category=shoes&sort=price"]
--- response_body_filters eval
main::no_vendor()
--- response_body eval
[("no vendor members\n") x 6]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "X-Cache: HIT", "", ""]
--- error_code eval
[200, 200, 200, 200, 200, 200]



=== TEST 2b: single seller: search results and their facets name no vendor
--- http_config
    nexus_single_seller on;
--- request eval
["GET /api/search?q=tee", "GET /api/search?q=tee"]
--- response_body_filters eval
main::no_vendor()
--- response_body eval
[("no vendor members\n") x 2]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- error_code eval
[200, 200]



=== TEST 3: single seller: the rest of each document is unchanged
--- http_config
    nexus_single_seller on;
--- request
GET /api/products/classic-tee
--- response_body_like eval
qr/^\{"id":1,"slug":"classic-tee","name":"Classic Tee",.*"variants":\[\{"id":1,"sku":"ACME-TEE-S"/
--- error_code: 200



=== TEST 4: single seller: no vendor routes, filter or store applications
--- http_config
    nexus_single_seller on;
--- request eval
["GET /api/vendors/acme", "GET /api/products?vendor=acme",
 "POST /api/stores\n{}"]
--- more_headers eval
["", "", "Content-Type: application/json"]
--- error_code eval
[404, 400, 404]
--- response_body_like eval
['"code":"not_found"', '"name":"vendor","reason":"is not offered by a single-seller store"',
 '"code":"not_found"']



=== TEST 5: a marketplace sharing that Redis does not get the single seller's entries
TEST 2 left the single seller's copy of this page in Redis (same catalog
version); a marketplace must miss it and name the vendor.
--- init
Time::HiRes::sleep(0.4);
--- request eval
["GET /api/products/classic-tee", "GET /api/products/classic-tee"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- response_body_filters eval
main::no_vendor()
--- response_body eval
[("vendor members: .vendor\n") x 2]
--- no_error_log
[error]
