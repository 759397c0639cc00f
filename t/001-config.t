# Configuration: invalid values must fail at load ("nginx -t"), with a clear
# message, never at the first request.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';

# read by nginx while it loads its configuration (TEST 13)
$ENV{NEXUS_TEST_PG_SECRET} = 'unused-with-trust-auth';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a valid configuration starts and serves
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_postgres_pool_size 4;
    nexus_postgres_queue_size 16;
    nexus_postgres_queue_timeout 500ms;
    nexus_postgres_connect_timeout 2s;
    nexus_postgres_query_timeout 3s;
    nexus_postgres_idle_timeout 30s;
    nexus_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    nexus_redis_pool_size 1;
    nexus_redis_connect_timeout 200ms;
    nexus_redis_command_timeout 200ms;
--- config
    location /api/ {
        nexus_api;
        nexus_cache on;
        nexus_cache_ttl 10s;
        nexus_page_size 10;
        nexus_page_size_max 50;
    }
--- request
GET /api/categories
--- error_code: 200
--- no_error_log
[error]



=== TEST 2: a password inside the connection string is refused
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x user=nexus password=hunter2";
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
no password inside "nexus_postgres"



=== TEST 3: a password given inline to nexus_postgres_password is refused
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_postgres_password hunter2;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
takes "file:PATH" or "env:NAME", never the secret itself



=== TEST 4: a malformed connection string fails at load
--- http_config
    nexus_postgres "hostx=127.0.0.1 dbname=x";
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
invalid PostgreSQL connection string: invalid connection option "hostx"



=== TEST 5: nexus_api without nexus_postgres
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_api" needs "nexus_postgres"



=== TEST 6: a pool of zero connections
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_postgres_pool_size 0;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
value must be between 1 and 1024



=== TEST 7: a secret file that does not exist
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_postgres_password file:/nonexistent/nexus-secret;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
cannot open secret file "/nonexistent/nexus-secret"



=== TEST 8: a secret from an unset environment variable
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_redis_password env:NEXUS_SURELY_UNSET_VARIABLE;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
environment variable "NEXUS_SURELY_UNSET_VARIABLE" for "nexus_redis_password" is not set



=== TEST 9: a page size above the maximum
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
--- config
    location /api/ {
        nexus_api;
        nexus_page_size 60;
        nexus_page_size_max 50;
    }
--- must_die
--- error_log
"nexus_page_size" 60 is larger than "nexus_page_size_max" 50



=== TEST 10: a malformed Redis address
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_redis 127.0.0.1:notaport;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
invalid Redis address "127.0.0.1:notaport"



=== TEST 11: a time that is not a time
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_postgres_query_timeout soon;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_postgres_query_timeout" directive invalid value



=== TEST 12: a duplicate nexus_api
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
--- config
    location /api/ { nexus_api; nexus_api; }
--- must_die
--- error_log
is duplicate



=== TEST 13: a password from the environment is read at load and used
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_postgres_password env:NEXUS_TEST_PG_SECRET;
--- config
    location /api/ { nexus_api; }
--- request
GET /api/categories
--- error_code: 200
--- no_error_log
[error]



=== TEST 14: a per-worker cache too small to be useful
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_cache_local_size 1k;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_cache_local_size" must be 0 (off) or at least 64k
