# Nexus::Test (t/lib): the control server lets one block, within one nginx
# lifetime, stop and start PostgreSQL and Redis between its requests and
# read the database. Checked here with stock nginx directives only.
use lib 't/lib';
use Test::Nginx::Socket;
use Nexus::Test;

if (!$ENV{NEXUS_TEST_STATE}) {
    plan skip_all => 'needs the services of scripts/test (NEXUS_TEST_* not set)';
}
plan 'no_plan';

Nexus::Test::ctl_server();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: PostgreSQL stops and starts between the requests of one block
--- config
    location /_ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; }
--- request eval
["POST /_ctl/sql\nSELECT 40 + 2",
 "POST /_ctl/pg_stop",
 "POST /_ctl/sql\nSELECT 1",
 "POST /_ctl/pg_start",
 "POST /_ctl/sql\nSELECT 'back'"]
--- error_code eval
[200, 200, 500, 200, 200]
--- response_body_like eval
["^42\n\\z", "^ok\n\\z", "psql failed", "^ok\n\\z", "^back\n\\z"]
--- timeout: 30



=== TEST 2: Redis stops and starts between the requests of one block
--- config
    location /_ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; }
--- request eval
["POST /_ctl/redis_flush", "POST /_ctl/redis_stop", "POST /_ctl/redis_flush",
 "POST /_ctl/redis_start", "POST /_ctl/redis_flush"]
--- error_code eval
[200, 200, 500, 200, 200]
--- timeout: 30



=== TEST 3: init runs Perl helpers before the requests; /_ctl/sql reads the result
--- config
    location /_ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; }
--- init
Nexus::Test::psql("DROP TABLE IF EXISTS nexus_helper_probe;
                   CREATE TABLE nexus_helper_probe (v int);
                   INSERT INTO nexus_helper_probe VALUES (3), (4)");
--- request eval
["POST /_ctl/sql\nSELECT sum(v) FROM nexus_helper_probe",
 "POST /_ctl/sql\nDROP TABLE nexus_helper_probe",
 "POST /_ctl/sql\nSELECT to_regclass('nexus_helper_probe') IS NULL"]
--- response_body eval
["7\n", "", "t\n"]



=== TEST 4: unknown control actions are refused
--- config
    location /_ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; }
--- request
GET /_ctl/format_disk
--- error_code: 404
--- response_body_like: unknown control action



=== TEST 5: /_ctl/time times requests to nginx; bg clients report how long they took
--- config
    location /_ctl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT;
        proxy_set_header X-Nginx-Port $server_port;
    }
    location /ok { return 200 "ok\n"; }
    location /teapot { return 418; }
--- request eval
["GET /_ctl/time?n=3&gap=0.01&path=/ok",
 "GET /_ctl/time?bg_n=2&bg_path=/teapot&delay=0.1&n=1&path=/ok",
 "GET /_ctl/bg_wait?ms=1",
 "GET /_ctl/bg_pending"]
--- response_body_like eval
[qr/^codes: 200 200 200\nms: \d+ \d+ \d+\nmax_ms: \d+\n\z/,
 qr/^codes: 200\nms: \d+\nmax_ms: \d+\nbg_pending: 0\n\z/,
 qr/^418 418\nmax_ms: \d+\n\z/,
 qr/^0\n\z/]
