# Abuse resistance of sign-in: log-in attempts are limited per account
# (whatever address they come from) and per address (whatever account they
# try), a refused attempt never reaches the password check, sign-up and
# password reset share those buckets; with Redis down the sensitive routes
# fail closed while the catalog and signed-in reads go on; and account
# zones limit signed-in callers per user, one bucket each.
#
# Zones as in conf/nginx.conf, but keyed by the X-Client header instead of
# the address, so that one test can act as several clients.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;

Nexus::Test::ctl_server();
Nexus::Test::reset_fixture();
END { Nexus::Test::reset_fixture() if $ENV{NEXUS_TEST_PG_PORT} }

our %Tok = Nexus::Test::access_tokens(alice => 1, bob => 2);

# a log-in body
sub main::login {
    my ($email, $password) = @_;
    return qq{{"email": "$email", "password": "$password"}};
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_' . ($block->http_config // ''));
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    nexus_redis_command_timeout 300ms;
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
    # the fixture's own cost: a log-in does not rehash
    nexus_password_scrypt 1024 8 1;

    nexus_limit_zone api      key=$http_x_client rate=10r/s burst=50;
    nexus_limit_zone auth_ip  key=$http_x_client rate=1r/m burst=3;
    nexus_limit_zone accounts key=account        rate=1r/m burst=2;
_EOC_

    $block->set_value("config", <<'_EOC_' . ($block->config // ''));
    location /api/ {
        nexus_api;
        nexus_limit api;
        nexus_limit accounts;
    }
    location /api/auth/ {
        nexus_api;
        nexus_limit auth_ip;
        nexus_limit accounts;
    }
    location /_ctl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT;
        proxy_set_header X-Nginx-Port $server_port;
        proxy_read_timeout 30s;
    }
_EOC_

    $block->set_value("init", "Nexus::Test::redis_flush();")
        unless defined $block->init;

    Nexus::Test::expand_who($block, \%main::Tok);
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: one account, many addresses: the account's bucket refuses the 4th attempt, even with the right password, and a refused attempt is not checked
--- request eval
["[- x=c1] POST /api/auth/login\n" . main::login('alice@example.com', 'wrong-1'),
 "[- x=c2] POST /api/auth/login\n" . main::login('alice@example.com', 'wrong-2'),
 "[- x=c3] POST /api/auth/login\n" . main::login('alice@example.com', 'wrong-3'),
 "[- x=c4] POST /api/auth/login\n" . main::login('alice@example.com', 'wrong-4'),
 "[- x=c5] POST /api/auth/login\n" . main::login('ALICE@Example.com', 'alice-pass-1'),
 "[- x=c6] POST /api/auth/password-reset\n" . '{"email": "alice@example.com"}',
 "POST /_ctl/sql
SELECT failed_login_count, last_login_at IS NULL FROM users WHERE id = 1;
SELECT count(*) FROM sessions WHERE user_id = 1;
SELECT count(*) FROM outbox WHERE topic = 'email.password_reset'",
 "[- x=c7] POST /api/auth/login\n" . main::login('bob@example.com', 'bob-pass-12'),
 "POST /_ctl/redis\nEXISTS nexus:rl:accounts:alice\@example.com nexus:rl:accounts:bob\@example.com"]
--- error_code eval
[401, 401, 401, 429, 429, 429, 200, 200, 200]
--- response_headers eval
['RateLimit-Policy: "accounts";q=3;w=180
RateLimit: "accounts";r=2;t=60
!Retry-After
Cache-Control: no-store',
 'RateLimit: "accounts";r=1;t=120',
 'RateLimit: "accounts";r=0;t=180',
 'RateLimit-Policy: "accounts";q=3;w=180
RateLimit: "accounts";r=0;t=180
Retry-After: 60
Content-Type: application/problem+json
Cache-Control: no-store',
 'RateLimit: "accounts";r=0;t=180
Retry-After: 60',
 'RateLimit: "accounts";r=0;t=180
Retry-After: 60',
 "",
 'RateLimit-Policy: "accounts";q=3;w=180
RateLimit: "accounts";r=2;t=60
!Retry-After',
 ""]
--- response_body_like eval
['"code":"invalid_credentials"', '"code":"invalid_credentials"',
 '"code":"invalid_credentials"',
 '^\{"type":"[^"]+","title":"Too Many Requests","status":429,"code":"rate_limited","detail":"[^"]+","retry_after":60,"limit":"accounts"\}$',
 '"code":"rate_limited".*"limit":"accounts"',
 '"code":"rate_limited".*"limit":"accounts"',
 "^3\\|t\n1\n0\n\$",
 '^\{"access_token":"[^"]+","token_type":"Bearer",.*"user":\{"id": ?2,',
 "^2\n\$"]
--- no_error_log
[error]
[alert]



=== TEST 2: one address, many accounts: the address's bucket refuses the 5th attempt before any password is checked, and covers sign-up and reset too; other addresses go on
--- request eval
["[- x=a1] POST /api/auth/login\n" . main::login('u1@example.org', 'password-1'),
 "[- x=a1] POST /api/auth/login\n" . main::login('u2@example.org', 'password-2'),
 "[- x=a1] POST /api/auth/login\n" . main::login('u3@example.org', 'password-3'),
 "[- x=a1] POST /api/auth/login\n" . main::login('u4@example.org', 'password-4'),
 "[- x=a1] POST /api/auth/login\n" . main::login('bob@example.com', 'wrong-5'),
 "[- x=a1] POST /api/auth/register\n" . main::login('new@example.org', 'long-enough-1'),
 "[- x=a1] POST /api/auth/password-reset\n" . '{"email": "bob@example.com"}',
 "POST /_ctl/sql
SELECT failed_login_count FROM users WHERE id = 2;
SELECT count(*) FROM users WHERE email = 'new\@example.org';
SELECT count(*) FROM outbox WHERE topic = 'email.password_reset'",
 "[- x=a2] POST /api/auth/login\n" . main::login('bob@example.com', 'wrong-6'),
 "POST /_ctl/sql\nSELECT failed_login_count FROM users WHERE id = 2"]
--- error_code eval
[401, 401, 401, 401, 429, 429, 429, 200, 401, 200]
--- response_headers eval
["", "", "", "",
 'RateLimit-Policy: "auth_ip";q=4;w=240
RateLimit: "auth_ip";r=0;t=240
Retry-After: 60',
 'RateLimit: "auth_ip";r=0;t=240
Retry-After: 60',
 'RateLimit: "auth_ip";r=0;t=240
Retry-After: 60',
 "",
 'RateLimit-Policy: "accounts";q=3;w=180
RateLimit: "accounts";r=2;t=60',
 ""]
--- response_body_like eval
['"code":"invalid_credentials"', '"code":"invalid_credentials"',
 '"code":"invalid_credentials"', '"code":"invalid_credentials"',
 '"code":"rate_limited".*"limit":"auth_ip"',
 '"code":"rate_limited".*"limit":"auth_ip"',
 '"code":"rate_limited".*"limit":"auth_ip"',
 "^0\n0\n0\n\$",
 '"code":"invalid_credentials"',
 "^1\n\$"]
--- no_error_log
[error]
[alert]



=== TEST 3: Redis down: sign-in routes fail closed (503), the catalog and signed-in reads go on; fail=open on the auth zones lets log-in through
--- config
    location /open/ {
        rewrite ^/open(/.*)$ $1 break;
        nexus_api;
        nexus_limit auth_ip fail=open;
        nexus_limit accounts fail=open;
    }
--- request eval
["POST /_ctl/redis_stop",
 "[- x=d1] POST /api/auth/login\n" . main::login('alice@example.com', 'alice-pass-1'),
 "[- x=d1] POST /api/auth/password-reset\n" . '{"email": "alice@example.com"}',
 "[- x=d1] POST /api/auth/register\n" . main::login('down@example.org', 'long-enough-1'),
 "[- x=d1] GET /api/products?limit=1",
 "[alice x=d1] GET /api/me",
 "[- x=d1] POST /open/api/auth/login\n" . main::login('alice@example.com', 'alice-pass-1'),
 "[- x=d1] POST /api/auth/login\n" . main::login('alice@example.com', 'alice-pass-1'),
 "POST /_ctl/sql
SELECT count(*) FROM sessions WHERE user_id = 1;
SELECT count(*) FROM users WHERE email = 'down\@example.org';
SELECT count(*) FROM outbox WHERE topic = 'email.password_reset'",
 "POST /_ctl/redis_start",
 "POST /_ctl/redis_flush",
 "GET /_ctl/sleep?s=1.2",
 "[- x=d1] POST /api/auth/login\n" . main::login('alice@example.com', 'wrong-7')]
--- error_code eval
[200, 503, 503, 503, 200, 200, 200, 503, 200, 200, 200, 200, 401]
--- response_headers eval
["",
 "Retry-After: 1\nContent-Type: application/problem+json\n!RateLimit",
 "Retry-After: 1", "Retry-After: 1",
 "!RateLimit", "!RateLimit", "!RateLimit", "Retry-After: 1",
 "", "", "", "",
 'RateLimit-Policy: "accounts";q=3;w=180']
--- response_body_like eval
["ok",
 '"status":503,"code":"rate_limit_unavailable"',
 '"code":"rate_limit_unavailable"', '"code":"rate_limit_unavailable"',
 '"items"', '"email": "alice@example.com"',
 '^\{"access_token":"[^"]+","token_type":"Bearer",.*"user":\{"id": ?1,',
 '"code":"rate_limit_unavailable"',
 "^2\n0\n0\n\$",
 "ok", "ok", "ok",
 '"code":"invalid_credentials"']
--- timeout: 20
--- no_error_log
[alert]
[crit]



=== TEST 4: signed-in callers are limited per user by an account zone: one bucket each, refused requests do not run, anonymous ones are not counted
--- http_config
    nexus_limit_zone peruser key=account rate=1r/m burst=1;
--- config
    location /u/ {
        rewrite ^/u(/.*)$ $1 break;
        nexus_api;
        nexus_limit peruser;
    }
--- request eval
["[alice] GET /u/api/me",
 "[alice] GET /u/api/me/addresses",
 "[alice] GET /u/api/me",
 "[alice] PATCH /u/api/me\n{\"name\": \"Limited\"}",
 "[bob] GET /u/api/me",
 "GET /u/api/products?limit=1",
 "GET /u/api/me",
 "POST /_ctl/redis\nEXISTS nexus:rl:peruser:1 nexus:rl:peruser:2",
 "POST /_ctl/sql\nSELECT name FROM users WHERE id = 1"]
--- error_code eval
[200, 200, 429, 429, 200, 200, 401, 200, 200]
--- response_headers eval
['RateLimit-Policy: "peruser";q=2;w=120
RateLimit: "peruser";r=1;t=60
Cache-Control: no-store',
 'RateLimit: "peruser";r=0;t=120',
 'RateLimit: "peruser";r=0;t=120
Retry-After: 60',
 'RateLimit: "peruser";r=0;t=120
Retry-After: 60',
 'RateLimit-Policy: "peruser";q=2;w=120
RateLimit: "peruser";r=1;t=60',
 "!RateLimit\n!RateLimit-Policy",
 "!RateLimit\n!Retry-After",
 "", ""]
--- response_body_like eval
['"email": "alice@example.com"', '"items"',
 '"code":"rate_limited".*"limit":"peruser"',
 '"code":"rate_limited".*"limit":"peruser"',
 '"email": "bob@example.com"', '"items"',
 '"code":"authentication_required"',
 "^2\n\$", "^Alice\n\$"]
--- no_error_log
[error]
[alert]
