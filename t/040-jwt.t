# Access tokens (JWT, HS256 and EdDSA), checked against an independent
# implementation: the module's tokens must verify with jose (npm), jose's
# tokens must verify with the module, and forged, expired or mis-addressed
# tokens must be refused with a stable reason. Key rotation, and keys that
# must stop nginx from starting.
#
# Tokens from jose are made when this file loads (t/js/jwt.mjs, run with
# node); the module's tokens are checked with jose in response_body_filters.
# The keys are made by scripts/test in $NEXUS_TEST_KEYS.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use JSON::PP ();

our $Keys = $ENV{NEXUS_TEST_KEYS}
    or die "NEXUS_TEST_KEYS is not set; run the suite through scripts/test\n";
our $Root = $ENV{NEXUS_TEST_ROOT} // '.';

# read by nginx while it loads its configuration: 31 bytes, one too few
$ENV{NEXUS_TEST_JWT_SHORT} = 'x' x 31;

sub main::jose {
    my @args = @_;
    open(my $fh, '-|', 'node', "$main::Root/t/js/jwt.mjs", @args)
        or die "cannot run node: $!\n";
    local $/;
    my $out = <$fh>;
    close $fh or die "t/js/jwt.mjs @args failed (exit $?)\n";
    return JSON::PP::decode_json($out);
}

# several requests at once, one node start: ([cmd, args...], ...)
sub main::jose_batch {
    my $r = main::jose('batch', JSON::PP::encode_json([@_]));
    return @$r;
}

sub main::ed { ('alg=EdDSA', "key=$main::Keys/ed25519.pem", 'kid=ed1', @_) }
sub main::hs { ('alg=HS256', "key=$main::Keys/hs256.key", 'kid=hs1', @_) }
sub main::old { ('alg=EdDSA', "key=$main::Keys/ed25519-old.pem", @_) }

# a filter: the body's token, verified by jose, as canonical JSON of what
# matters in it (or why jose refused it)
sub main::jose_check {
    my (%o) = @_;
    return sub {
        my ($body) = @_;
        my $t = eval { JSON::PP::decode_json($body)->{token} };
        return "no token in: $body" unless defined $t;
        my $r = main::jose('verify', (map { "$_=$o{$_}" } sort keys %o),
                           "token=$t");
        return "jose refused it: $r->{code}\n" unless $r->{ok};
        my ($h, $p) = @$r{qw(header payload)};
        return JSON::PP->new->canonical->encode({
            header => join(',', sort keys %$h),
            alg => $h->{alg}, kid => $h->{kid}, typ => $h->{typ},
            claims => join(',', sort keys %$p),
            iss => $p->{iss}, aud => $p->{aud},
            sub => $p->{sub}, sid => $p->{sid},
            ttl => $p->{exp} - $p->{iat},
            iat_is_now => (abs($p->{iat} - time) <= 5 ? 1 : 0),
            jti_len => length($p->{jti} // ''),
        }) . "\n";
    };
}

sub main::flip {
    my ($t) = @_;
    my $i = length($t) - 10;    # inside the signature, not its last char
    substr($t, $i, 1) = substr($t, $i, 1) eq 'A' ? 'B' : 'A';
    return $t;
}

# every token from jose, made in one go
our @Spec = (
    ed       => ['sign', main::ed('sub=42', 'sid=7')],
    hs       => ['sign', main::hs('sub=9007199254740993', 'sid=3')],
    aud_list => ['sign', main::ed('aud=other,nexus-api', 'nbf=-5', 'sub=1',
                                  'sid=1')],
    iat_30   => ['sign', main::ed('iat=+30')],
    old      => ['sign', main::old('kid=old', 'sub=8', 'sid=80')],
    new      => ['sign', 'alg=EdDSA', "key=$Keys/ed25519.pem", 'kid=new',
                 'sub=9', 'sid=90'],
    old_new  => ['sign', main::old('kid=new')],
    expired  => ['sign', main::ed('iat=-100', 'exp=-1')],
    otherkey => ['sign', main::old('kid=ed1')],
    aud      => ['sign', main::ed('aud=someone-else')],
    iss      => ['sign', main::ed('iss=https://evil.example')],
    none     => ['forge', main::ed('halg=none')],
    pem_hmac => ['forge', 'alg=HS256', "key=$Keys/ed25519.pub.pem",
                 'kid=ed1'],
    ed_as_hs => ['forge', main::ed('halg=HS256')],
    kid      => ['sign', 'alg=EdDSA', "key=$Keys/ed25519.pem", 'kid=nobody'],
    no_exp   => ['sign', main::ed('exp=omit')],
    no_sid   => ['sign', main::ed('sid=omit')],
    sub_0    => ['sign', main::ed('sub=007')],
    nbf      => ['sign', main::ed('nbf=+120')],
    iat      => ['sign', main::ed('iat=+120', 'exp=+900')],
    crit     => ['sign', main::ed('crit=x')],
    brief    => ['sign', main::ed('sub=5', 'sid=6', 'exp=+4')],
);

our %Tok;
{
    my @names = @Spec[grep { $_ % 2 == 0 } 0 .. $#Spec];
    my @res = main::jose_batch(@Spec[grep { $_ % 2 } 0 .. $#Spec]);
    @Tok{@names} = map { $_->{token} } @res;
}

$Tok{flipped} = main::flip($Tok{ed});
$Tok{hsflip} = main::flip($Tok{hs});
$Tok{padded} = "$Tok{ed}=";

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_' . ($block->http_config // ''));
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
_EOC_

    $block->set_value("config", <<'_EOC_') unless defined $block->config;
    location /api/ {
        nexus_api;
        nexus_debug_endpoints on;
    }
_EOC_
});

no_shuffle();
run_tests();

__DATA__

=== TEST 0: a verified token is remembered by the worker, but not past its expiry
The first block of the file, so the token (exp in 4 s from loading) is
still valid for its first two uses; the worker's cache of verified tokens
must not serve it once it has expired.
--- http_config
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
--- request eval
["GET /api/_debug/jwt/verify", "GET /api/_debug/jwt/verify",
 "GET /api/_debug/sleep?s=4.5", "GET /api/_debug/jwt/verify"]
--- more_headers eval
["Authorization: Bearer $main::Tok{brief}", "Authorization: Bearer $main::Tok{brief}",
 "", "Authorization: Bearer $main::Tok{brief}"]
--- error_code eval
[200, 200, 200, 401]
--- response_body_like eval
['"sub":"5"', '"sub":"5"', '', '"detail":"expired"|expired']
--- timeout: 10



=== TEST 1: an EdDSA token of the module verifies with jose
--- http_config
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
    nexus_jwt_key hs1 HS256 file:$TEST_NGINX_KEYS/hs256.key;
--- request
GET /api/_debug/jwt/issue?sub=42&sid=7
--- response_body_filters eval
main::jose_check(alg => 'EdDSA', key => "$main::Keys/ed25519.pub.pem")
--- response_body
{"alg":"EdDSA","aud":"nexus-api","claims":"aud,exp,iat,iss,jti,sid,sub","header":"alg,kid,typ","iat_is_now":1,"iss":"nexus","jti_len":22,"kid":"ed1","sid":7,"sub":"42","ttl":900,"typ":"JWT"}
--- error_code: 200
--- no_error_log
[error]



=== TEST 2: an HS256 token of the module verifies with jose; its own ttl
--- http_config
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem;
    nexus_jwt_key hs1 HS256 file:$TEST_NGINX_KEYS/hs256.key sign;
    nexus_access_token_ttl 60s;
--- request
GET /api/_debug/jwt/issue?sub=9223372036854775807&sid=12
--- response_body_filters eval
main::jose_check(alg => 'HS256', key => "$main::Keys/hs256.key")
--- response_body
{"alg":"HS256","aud":"nexus-api","claims":"aud,exp,iat,iss,jti,sid,sub","header":"alg,kid,typ","iat_is_now":1,"iss":"nexus","jti_len":22,"kid":"hs1","sid":12,"sub":"9223372036854775807","ttl":60,"typ":"JWT"}
--- error_code: 200
--- no_error_log
[error]



=== TEST 3: the configured issuer and audience are what jose checks
--- http_config
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem;
    nexus_jwt_issuer "https://shop.example/\"q\"";
    nexus_jwt_audience shop-api;
--- request
GET /api/_debug/jwt/issue?sub=5&sid=6
--- response_body_filters eval
main::jose_check(alg => 'EdDSA', key => "$main::Keys/ed25519.pub.pem",
                 iss => 'https://shop.example/"q"', aud => 'shop-api')
--- response_body
{"alg":"EdDSA","aud":"shop-api","claims":"aud,exp,iat,iss,jti,sid,sub","header":"alg,kid,typ","iat_is_now":1,"iss":"https://shop.example/\"q\"","jti_len":22,"kid":"ed1","sid":6,"sub":"5","ttl":900,"typ":"JWT"}
--- error_code: 200
--- no_error_log
[error]



=== TEST 4: jose refuses the same token for another audience (the check bites)
--- http_config
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem;
    nexus_jwt_audience shop-api;
--- request
GET /api/_debug/jwt/issue?sub=5&sid=6
--- response_body_filters eval
main::jose_check(alg => 'EdDSA', key => "$main::Keys/ed25519.pub.pem")
--- response_body
jose refused it: ERR_JWT_CLAIM_VALIDATION_FAILED
--- error_code: 200



=== TEST 5: tokens signed by jose are accepted, EdDSA and HS256
--- http_config
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
    nexus_jwt_key hs1 HS256 file:$TEST_NGINX_KEYS/hs256.key;
--- request eval
["GET /api/_debug/jwt/verify", "GET /api/_debug/jwt/verify",
 "GET /api/_debug/jwt/verify", "GET /api/_debug/jwt/verify"]
--- more_headers eval
["Authorization: Bearer $main::Tok{ed}",
 "Authorization: bearer $main::Tok{hs}",
 "Authorization: Bearer $main::Tok{aud_list}",
 "Authorization: Bearer $main::Tok{iat_30}"]
--- response_body_like eval
['^\{"sub":"42","sid":7,"iat":\d+,"exp":\d+\}$',
 '^\{"sub":"9007199254740993","sid":3,"iat":\d+,"exp":\d+\}$',
 '^\{"sub":"1","sid":1,',
 '^\{"sub":"42","sid":7,']
--- error_code eval
[200, 200, 200, 200]
--- no_error_log
[error]



=== TEST 6: bad tokens are refused with 401 and the reason
--- http_config
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
    nexus_jwt_key hs1 HS256 file:$TEST_NGINX_KEYS/hs256.key;
--- request eval
[("GET /api/_debug/jwt/verify") x 22]
--- more_headers eval
my @t = map { "Authorization: Bearer $main::Tok{$_}" }
    qw(expired flipped otherkey hsflip aud iss none pem_hmac ed_as_hs kid
       no_exp no_sid sub_0 nbf iat crit padded);
[@t,
 "Authorization: Bearer garbage",
 "Authorization: Bearer a.b.c.d",
 "Authorization: Bearer " . ("A" x 5000),
 "Authorization: Basic dXNlcjpwYXNz",
 ""]
--- response_body_like eval
[map { qq{"status":401,"code":"invalid_token","detail":"$_"} }
 "expired", "bad signature", "bad signature", "bad signature",
 "wrong audience", "wrong issuer", "algorithm mismatch",
 "algorithm mismatch", "algorithm mismatch", "unknown key", "bad claims",
 "bad claims", "bad claims", "not yet valid", "not yet valid", "malformed",
 "malformed", "malformed", "malformed", "malformed", "no bearer token",
 "no bearer token"]
--- response_headers eval
[("Content-Type: application/problem+json\nWWW-Authenticate: Bearer error=\"invalid_token\"") x 22]
--- error_code eval
[(401) x 22]
--- no_error_log
[error]



=== TEST 7: rotation: the "sign" key signs, the old key still verifies
--- http_config
    nexus_jwt_key old EdDSA file:$TEST_NGINX_KEYS/ed25519-old.pem;
    nexus_jwt_key new EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
--- request eval
["GET /api/_debug/jwt/verify", "GET /api/_debug/jwt/verify"]
--- more_headers eval
["Authorization: Bearer $main::Tok{old}",
 "Authorization: Bearer $main::Tok{new}"]
--- response_body_like eval
['^\{"sub":"8","sid":80,', '^\{"sub":"9","sid":90,']
--- error_code eval
[200, 200]



=== TEST 8: rotation: new tokens carry the signing kid
--- http_config
    nexus_jwt_key old EdDSA file:$TEST_NGINX_KEYS/ed25519-old.pem;
    nexus_jwt_key new EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
--- request
GET /api/_debug/jwt/issue?sub=1&sid=2
--- response_body_filters eval
main::jose_check(alg => 'EdDSA', key => "$main::Keys/ed25519.pub.pem")
--- response_body_like: "kid":"new"
--- error_code: 200



=== TEST 9: rotation, last step: the old key as a public key verifies only
--- http_config
    nexus_jwt_key old EdDSA file:$TEST_NGINX_KEYS/ed25519-old.pub.pem;
    nexus_jwt_key new EdDSA file:$TEST_NGINX_KEYS/ed25519.pem;
--- request
GET /api/_debug/jwt/issue?sub=1&sid=2
--- response_body_filters eval
main::jose_check(alg => 'EdDSA', key => "$main::Keys/ed25519.pub.pem")
--- response_body_like: "kid":"new"
--- error_code: 200



=== TEST 10: rotation: a token of a key no longer configured is refused
--- http_config
    nexus_jwt_key new EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
--- request eval
["GET /api/_debug/jwt/verify", "GET /api/_debug/jwt/verify"]
--- more_headers eval
["Authorization: Bearer $main::Tok{old}",
 "Authorization: Bearer $main::Tok{old_new}"]
--- response_body_like eval
['"detail":"unknown key"', '"detail":"bad signature"']
--- error_code eval
[401, 401]



=== TEST 11: a public key alone verifies but cannot issue
--- http_config
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pub.pem;
--- request eval
["GET /api/_debug/jwt/verify", "GET /api/_debug/jwt/issue?sub=1&sid=1",
 "GET /api/_debug/jwt/issue?sub=0&sid=1"]
--- more_headers eval
["Authorization: Bearer $main::Tok{ed}", "", ""]
--- response_body_like eval
['^\{"sub":"42","sid":7,', '"code":"no_signing_key"', '"code":"invalid_parameter".*"sub"']
--- error_code eval
[200, 503, 400]



=== TEST 12: an HS256 secret shorter than 32 bytes stops nginx
--- http_config
    nexus_jwt_key hs1 HS256 env:NEXUS_TEST_JWT_SHORT;
--- must_die
--- error_log
the HS256 secret of JWT key "hs1" has 31 bytes; it needs at least 32



=== TEST 13: a key that is not Ed25519 stops nginx
--- http_config
    nexus_jwt_key p1 EdDSA file:$TEST_NGINX_KEYS/p256.pem;
--- must_die
--- error_log
JWT key "p1" is not an Ed25519 key



=== TEST 14: a file that is no PEM key stops nginx
--- http_config
    nexus_jwt_key x1 EdDSA file:$TEST_NGINX_KEYS/hs256.key;
--- must_die
--- error_log
JWT key "x1" is not a PEM private key



=== TEST 15: a duplicate kid stops nginx
--- http_config
    nexus_jwt_key k1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem;
    nexus_jwt_key k1 HS256 file:$TEST_NGINX_KEYS/hs256.key;
--- must_die
--- error_log
duplicate JWT key id "k1"



=== TEST 16: two keys with "sign" stop nginx
--- http_config
    nexus_jwt_key k1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
    nexus_jwt_key k2 HS256 file:$TEST_NGINX_KEYS/hs256.key sign;
--- must_die
--- error_log
only one "nexus_jwt_key" may have the "sign" flag



=== TEST 17: "sign" on a public key stops nginx
--- http_config
    nexus_jwt_key k1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pub.pem sign;
--- must_die
--- error_log
JWT key "k1" is a public key: it can verify, not "sign"



=== TEST 18: an unknown algorithm stops nginx
--- http_config
    nexus_jwt_key k1 RS256 file:$TEST_NGINX_KEYS/ed25519.pem;
--- must_die
--- error_log
unknown JWT algorithm "RS256" for key "k1"
