use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;
use JSON::PP ();

Nexus::Test::reset_fixture();
Nexus::Test::ctl_server();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", <<'_EOC_' . ($block->http_config // ''));
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
_EOC_
    $block->set_value("config", <<'_EOC_') unless defined $block->config;
    location /api/ {
        nexus_api;
    }
    location /_ctl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT;
        proxy_set_header X-Nginx-Port $server_port;
        proxy_read_timeout 30s;
    }
_EOC_
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: timing scratch
--- request eval
use URI::Escape ();
my $b = sub { URI::Escape::uri_escape($_[0]) };
['POST /_ctl/http/api/auth/login
{"email":"alice@example.com","password":"alice-pass-1"}',
"GET /_ctl/time?n=5&gap=0.02&method=POST&path=/api/auth/login&body=" . $b->('{"email":"alice@example.com","password":"wrong-pass"}'),
"GET /_ctl/time?n=5&gap=0.02&method=POST&path=/api/auth/login&body=" . $b->('{"email":"nobody@example.com","password":"wrong-pass"}'),
"GET /_ctl/time?n=5&gap=0.02&method=POST&path=/api/auth/login&body=" . $b->('{"email":"erin@example.com","password":"wrong-pass"}'),
"GET /_ctl/time?n=5&gap=0.02&method=POST&path=/api/auth/login&body=" . $b->('{"email":"erin@example.com","password":"erin-pass-12"}'),
"GET /_ctl/time?n=5&gap=0.02&method=POST&path=/api/auth/register&body=" . $b->('{"email":"erin@example.com","password":"erin-pass-12"}'),
]
--- more_headers eval
["Content-Type: application/json", "", "", "", "", ""]
--- response_body_filters eval
sub { open my $f, ">>", "/tmp/w050/dump"; print $f "$_[0]\n----\n"; close $f; "x" }
--- error_code eval
[(200) x 6]
--- timeout: 20
