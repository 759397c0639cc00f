# Password hashing: scrypt PHC strings checked against Python's hashlib and
# RFC 7914's test vector, hostile stored hashes that never match nor crash,
# rehashing of weaker hashes, the directive's bounds, clients that hang up
# while a thread hashes, and above all: a burst of hashing on the thread
# pool does not slow the catalog answered by the same worker.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;
use JSON::PP ();
use MIME::Base64 ();

Nexus::Test::ctl_server();

our $Pw = 'correct horse battery staple';
our $Utf8Pw = "p\xc3\xa4ssw\xc3\xb6rd \xe2\x9c\x93";    # UTF-8 bytes

# percent-encodes everything but unreserved characters (base64's + and /
# included: the query string decoder reads + as a space)
sub esc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

sub b64 {
    my $s = MIME::Base64::encode_base64($_[0], '');
    $s =~ s/=+\z//;
    return $s;
}

sub unb64 {
    my ($s) = @_;
    return MIME::Base64::decode_base64($s . '=' x (-length($s) % 4));
}

# scrypt computed by Python's hashlib: the 32-byte key, base64 unpadded
sub py_key {
    my ($password, $salt, $ln, $r, $p) = @_;
    local $ENV{NEXUS_PY_PW} = unpack 'H*', $password;
    local $ENV{NEXUS_PY_ARGS} = join ' ', unpack('H*', $salt), $ln, $r, $p;
    my $out = `python3 -c 'import base64, hashlib, os
pw = bytes.fromhex(os.environ["NEXUS_PY_PW"])
salt, ln, r, p = os.environ["NEXUS_PY_ARGS"].split()
key = hashlib.scrypt(pw, salt=bytes.fromhex(salt), n=1 << int(ln), r=int(r),
                     p=int(p), maxmem=1 << 30, dklen=32)
print(base64.b64encode(key).decode().rstrip("="))'`;
    die "python3 scrypt failed\n" if $? || !$out;
    chomp $out;
    return $out;
}

# a PHC string made by Python, for the module to verify
sub py_phc {
    my ($password, $ln, $r, $p) = @_;
    my $salt = join '', map { chr int rand 256 } 1 .. 16;
    return "\$scrypt\$ln=$ln,r=$r,p=$p\$" . b64($salt) . '$'
           . py_key($password, $salt, $ln, $r, $p);
}

# what a PHC string is, its key checked by Python for $password
sub phc_summary {
    my ($phc, $password) = @_;
    return 'null' unless defined $phc;
    my ($head, $ln, $r, $p, $salt, $key) = $phc =~
        m{^(\$scrypt\$ln=(\d+),r=(\d+),p=(\d+))\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)\z}
        or return "malformed <$phc>";
    my $py = py_key($password, unb64($salt), $ln, $r, $p);
    return sprintf '%s$<%d-byte salt>$<%d-byte key, python %s>', $head,
        length unb64($salt), length unb64($key),
        $py eq $key ? 'agrees' : "says $py";
}

# a filter: the debug endpoint's answer, with each hash summarized
sub answer {
    my ($password) = @_;
    return sub {
        my ($body) = @_;
        my $doc = eval { JSON::PP::decode_json($body) } or return "not JSON: $body";
        my $b = sub { $_[0] ? 'true' : 'false' };
        if (exists $doc->{phc}) {
            return phc_summary($doc->{phc}, $password) . ' match='
                . $b->($doc->{match}) . ' wrong=' . $b->($doc->{wrong}) . "\n";
        }
        return 'match=' . $b->($doc->{match}) . ' rehash='
            . phc_summary($doc->{rehash}, $password) . "\n";
    };
}

sub verify_req {
    my ($password, $phc) = @_;
    return "GET /api/_debug/password?password=" . esc($password)
           . "&phc=" . esc($phc);
}

# RFC 7914, section 12, third vector (64-byte key, 14-byte salt)
our $Rfc7914 = '$scrypt$ln=14,r=8,p=1$' . b64('SodiumChloride') . '$'
    . b64(pack 'H*', '7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2'
                   . 'd5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887');

# stored hashes that must never match, nor crash the worker
sub hostile {
    my $salt = join '', map { chr int rand 256 } 1 .. 16;
    my ($s, $k) = (b64($salt), py_key($Pw, $salt, 10, 8, 1));
    my $tampered = $k;
    substr($tampered, 5, 1) = substr($tampered, 5, 1) eq 'A' ? 'B' : 'A';
    return (
        'garbage',
        '$scrypt$',
        "\$scrypt\$ln=40,r=8,p=1\$$s\$$k",
        "\$scrypt\$ln=10,r=0,p=1\$$s\$$k",
        "\$scrypt\$ln=10,r=8,p=0\$$s\$$k",
        "\$scrypt\$ln=10,r=8,p=17\$$s\$$k",
        "\$scrypt\$ln=9,r=8,p=1\$$s\$$k",
        "\$scrypt\$ln=20,r=32,p=1\$$s\$$k",         # 4 GiB
        "\$scrypt\$ln=20,r=8,p=16\$$s\$$k",         # minutes of work
        "\$scrypt\$ln=99999999999999999999,r=8,p=1\$$s\$$k",
        "\$scrypt\$ln=-1,r=8,p=1\$$s\$$k",
        "\$scrypt\$ln=10,r=8\$$s\$$k",
        "\$scrypt\$ln=10,p=1,r=8\$$s\$$k",
        "\$scrypt\$ln=10,r=8,p=1\$$s",
        "\$scrypt\$ln=10,r=8,p=1\$\$$k",
        "\$scrypt\$ln=10,r=8,p=1\$$s\$",
        "\$scrypt\$ln=10,r=8,p=1\$$s\$$k\$extra",
        "\$scrypt\$ln=10,r=8,p=1\$$s==\$$k",
        "\$scrypt\$ln=10,r=8,p=1\$!!!!!!!!!!!!\$$k",
        "\$scrypt\$ln=10,r=8,p=1\$$s\$" . substr($k, 0, 41),
        "\$scrypt\$ln=10,r=8,p=1\$$s\$" . b64('x' x 65),
        "\$scrypt\$ln=10,r=8,p=1\$" . ('A' x 3000) . "\$$k",
        "\$scrypt\$ln=10\0,r=8,p=1\$$s\$$k",
        "\$SCRYPT\$ln=10,r=8,p=1\$$s\$$k",
        "\$argon2id\$v=19\$m=65536,t=2,p=1\$$s\$$k",
        "\$scrypt\$ln=10,r=8,p=1\$$s\$$tampered",   # well formed, wrong key
    );
}

our @Hostile;

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

    $block->set_value("no_error_log", "[error]\n[alert]\n[crit]\n")
        unless defined $block->no_error_log || defined $block->must_die;
});

workers(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a hash is a PHC string with the default parameters; Python's scrypt finds the same key from its salt
--- request eval
"GET /api/_debug/password?password=" . main::esc($main::Pw)
--- response_body_filters eval
main::answer($main::Pw)
--- response_body
$scrypt$ln=14,r=8,p=1$<16-byte salt>$<32-byte key, python agrees> match=true wrong=false
--- response_headers
Content-Type: application/json
--- error_code: 200
--- timeout: 10



=== TEST 2: every hash has its own salt; UTF-8 and empty passwords hash too
--- request eval
["GET /api/_debug/password?password=" . main::esc($main::Utf8Pw),
 "GET /api/_debug/password?password=" . main::esc($main::Utf8Pw),
 "GET /api/_debug/password?password="]
--- response_body_filters eval
my %seen;
sub {
    my ($phc) = $_[0] =~ /"phc":"\$scrypt\$ln=14,r=8,p=1\$([^\$"]+)\$/
        or return "no phc: $_[0]";
    my ($m) = $_[0] =~ /"match":(true|false),"wrong":false,"ms":\d+\}\z/
        or return "bad answer: $_[0]";
    ($seen{$phc}++ ? "repeated salt" : "new salt") . " match=$m\n";
}
--- response_body eval
["new salt match=true\n", "new salt match=true\n", "new salt match=true\n"]
--- timeout: 10



=== TEST 3: hashes made by Python verify; wrong, empty and near-miss passwords do not
--- request eval
my $phc = main::py_phc($main::Pw, 15, 8, 1);
my $utf8 = main::py_phc($main::Utf8Pw, 15, 8, 1);
[main::verify_req($main::Pw, $phc),
 main::verify_req($main::Pw . 'x', $phc),
 main::verify_req(substr($main::Pw, 0, -1), $phc),
 main::verify_req('', $phc),
 main::verify_req($main::Utf8Pw, $utf8),
 main::verify_req($main::Pw, $utf8)]
--- response_body_filters eval
main::answer($main::Pw)
--- response_body eval
["match=true rehash=null\n", "match=false rehash=null\n",
 "match=false rehash=null\n", "match=false rehash=null\n",
 "match=true rehash=null\n", "match=false rehash=null\n"]
--- timeout: 10



=== TEST 4: RFC 7914's test vector verifies; it has the configured parameters, so no rehash
--- request eval
[main::verify_req('pleaseletmein', $main::Rfc7914),
 main::verify_req('pleaseletmeiN', $main::Rfc7914)]
--- response_body_filters eval
main::answer('pleaseletmein')
--- response_body eval
["match=true rehash=null\n",
 "match=false rehash=null\n"]
--- timeout: 10



=== TEST 5: a match on a weaker hash (ln=10, or r=4) hands back a fresh one; a miss does not
--- request eval
my $weak = main::py_phc($main::Pw, 10, 8, 1);
[main::verify_req($main::Pw, $weak),
 main::verify_req($main::Pw, main::py_phc($main::Pw, 15, 4, 1)),
 main::verify_req('not it', $weak)]
--- response_body_filters eval
main::answer($main::Pw)
--- response_body eval
["match=true rehash=\$scrypt\$ln=14,r=8,p=1\$<16-byte salt>\$<32-byte key, python agrees>\n",
 "match=true rehash=\$scrypt\$ln=14,r=8,p=1\$<16-byte salt>\$<32-byte key, python agrees>\n",
 "match=false rehash=null\n"]
--- timeout: 10



=== TEST 6: nexus_password_scrypt sets the parameters; hashes as strong or stronger are not rehashed
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_password_scrypt 1024 8 2;
--- request eval
["GET /api/_debug/password?password=" . main::esc($main::Pw),
 main::verify_req($main::Pw, main::py_phc($main::Pw, 10, 8, 2)),
 main::verify_req($main::Pw, main::py_phc($main::Pw, 11, 8, 2)),
 main::verify_req($main::Pw, main::py_phc($main::Pw, 10, 16, 3)),
 main::verify_req($main::Pw, main::py_phc($main::Pw, 12, 8, 1))]
--- response_body_filters eval
main::answer($main::Pw)
--- response_body eval
["\$scrypt\$ln=10,r=8,p=2\$<16-byte salt>\$<32-byte key, python agrees> match=true wrong=false\n",
 "match=true rehash=null\n",
 "match=true rehash=null\n",
 "match=true rehash=null\n",
 "match=true rehash=\$scrypt\$ln=10,r=8,p=2\$<16-byte salt>\$<32-byte key, python agrees>\n"]
--- timeout: 10



=== TEST 7: hostile stored hashes never match and never crash; the worker keeps serving
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_password_scrypt 1024 8 1;
--- request eval
@main::Hostile = main::hostile();
[(map { main::verify_req($main::Pw, $_) } @main::Hostile),
 main::verify_req($main::Pw, main::py_phc($main::Pw, 10, 8, 1)),
 "GET /_ctl/log_count?re=stored%20password%20hash%20is%20malformed"]
--- response_body_filters eval
my $answer = main::answer($main::Pw);
sub { $_[0] =~ /^\{/ ? $answer->($_[0]) : $_[0] }
--- response_body eval
[("match=false rehash=null\n") x @main::Hostile, "match=true rehash=null\n",
 # all but the well-formed one with a wrong key
 (@main::Hostile - 1) . "\n"]
--- error_code eval
[(200) x (@main::Hostile + 2)]
--- timeout: 20



=== TEST 8: an unknown account (no hash) and a malformed hash cost a full hash too
--- request eval
[main::verify_req($main::Pw, ''),
 main::verify_req($main::Pw, 'garbage'),
 "GET /api/_debug/password?password=x&phc"]
--- response_body_like eval
[qr/^\{"match":false,"rehash":null,"ms":[1-9]\d+\}\z/,
 qr/^\{"match":false,"rehash":null,"ms":[1-9]\d+\}\z/,
 qr/^\{"match":false,"rehash":null,"ms":[1-9]\d+\}\z/]
--- no_error_log
[error]
[alert]
--- timeout: 10



=== TEST 9: a burst of hashing does not slow the catalog served by the same worker
The burst: 8 requests of 3 scrypt runs each at N=2^15 (about 150 ms a run
here) on a
pool of 2 threads. The control server starts it and times the catalog
itself, so the timing overlaps the burst whatever nginx does. Were scrypt
run on the event loop, one burst request would hold the worker for about
450 ms and the catalog requests, queued behind the burst's, would wait
seconds: the 150 ms bound fails. bg_pending proves the burst was still
running when the timing ended, and the burst's duration that the hashing
really happened.
--- main_config
    thread_pool nexus_password threads=2;
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_password_thread_pool nexus_password;
    nexus_password_scrypt 32768 8 1;
--- request eval
["GET /api/categories",
 "GET /api/products?limit=1",
 "GET /_ctl/time?bg_n=8&bg_path=/api/_debug/password%3Fpassword%3Dburst"
     . "&delay=0.2&n=5&gap=0.05&path=/api/categories",
 "GET /_ctl/time?n=3&gap=0.05&path=/api/products%3Flimit%3D1",
 "GET /_ctl/bg_pending",
 "GET /_ctl/bg_wait?ms=1"]
--- response_body_like eval
['"categories"',
 '"items"',
 # each under 150 ms, and at least 2 of the 8 still hashing afterwards
 qr/^codes: 200 200 200 200 200\nms: [\d ]+\nmax_ms: (?:\d|[1-9]\d|1[0-4]\d)\nbg_pending: [2-8]\n\z/,
 qr/^codes: 200 200 200\nms: [\d ]+\nmax_ms: (?:\d|[1-9]\d|1[0-4]\d)\n\z/,
 qr/^[1-8]\n\z/,
 # all hashed, the longest took at least 1 s
 qr/^200 200 200 200 200 200 200 200\nmax_ms: [1-9]\d{3,}\n\z/]
--- timeout: 30



=== TEST 10: clients that hang up while a thread hashes: the job ends on its own, the worker is fine
--- request eval
["GET /_ctl/bg?n=4&abort=0.1&path=/api/_debug/password%3Fpassword%3Dgone",
 "GET /_ctl/bg_wait",
 "GET /_ctl/sleep?s=1",
 "GET /_ctl/log_count?re=password%20job%20done%20after%20its%20request%20ended",
 "GET /_ctl/log_count?re=client%20closed%20the%20connection%20while%20waiting",
 "GET /api/_debug/password?password=x&phc="]
--- response_body_like eval
["^ok\n", "^0 0 0 0\n", "^ok\n", "^4\n", "^4\n",
 qr/^\{"match":false,"rehash":null,"ms":\d+\}\z/]
--- timeout: 20



=== TEST 11: the debug endpoint needs a password, and exists only with nexus_debug_endpoints
--- config
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
    }
    location /plain/api/ {
        rewrite ^/plain(.*)$ $1 break;
        nexus_api;
    }
--- request eval
["GET /api/_debug/password",
 "GET /plain/api/_debug/password?password=x"]
--- error_code eval
[400, 404]
--- response_body_like eval
['"name":"password","reason":"is required"', '"code":"not_found"']



=== TEST 12: N must be a power of two
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_password_scrypt 1000 8 1;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_password_scrypt" N must be a power of two from 1024 to 1048576, not "1000"



=== TEST 13: N below 2^10
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_password_scrypt 512 8 1;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
N must be a power of two from 1024 to 1048576, not "512"



=== TEST 14: N above 2^20
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_password_scrypt 2097152 1 1;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
N must be a power of two from 1024 to 1048576, not "2097152"



=== TEST 15: r of 0
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_password_scrypt 32768 0 1;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_password_scrypt" r must be from 1 to 32, not "0"



=== TEST 16: r that is not a number
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_password_scrypt 32768 eight 1;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
r must be from 1 to 32, not "eight"



=== TEST 17: p of 17
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_password_scrypt 32768 8 17;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_password_scrypt" p must be from 1 to 16, not "17"



=== TEST 18: more than 1 GiB a hash
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_password_scrypt 1048576 16 1;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_password_scrypt" needs more than 1 GiB a hash



=== TEST 19: too much work a hash
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_password_scrypt 1048576 8 4;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_password_scrypt" costs too much



=== TEST 20: twice
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_password_scrypt 32768 8 1;
    nexus_password_scrypt 65536 8 1;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_password_scrypt" directive is duplicate



=== TEST 21: a thread pool that is not declared
--- http_config
    nexus_postgres "host=127.0.0.1 dbname=x";
    nexus_password_thread_pool nope;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
unknown thread pool "nope"
