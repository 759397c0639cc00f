# Faults: a slow query does not hold up other requests on the same worker, a
# full pool answers 503 + Retry-After and recovers, PostgreSQL can stop and
# start under a running nginx, a query timeout closes its connection, and a
# client that goes away mid-query leaves the pool healthy.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;

Nexus::Test::ctl_server();

our $Active = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%'";

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_') unless defined $block->http_config;
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
_EOC_

    $block->set_value("config", <<'_EOC_') unless defined $block->config;
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
    }
    location /_ctl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT;
        proxy_set_header X-Nginx-Port $server_port;
        proxy_read_timeout 30s;
    }
_EOC_
});

workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a slow query does not delay a fast request on the same worker
--- request eval
["GET /_ctl/bg?n=1&path=/api/_debug/sleep%3Fs%3D3",
 "GET /_ctl/sleep?s=0.5",
 "POST /_ctl/sql\n$main::Active",
 "GET /api/products?limit=1",
 "GET /api/categories",
 "POST /_ctl/sql\n$main::Active",
 "GET /_ctl/bg_wait"]
--- response_body_like eval
["ok", "ok", "^1\$", '"items"', '"categories"', "^1\$", "^200\$"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200]
--- timeout: 10



=== TEST 2: a full pool and queue answer 503 with Retry-After, then recover
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_postgres_pool_size 2;
    nexus_postgres_queue_size 1;
    nexus_postgres_queue_timeout 5s;
--- request eval
["GET /_ctl/bg?n=3&path=/api/_debug/sleep%3Fs%3D2",
 "GET /_ctl/sleep?s=0.5",
 "GET /api/categories",
 "GET /_ctl/bg_wait",
 "GET /api/categories"]
--- error_code eval
[200, 200, 503, 200, 200]
--- response_headers eval
["", "", "Retry-After: 1\nContent-Type: application/problem+json", "", "Retry-After:"]
--- response_body_like eval
["ok", "ok", '"status":503,"code":"database_busy"', "^200 200 200\$", '"categories"']
--- timeout: 10



=== TEST 3: waiting longer than the queue timeout is a 503 too
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_postgres_pool_size 1;
    nexus_postgres_queue_size 10;
    nexus_postgres_queue_timeout 300ms;
--- request eval
["GET /_ctl/bg?n=1&path=/api/_debug/sleep%3Fs%3D1.5",
 "GET /_ctl/sleep?s=0.3",
 "GET /api/products/classic-tee",
 "GET /_ctl/bg_wait",
 "GET /api/products/classic-tee"]
--- error_code eval
[200, 200, 503, 200, 200]
--- response_body_like eval
["ok", "ok", '"code":"database_busy"', "^200\$", '"slug" : "classic-tee"']
--- timeout: 10



=== TEST 4: PostgreSQL stops and starts again under one running nginx
--- request eval
["GET /api/categories",
 "POST /_ctl/pg_stop",
 "GET /api/categories",
 "GET /api/products?limit=1",
 "POST /_ctl/pg_start",
 "GET /api/categories",
 "GET /api/products?limit=1"]
--- error_code eval
[200, 200, 503, 503, 200, 200, 200]
--- response_body_like eval
['"categories"', "ok", '"code":"database_unavailable"', '"code":"database_unavailable"', "ok", '"categories"', '"items"']
--- response_headers eval
["", "", "Retry-After: 1", "Retry-After: 1", "", "", ""]
--- timeout: 30



=== TEST 5: a restart while idle connections sit in the pool is noticed, not served as an error
--- request eval
["GET /api/categories",
 "GET /api/products?limit=1",
 "POST /_ctl/pg_restart",
 "GET /_ctl/sleep?s=0.2",
 "GET /api/categories",
 "GET /api/products?limit=1"]
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- timeout: 30



=== TEST 6: a query past the timeout is a 503 and its connection is closed, not reused
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_postgres_pool_size 1;
    nexus_postgres_query_timeout 300ms;
--- request eval
["GET /api/_debug/sleep?s=2",
 "GET /api/categories",
 "GET /_ctl/sleep?s=2",
 "POST /_ctl/sql\n$main::Active"]
--- error_code eval
[503, 200, 200, 200]
--- response_body_like eval
['"code":"database_timeout"', '"categories"', "ok", "^0\$"]
--- timeout: 10



=== TEST 7: a client that goes away mid-query: the statement finishes, the connection returns to the pool
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_postgres_pool_size 1;
--- request eval
["GET /_ctl/bg?n=1&abort=0.2&path=/api/_debug/sleep%3Fs%3D1",
 "GET /_ctl/bg_wait",
 "GET /api/categories",
 "GET /api/products?limit=1",
 "POST /_ctl/sql\n$main::Active"]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body_like eval
["ok", "^0\$", '"categories"', '"items"', "^0\$"]
--- timeout: 10
--- no_error_log
[alert]
[crit]



=== TEST 8: an aborted wait in the queue leaves no ghost waiter behind
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_postgres_pool_size 1;
    nexus_postgres_queue_size 1;
    nexus_postgres_queue_timeout 5s;
--- request eval
["GET /_ctl/bg?n=1&path=/api/_debug/sleep%3Fs%3D1",
 "GET /_ctl/sleep?s=0.2",
 "GET /_ctl/bg?n=1&abort=0.2&path=/api/categories",
 "GET /_ctl/sleep?s=0.4",
 "GET /api/products?limit=1",
 "GET /_ctl/bg_wait"]
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- response_body_like eval
["ok", "ok", "ok", "ok", '"items"', "^0 200\$"]
--- timeout: 10
--- no_error_log
[alert]
[crit]
