# Several statements in one transaction on one connection, with C logic
# between them (the shape of every write endpoint), over a busy pool.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;

Nexus::Test::ctl_server();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_') unless defined $block->http_config;
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_postgres_pool_size 2;
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

    $block->set_value("no_error_log", "[error]\n[alert]\n")
        unless defined $block->no_error_log;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: BEGIN, two looks, COMMIT: one backend, one transaction
--- request
GET /api/_debug/txn
--- response_body_like: ^\{"backend_pid":"\d+","txid":"\d+","same_transaction":true,"outcome":"committed"\}$
--- error_code: 200



=== TEST 2: the same with ROLLBACK
--- request
GET /api/_debug/txn?rollback=1
--- response_body_like: "same_transaction":true,"outcome":"rolled back"
--- error_code: 200



=== TEST 3: twenty concurrent transactions over a pool of two never share a connection mid-transaction
--- request eval
["GET /_ctl/bg?n=20&path=/api/_debug/txn",
 "GET /_ctl/bg_wait",
 "GET /api/_debug/txn",
 "POST /_ctl/sql\nSELECT count(*) FROM pg_stat_activity WHERE application_name = 'nexus' AND state LIKE 'idle in transaction%'"]
--- response_body_like eval
["ok", "^(200 ){19}200\$", '"same_transaction":true', "^0\$"]
--- error_code eval
[200, 200, 200, 200]
--- timeout: 20
