# Rate limits (nexus_limit_zone, nexus_limit): GCRA buckets in Redis, shared
# by all workers; 429 with Retry-After and the IETF RateLimit headers; the
# most restrictive zone reported; keys that separate clients; account zones;
# refill; Redis down (fail open / closed, sensitive routes closed by
# default); configuration errors refused at load.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;

Nexus::Test::ctl_server();

add_block_preprocessor(sub {
    my $block = shift;

    # zones shared by most blocks; a block adds its own after these
    my $zones = <<'_EOC_';
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    nexus_redis_command_timeout 300ms;
    nexus_limit_zone client key=$http_x_client rate=1r/m burst=2;
    nexus_limit_zone tight key=$http_x_client rate=1r/m;
    nexus_limit_zone login key=account rate=1r/m burst=1;
_EOC_

    if (!defined $block->must_die) {
        $block->set_value("http_config", $zones . ($block->http_config // ''));
    }

    my $ctl = <<'_EOC_';
    location /_ctl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT;
        proxy_set_header X-Nginx-Port $server_port;
        proxy_read_timeout 30s;
    }
_EOC_

    $block->set_value("config", ($block->config // '') . $ctl)
        unless defined $block->must_die;

    $block->set_value("init", "Nexus::Test::redis_flush();")
        unless defined $block->init || defined $block->must_die;
});

# two workers: the limits must hold across them (TEST 8)
master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: burst+1 requests pass, counting down, then 429 with Retry-After and both RateLimit headers
--- config
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit client;
    }
--- more_headers
X-Client: alice
--- request eval
["GET /api/_debug/limit", "GET /api/_debug/limit", "GET /api/_debug/limit",
 "GET /api/_debug/limit"]
--- error_code eval
[200, 200, 200, 429]
--- response_headers eval
['RateLimit-Policy: "client";q=3;w=180
RateLimit: "client";r=2;t=60
!Retry-After',
 'RateLimit-Policy: "client";q=3;w=180
RateLimit: "client";r=1;t=120',
 'RateLimit-Policy: "client";q=3;w=180
RateLimit: "client";r=0;t=180',
 'RateLimit-Policy: "client";q=3;w=180
RateLimit: "client";r=0;t=180
Retry-After: 60
Content-Type: application/problem+json']
--- response_body eval
['{"ok":true}', '{"ok":true}', '{"ok":true}',
 '{"type":"https://nexus.dev/problems/rate_limited","title":"Too Many Requests","status":429,"code":"rate_limited","detail":"Too many requests; retry after the number of seconds in Retry-After.","retry_after":60,"limit":"client"}']
--- no_error_log
[error]



=== TEST 2: burst 0 means one request per interval
--- config
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit tight;
    }
--- more_headers
X-Client: bob
--- request eval
["GET /api/_debug/limit", "GET /api/_debug/limit", "GET /api/_debug/limit"]
--- error_code eval
[200, 429, 429]
--- response_headers eval
['RateLimit-Policy: "tight";q=1;w=60
RateLimit: "tight";r=0;t=60',
 'RateLimit: "tight";r=0;t=60
Retry-After: 60',
 'RateLimit: "tight";r=0;t=60
Retry-After: 60']



=== TEST 3: two zones: the tighter one is reported, and a refused request consumes neither
--- http_config
    nexus_limit_zone wide key=$http_x_client rate=1r/m burst=4;
    nexus_limit_zone narrow key=$http_x_client rate=1r/m burst=1;
--- config
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit wide;
        nexus_limit narrow;
    }
    location /wide/ {
        rewrite ^/wide(/.*)$ $1 break;
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit wide;
    }
--- more_headers
X-Client: carol
--- request eval
["GET /api/_debug/limit", "GET /api/_debug/limit", "GET /api/_debug/limit",
 "GET /wide/api/_debug/limit"]
--- error_code eval
[200, 200, 429, 200]
--- response_headers eval
['RateLimit-Policy: "narrow";q=2;w=120
RateLimit: "narrow";r=1;t=60',
 'RateLimit-Policy: "narrow";q=2;w=120
RateLimit: "narrow";r=0;t=120',
 'RateLimit-Policy: "narrow";q=2;w=120
RateLimit: "narrow";r=0;t=120
Retry-After: 60',
 'RateLimit-Policy: "wide";q=5;w=300
RateLimit: "wide";r=2;t=180']
--- response_body_like eval
['"ok"', '"ok"', '"code":"rate_limited".*"limit":"narrow"', '"ok"']



=== TEST 4: each key has its own bucket; a request without a key is not limited
--- config
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit tight;
    }
--- more_headers eval
["X-Client: a", "X-Client: a", "X-Client: b", "X-Client: b", "", "",
 "X-Client: A"]
--- request eval
["GET /api/_debug/limit", "GET /api/_debug/limit", "GET /api/_debug/limit",
 "GET /api/_debug/limit", "GET /api/_debug/limit", "GET /api/_debug/limit",
 "GET /api/_debug/limit"]
--- error_code eval
[200, 429, 200, 429, 200, 200, 200]
--- response_headers eval
['RateLimit: "tight";r=0;t=60', 'Retry-After: 60',
 'RateLimit: "tight";r=0;t=60', 'Retry-After: 60',
 "!RateLimit\n!RateLimit-Policy", "!RateLimit\n!Retry-After",
 'RateLimit: "tight";r=0;t=60']



=== TEST 5: account zones: one bucket per account, case-insensitive; no account, no limit
--- config
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit login;
    }
--- request eval
["GET /api/_debug/limit?account=Bob%40Example.org",
 "GET /api/_debug/limit?account=bob%40example.ORG",
 "GET /api/_debug/limit?account=bob%40example.org",
 "GET /api/_debug/limit?account=alice%40example.org",
 "GET /api/_debug/limit",
 "POST /_ctl/redis\nEXISTS nexus:rl:login:bob\@example.org"]
--- error_code eval
[200, 200, 429, 200, 200, 200]
--- response_headers eval
['RateLimit-Policy: "login";q=2;w=120
RateLimit: "login";r=1;t=60',
 'RateLimit: "login";r=0;t=120',
 'RateLimit: "login";r=0;t=120
Retry-After: 60',
 'RateLimit: "login";r=1;t=60',
 "!RateLimit", ""]
--- response_body_like eval
['^\{"ok":true\}$', '^\{"ok":true\}$', '"code":"rate_limited"',
 '^\{"ok":true\}$', '^\{"ok":true\}$', "^1\$"]



=== TEST 6: request and account zones on one route: one pair of headers, the tighter zone
--- config
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit client;
        nexus_limit login;
    }
--- more_headers
X-Client: dave
--- request eval
["GET /api/_debug/limit?account=a",
 "GET /api/_debug/limit?account=b",
 "GET /api/_debug/limit?account=a",
 "GET /api/_debug/limit?account=z",
 "GET /api/_debug/limit?account=z"]
--- error_code eval
[200, 200, 200, 429, 429]
--- response_headers eval
['RateLimit-Policy: "login";q=2;w=120
RateLimit: "login";r=1;t=60',
 'RateLimit-Policy: "login";q=2;w=120
RateLimit: "login";r=1;t=60',
 'RateLimit-Policy: "login";q=2;w=120
RateLimit: "login";r=0;t=120',
 'RateLimit-Policy: "client";q=3;w=180
RateLimit: "client";r=0;t=180
Retry-After: 60',
 'RateLimit: "client";r=0;t=180']



=== TEST 7: the bucket refills at the zone's rate; keys expire when it is full again
--- http_config
    nexus_limit_zone fast key=$http_x_client rate=2r/s burst=1;
--- config
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit fast;
    }
--- more_headers
X-Client: erin
--- request eval
["GET /api/_debug/limit", "GET /api/_debug/limit", "GET /api/_debug/limit",
 "POST /_ctl/redis\nPTTL nexus:rl:fast:erin",
 "GET /_ctl/sleep?s=1.05",
 "GET /api/_debug/limit",
 "GET /_ctl/sleep?s=0.55",
 "POST /_ctl/redis\nEXISTS nexus:rl:fast:erin"]
--- error_code eval
[200, 200, 429, 200, 200, 200, 200, 200]
--- response_headers eval
['RateLimit-Policy: "fast";q=2;w=1
RateLimit: "fast";r=1;t=1',
 'RateLimit: "fast";r=0;t=1',
 'RateLimit: "fast";r=0;t=1
Retry-After: 1',
 "", "",
 'RateLimit: "fast";r=1;t=1', "", ""]
--- response_body_like eval
['"ok"', '"ok"', '"rate_limited"', '^([1-9][0-9]{0,2}|1000)$', "ok", '"ok"', "ok",
 "^0\$"]



=== TEST 8: the limit holds across workers (concurrent clients spread by reuseport)
--- http_config
    nexus_limit_zone shared key=$arg_client rate=1r/m burst=4;
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 reuseport;
        location /api/ {
            nexus_api;
            nexus_debug_endpoints on;
            nexus_limit shared;
        }
        location /_ctl/ {
            proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT;
            proxy_set_header X-Nginx-Port $server_port;
        }
    }
--- config
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit shared;
    }
    location /rl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
    }
--- request eval
["GET /rl/_ctl/bg?n=10&path=/api/_debug/limit%3Fclient%3Dmany",
 "GET /rl/_ctl/bg_wait",
 "GET /api/_debug/limit?client=many",
 "POST /_ctl/redis\nPTTL nexus:rl:shared:many"]
--- error_code eval
[200, 200, 429, 200]
--- response_body_like eval
["ok", "^200 200 200 200 200 429 429 429 429 429\$", '"rate_limited"',
 '^(2[4-9][0-9]{4}|300000)$']
--- response_headers eval
["", "", 'RateLimit: "shared";r=0;t=300', ""]
--- timeout: 10
--- no_error_log
[error]
[alert]



=== TEST 9: Redis down: fail=open serves, fail=closed answers 503; sensitive routes default to closed; logged once
--- config
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit login;
    }
    location /open/ {
        rewrite ^/open(/.*)$ $1 break;
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit client fail=open;
    }
    location /closed/ {
        rewrite ^/closed(/.*)$ $1 break;
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit client fail=closed;
    }
    location /plain/ {
        rewrite ^/plain(/.*)$ $1 break;
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit login fail=open;
    }
--- more_headers
X-Client: frank
--- request eval
["GET /closed/api/_debug/limit",
 "POST /_ctl/redis_stop",
 "GET /open/api/_debug/limit",
 "GET /closed/api/_debug/limit",
 "GET /api/_debug/limit?account=frank&sensitive=1",
 "GET /api/_debug/limit?account=frank",
 "GET /plain/api/_debug/limit?account=frank&sensitive=1",
 "GET /open/api/_debug/limit",
 "GET /closed/api/_debug/limit",
 "GET /_ctl/log_count?re=rate%20limits%20cannot%20be%20checked",
 "POST /_ctl/redis_start",
 "POST /_ctl/redis_flush",
 "GET /_ctl/sleep?s=1.2",
 "GET /closed/api/_debug/limit",
 "GET /closed/api/_debug/limit"]
--- error_code eval
[200, 200, 200, 503, 503, 200, 200, 200, 503, 200, 200, 200, 200, 200, 200]
--- response_headers eval
['RateLimit: "client";r=2;t=60', "",
 "!RateLimit\n!Retry-After",
 "Retry-After: 1\nContent-Type: application/problem+json\n!RateLimit",
 "Retry-After: 1",
 "!RateLimit", "!RateLimit", "", "Retry-After: 1", "", "", "", "",
 'RateLimit: "client";r=2;t=60', 'RateLimit: "client";r=1;t=120']
--- response_body_like eval
['"ok"', "ok", '^\{"ok":true\}$',
 '"status":503,"code":"rate_limit_unavailable"',
 '"code":"rate_limit_unavailable"',
 '^\{"ok":true\}$', '^\{"ok":true\}$', '"ok"', '"rate_limit_unavailable"',
 "^[12]\$", "ok", "ok", "ok", '"ok"', '"ok"']
--- timeout: 20
--- no_error_log
[alert]
[crit]



=== TEST 10: a zone may be declared after the level that uses it; a level with its own limits replaces the inherited ones
--- http_config
    nexus_limit late;
    nexus_limit_zone late key=$http_x_client rate=1r/m burst=9;
--- config
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
    }
    location /own/ {
        rewrite ^/own(/.*)$ $1 break;
        nexus_api;
        nexus_debug_endpoints on;
        nexus_limit tight;
    }
--- more_headers
X-Client: gina
--- request eval
["GET /api/_debug/limit", "GET /own/api/_debug/limit"]
--- response_headers eval
['RateLimit-Policy: "late";q=10;w=600
RateLimit: "late";r=9;t=60',
 'RateLimit-Policy: "tight";q=1;w=60
RateLimit: "tight";r=0;t=60']



=== TEST 11: an unknown zone name is refused at load
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_limit_zone ip key=$binary_remote_addr rate=5r/s;
--- config
    location /api/ {
        nexus_api;
        nexus_limit ipp;
    }
--- must_die
--- error_log
unknown limit zone "ipp"



=== TEST 12: a rate without a unit is refused at load
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_limit_zone ip key=$binary_remote_addr rate=5;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
invalid rate "rate=5" in limit zone "ip"



=== TEST 13: a zero rate is refused at load
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_limit_zone ip key=$binary_remote_addr rate=0r/s;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
invalid rate "rate=0r/s"



=== TEST 14: rate=Nr/h is not a unit nexus knows
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_limit_zone ip key=$binary_remote_addr rate=100r/h;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
invalid rate "rate=100r/h"



=== TEST 15: a zone without a key is refused
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_limit_zone ip rate=1r/s;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
limit zone "ip" needs key= and rate=



=== TEST 16: fail= takes open or closed
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_limit_zone ip key=$binary_remote_addr rate=1r/s;
--- config
    location /api/ {
        nexus_api;
        nexus_limit ip fail=maybe;
    }
--- must_die
--- error_log
invalid parameter "fail=maybe" of "nexus_limit": use fail=open or fail=closed



=== TEST 17: a zone declared twice is refused
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_limit_zone ip key=$binary_remote_addr rate=1r/s;
    nexus_limit_zone ip key=$binary_remote_addr rate=2r/s;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
duplicate limit zone "ip"
