# Accounts and authentication, end to end: sign-up, log-in (access tokens
# checked with jose, cookie sessions with their CSRF token), refresh-token
# rotation and reuse detection, log-out, e-mail verification, password
# reset and change, the profile, data export and erasure,
# scripts/create-admin, the time failed log-ins take, and a burst of
# log-ins that must not slow the catalog. Every flow is checked in the data
# too (users, sessions, refresh_tokens, user_tokens, outbox, audit_log), with
# /_ctl/sql, and so is every refusal that must leave the data alone (a
# missing CSRF token, a customer on an admin route, a malformed body).
#
# Flows whose later requests need an earlier answer go through the control
# server's chained requests (t/lib/Nexus/Test.pm): "POST /_ctl/http/api/..."
# reaches nginx as "POST /api/...", the answer comes back as nginx gave it,
# "X-Ctl-Save: at=json:access_token" keeps a value of it and {{at}} uses it
# in later requests (and in /_ctl/sql). Tokens made by jose (t/js/jwt.mjs)
# stand for another implementation of the protocol.
#
# The fixture users: alice (customer), bob (owner of acme), carol (owner of
# globex, e-mail not verified), dave (operator), erin (staff of acme); their
# stored hashes are scrypt ln=10, rehashed to ln=14 at their first log-in.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;
use JSON::PP ();

our $Keys = $ENV{NEXUS_TEST_KEYS}
    or die "NEXUS_TEST_KEYS is not set; run the suite through scripts/test\n";
our $Root = $ENV{NEXUS_TEST_ROOT} // '.';

Nexus::Test::ctl_server();
Nexus::Test::reset_fixture();
END { Nexus::Test::reset_fixture() if $ENV{NEXUS_TEST_PG_PORT} }

# two sessions of alice made without the module, for tokens signed by jose:
# 1000 is live, 1001 has expired (TEST 7)
Nexus::Test::psql(<<'_SQL_');
INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at) VALUES
    (1000, 1, sha256('jose-live'), now(), now() + interval '1 day'),
    (1001, 1, sha256('jose-expired'), now() - interval '2 days',
     now() - interval '1 day');
_SQL_

our $J = 'Content-Type: application/json';

# the answer to every sign-up
our $Registered = '{"detail": "If the address can be used, a verification '
    . 'e-mail is on its way. You can sign in now.", "status": "accepted"}';

our %Title = (400 => 'Bad Request', 401 => 'Unauthorized', 403 => 'Forbidden',
              409 => 'Conflict', 413 => 'Content Too Large',
              415 => 'Unsupported Media Type', 422 => 'Unprocessable Content');

# a problem document exactly as the module writes it
sub main::problem {
    my ($status, $code, $detail, $extra) = @_;
    my $d = JSON::PP->new->allow_nonref->encode($detail);
    return qq({"type":"https://nexus.dev/problems/$code","title":"$Title{$status}",)
        . qq("status":$status,"code":"$code","detail":$d) . ($extra // '') . '}';
}

# 422 with its invalid_params: invalid(name => reason, ...)
sub main::invalid {
    my @p = @_;
    my @items;
    while (my ($n, $r) = splice @p, 0, 2) {
        push @items, qq({"name":"$n","reason":"$r"});
    }
    return main::problem(422, 'invalid_body',
        'Some fields are missing or invalid; see invalid_params.',
        ',"invalid_params":[' . join(',', @items) . ']');
}

our $BadCredentials = main::problem(401, 'invalid_credentials',
    'The e-mail address or password is wrong.');
our $TokenRefused = 'The access token is not valid; refresh it or sign in again.';
our $SessionEnded = main::problem(401, 'session_ended',
    'The session has ended or the account is disabled; sign in again.');
our $BadGrant = main::problem(401, 'invalid_grant',
    'The refresh token is not valid; sign in again.');
our $CsrfFailed = main::problem(403, 'csrf_failed',
    "Send the session's CSRF token in the X-CSRF-Token header.");
our $WrongPassword = main::problem(403, 'wrong_password',
    'The current password is wrong.');
our $BadLink = main::problem(400, 'invalid_token',
    'The link is invalid, used or expired; ask for a new one.');

sub main::exact { my ($s) = @_; return qr/\A\Q$s\E\z/ }

# GET /api/me of a fixture user (jsonb's key order)
sub main::me_re {
    my ($id, $name, $email, $roles, %o) = @_;
    my $phone = $o{phone} // 'null';
    my $verified = $o{verified} // 'true';
    my $r = join ', ', map { qq("$_") } split /,/, $roles;
    return qr/\A\{"id": $id, "name": "\Q$name\E", "email": "\Q$email\E", "phone": \Q$phone\E, "roles": \[$r\], "status": "active", "stores": \[[^\]]*\], "created_at": "[^"]+", "last_login_at": "20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", "email_verified": $verified\}\z/;
}

sub main::jose {
    my @args = @_;
    open(my $fh, '-|', 'node', "$main::Root/t/js/jwt.mjs", @args)
        or die "cannot run node: $!\n";
    local $/;
    my $out = <$fh>;
    close $fh or die "t/js/jwt.mjs @args failed (exit $?)\n";
    return JSON::PP::decode_json($out);
}

# access tokens made by jose, for the sessions above
our %Tok;
{
    my @ed = ('alg=EdDSA', "key=$Keys/ed25519.pem", 'kid=ed1');
    my @spec = (
        live      => ['sign', @ed, 'sub=1', 'sid=1000'],
        other_sub => ['sign', @ed, 'sub=2', 'sid=1000'],
        no_session => ['sign', @ed, 'sub=1', 'sid=999999'],
        ended     => ['sign', @ed, 'sub=1', 'sid=1001'],
        expired   => ['sign', @ed, 'sub=1', 'sid=1000', 'iat=-100', 'exp=-1'],
        other_key => ['sign', 'alg=EdDSA', "key=$Keys/ed25519-old.pem",
                      'kid=ed1', 'sub=1', 'sid=1000'],
        alg_none  => ['forge', @ed, 'halg=none', 'sub=1', 'sid=1000'],
    );
    my @names = @spec[grep { $_ % 2 == 0 } 0 .. $#spec];
    my $res = main::jose('batch', JSON::PP::encode_json(
        [@spec[grep { $_ % 2 } 0 .. $#spec]]));
    @Tok{@names} = map { $_->{token} } @$res;
}

# A filter: an answer with tokens becomes what matters in it, its access
# token verified by jose with the public key (iss and aud: what jose
# expects); any other answer is left as it is.
sub main::tokens {
    my (%o) = @_;
    return sub {
        my ($body) = @_;
        return $body unless $body =~ /^\{"access_token"/;
        my $d = eval { JSON::PP::decode_json($body) } or return "not JSON: $body";
        my $r = main::jose('verify', 'alg=EdDSA', "key=$main::Keys/ed25519.pub.pem",
                           (map { "$_=$o{$_}" } sort keys %o),
                           "token=$d->{access_token}");
        my ($h, $p, $u) = ($r->{header} // {}, $r->{payload} // {}, $d->{user});
        return JSON::PP->new->canonical->encode({
            keys => join(',', sort keys %$d),
            jose => $r->{ok} ? 'ok' : "refused: $r->{code}",
            header => join(',', map { "$_=$h->{$_}" } sort keys %$h),
            claims => join(',', sort keys %$p),
            iss => $p->{iss}, aud => $p->{aud}, sub => $p->{sub},
            sid => ($p->{sid} // '') =~ /^[1-9]\d*\z/ ? 'a session id' : $p->{sid},
            ttl => ($p->{exp} // 0) - ($p->{iat} // 0),
            iat_is_now => abs(($p->{iat} // 0) - time) <= 5 ? 1 : 0,
            token_type => $d->{token_type},
            expires_in => $d->{expires_in},
            refresh_token => ($d->{refresh_token} // '') =~ /^[A-Za-z0-9_-]{43}\z/
                             ? '43 base64url characters' : $d->{refresh_token},
            user => $u ? "$u->{id} $u->{email} " . join(',', @{ $u->{roles} }) : undef,
        }) . "\n";
    };
}

# what main::tokens makes of a log-in of a fixture user (refresh: no user)
sub main::tokens_of {
    my ($sub, $user, %o) = @_;
    my %t = (
        keys => 'access_token,expires_in,refresh_token,token_type'
                . ($user ? ',user' : ''),
        jose => 'ok', header => 'alg=EdDSA,kid=ed1,typ=JWT',
        claims => 'aud,exp,iat,iss,jti,sid,sub',
        iss => 'nexus', aud => 'nexus-api', sub => $sub, sid => 'a session id',
        ttl => 900, iat_is_now => 1, token_type => 'Bearer', expires_in => 900,
        refresh_token => '43 base64url characters', user => $user, %o);
    return JSON::PP->new->canonical->encode(\%t) . "\n";
}

# percent-encodes everything but unreserved characters
sub main::esc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

# SQL: is any stored row holding one of these strings? (users, sessions,
# tokens, outbox, audit log)
sub main::stored_anywhere {
    my @s = @_;
    my $like = join ' OR ', map { "row LIKE '%$_%'" } @s;
    return "SELECT count(*) FROM (
        SELECT to_jsonb(t)::text AS row FROM users t
        UNION ALL SELECT to_jsonb(t)::text FROM sessions t
        UNION ALL SELECT to_jsonb(t)::text FROM refresh_tokens t
        UNION ALL SELECT to_jsonb(t)::text FROM user_tokens t
        UNION ALL SELECT to_jsonb(t)::text FROM outbox t
        UNION ALL SELECT to_jsonb(t)::text FROM audit_log t) r WHERE $like";
}

# the passwords this file types, which no log line may show
our @Passwords = qw(frank-secret-1 alice-other-pw alice-pass-1 bob-pass-12
    carol-pass-1 dave-pass-12 erin-pass-12 new-bob-pass-1 erin-new-pass-1
    grace-pass-1 henry-pass-1 ops-password-1 ops-password-2);

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_' . ($block->http_config // ''));
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
_EOC_

    my $ctl = <<'_EOC_';
    location /_ctl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT;
        proxy_set_header X-Nginx-Port $server_port;
        proxy_read_timeout 30s;
    }
_EOC_

    $block->set_value("config", ($block->config // <<'_EOC_') . $ctl);
    location /api/ {
        nexus_api;
    }
_EOC_

    # /_ctl/time carries its bodies in its query string, which nginx logs
    my $req = $block->request // '';
    $req = join "\n", @$req if ref $req;
    my $pw = $req =~ m{/_ctl/time} ? '' : join "\n", @Passwords;
    $block->set_value("no_error_log", "[error]\n[alert]\n[crit]\n$pw\n")
        unless defined $block->no_error_log;

    $block->set_value("timeout", 10) unless defined $block->timeout;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: sign-up: a new address and a taken one get the same 202; the account, its hashed password and e-mail token, the outbox
--- request eval
['POST /_ctl/http/api/auth/register
{"email":"Frank@Example.com","password":"frank-secret-1","name":"Frank"}',
 'POST /_ctl/http/api/auth/register
{"email":"ALICE@example.com","password":"alice-other-pw"}',
 q{POST /_ctl/sql
SELECT email, name, status, email_verified_at IS NULL, failed_login_count,
       password_hash ~ '^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$'
  FROM users WHERE email = 'frank@example.com';
SELECT string_agg(role, ',') FROM user_roles
 WHERE user_id = (SELECT id FROM users WHERE email = 'frank@example.com');},
 q{POST /_ctl/sql
SELECT o.topic, o.payload->>'email',
       (o.payload->>'user_id')::bigint IS NOT DISTINCT FROM u.id,
       coalesce(o.payload->>'token' ~ '^[A-Za-z0-9_-]{43}$', false)
  FROM outbox o LEFT JOIN users u ON u.email = 'frank@example.com'
     AND o.topic = 'email.verify'
 ORDER BY o.id;},
 q{POST /_ctl/sql
SELECT t.purpose, t.email, t.used_at IS NULL, t.expires_at - t.created_at,
       t.token_hash = sha256(convert_to(o.payload->>'token', 'UTF8'))
  FROM user_tokens t JOIN outbox o ON o.topic = 'email.verify'
 WHERE t.user_id = (SELECT id FROM users WHERE email = 'frank@example.com');},
 # the taken address: its account is untouched, the password went nowhere
 q{POST /_ctl/sql
SELECT count(*), bool_and(password_hash LIKE '$scrypt$ln=10,%')
  FROM users WHERE email = 'alice@example.com';} . "\n"
 . main::stored_anywhere('frank-secret-1', 'alice-other-pw') . ';']
--- more_headers eval
[$main::J, $main::J, "", "", "", ""]
--- error_code eval
[202, 202, 200, 200, 200, 200]
--- response_headers eval
["Content-Type: application/json\nCache-Control: no-store",
 "Content-Type: application/json\nCache-Control: no-store", "", "", "", ""]
--- response_body eval
[$main::Registered, $main::Registered,
 "frank\@example.com|Frank|active|t|0|t\ncustomer\n",
 "email.verify|frank\@example.com|t|t\nemail.account_exists|alice\@example.com|t|f\n",
 "email_verify|frank\@example.com|t|2 days|t\n",
 "1|t\n0\n"]



=== TEST 2: sign-up refuses bad input before anything is written: 422 with every problem, 400 for bad JSON, 415 for another media type
--- request eval
my $long = 'p' x 257;
[map({ "POST /api/auth/register\n$_" }
     '{"email":"not-an-email","password":"long-enough-1"}',
     '{"email":"x@example.com","password":"short"}',
     qq({"email":"x\@example.com","password":"$long"}),
     '{"email":"x@example.com","password":"long-enough-1","role":"admin"}',
     '{"email":5,"password":["long-enough-1"],"name":{}}',
     '{}',
     '{"email":"x@example.com","password":"long-enough-1","name":"a\u0007b"}',
     '{"email":"x@example.com","password":"long-enough-1","name":""}',
     '{"email": "x@example.com",',
     '["x@example.com", "long-enough-1"]',
     '{"email":"x@example.com","email":"y@example.com","password":"long-enough-1"}',
     '{"email":"x@example.com","password":"long-enough-1"}',
     '{"email":"x@example.com","password":"long-enough-1"}'),
 q{POST /_ctl/sql
SELECT count(*) FROM users WHERE email::text ~ '^[xy]@';
SELECT count(*) FROM outbox WHERE payload->>'email' ~ '^[xy]@';}]
--- more_headers eval
[($main::J) x 11, "Content-Type: text/plain", "", ""]
--- error_code eval
[422, 422, 422, 422, 422, 422, 422, 422, 400, 400, 400, 415, 415, 200]
--- response_body_like eval
[main::exact(main::invalid(email => 'must be an e-mail address')),
 main::exact(main::invalid(password => 'is too short')),
 main::exact(main::invalid(password => 'is too long')),
 main::exact(main::invalid(role => 'is not a known field')),
 main::exact(main::invalid(email => 'must be a string', password => 'must be a string',
                           name => 'must be a string')),
 main::exact(main::invalid(email => 'is required', password => 'is required')),
 main::exact(main::invalid(name => 'must not contain control characters')),
 main::exact(main::invalid(name => 'must not be empty')),
 qr/\A\{"type":"https:\/\/nexus.dev\/problems\/malformed_json","title":"Bad Request","status":400,"code":"malformed_json","detail":"The body is not valid JSON: [^"]+ at byte \d+\."\}\z/,
 main::exact(main::problem(400, 'malformed_json', 'The body must be a JSON object.')),
 qr/\A\{"type":"https:\/\/nexus.dev\/problems\/malformed_json",.*"detail":"The body is not valid JSON: duplicate object key/,
 main::exact(main::problem(415, 'unsupported_media_type', 'Send the body as application/json.')),
 main::exact(main::problem(415, 'unsupported_media_type', 'Send the body as application/json.')),
 qr/\A0\n0\n\z/]



=== TEST 3: nexus_body_max 1k: a larger body is 413, with or without a Content-Length; 1024 bytes are read
--- config
    location /api/ {
        nexus_api;
        nexus_body_max 1k;
    }
--- request eval
my $body = sub {
    my ($len) = @_;
    my $head = '{"email":"big@example.com","password":"long-enough-1","name":"';
    return $head . ('n' x ($len - length($head) - 2)) . '"}';
};
my $big = $body->(1100);
["POST /api/auth/register\n" . $body->(1025),
 "POST /api/auth/register\n" . sprintf("%x\r\n%s\r\n0\r\n\r\n", length $big, $big),
 "POST /api/auth/register\n" . $body->(1024),
 q{POST /_ctl/sql
SELECT count(*) FROM users WHERE email = 'big@example.com';}]
--- more_headers eval
[$main::J, "$main::J\nTransfer-Encoding: chunked", $main::J, ""]
--- error_code eval
[413, 413, 422, 200]
--- response_body_like eval
[main::exact(main::problem(413, 'body_too_large',
     'The request body is larger than this endpoint takes.')),
 main::exact(main::problem(413, 'body_too_large',
     'The request body is larger than this endpoint takes.')),
 main::exact(main::invalid(name => 'is too long')),
 qr/\A0\n\z/]



=== TEST 4: log-in: an access token jose verifies, a refresh token, the session; the weak stored hash is rehashed; wrong password and unknown address get the same 401
--- request eval
['POST /_ctl/http/api/auth/login
{"email":"alice@example.com","password":"alice-pass-1"}',
 'GET /_ctl/http/api/me',
 q{POST /_ctl/sql
SELECT password_hash ~ '^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$',
       last_login_at > now() - interval '1 minute', failed_login_count
  FROM users WHERE id = 1;},
 # the API session's own token is not the refresh token: never a cookie
 q{POST /_ctl/sql
SELECT s.user_id, s.csrf_hash IS NULL,
       s.token_hash <> sha256(convert_to('{{rt}}', 'UTF8')),
       r.token_hash = sha256(convert_to('{{rt}}', 'UTF8')),
       r.used_at IS NULL AND r.revoked_at IS NULL AND r.parent_id IS NULL,
       host(s.ip), s.user_agent, s.expires_at - s.created_at,
       r.expires_at - r.created_at
  FROM sessions s JOIN refresh_tokens r ON r.session_id = s.id
 WHERE s.id = {{sid}};},
 'POST /api/auth/login
{"email":"alice@example.com","password":"alice-pass-2"}',
 'POST /api/auth/login
{"email":"nobody@example.com","password":"alice-pass-2"}',
 q{POST /_ctl/sql
SELECT failed_login_count FROM users WHERE id = 1;
SELECT count(*) FROM users WHERE email = 'nobody@example.com';},
 # the rehashed password works, and the address is compared caselessly
 'POST /api/auth/login
{"email":"Alice@Example.COM","password":"alice-pass-1"}',
 q{POST /_ctl/sql
SELECT failed_login_count FROM users WHERE id = 1;
SELECT count(*) FROM sessions
 WHERE user_id = 1 AND revoked_at IS NULL AND expires_at > now();},
 'POST /api/auth/login
{"email":"alice@example.com"}',
 'POST /api/auth/login
{"email":"alice@example.com","password":"alice-pass-1","session":"yes","remember":true}']
--- more_headers eval
["$main::J\nUser-Agent: nexus-test/1.0\nX-Ctl-Save: at=json:access_token rt=json:refresh_token sid=jwt:access_token.sid",
 "Authorization: Bearer {{at}}", "", "", $main::J, $main::J, "", $main::J, "",
 $main::J, $main::J]
--- response_body_filters eval
main::tokens()
--- error_code eval
[200, 200, 200, 200, 401, 401, 200, 200, 200, 422, 422]
--- response_headers eval
["Content-Type: application/json\nCache-Control: no-store",
 "Content-Type: application/json\nCache-Control: no-store", "", "",
 "Content-Type: application/problem+json\nCache-Control: no-store",
 "Content-Type: application/problem+json\nCache-Control: no-store",
 "", "Cache-Control: no-store", "", "", ""]
--- response_body_like eval
[main::exact(main::tokens_of('1', '1 alice@example.com customer')),
 main::me_re(1, 'Alice', 'alice@example.com', 'customer'),
 qr/\At\|t\|0\n\z/,
 qr/\A1\|t\|t\|t\|t\|127\.0\.0\.1\|nexus-test\/1\.0\|30 days\|30 days\n\z/,
 main::exact($main::BadCredentials),
 main::exact($main::BadCredentials),
 qr/\A1\n0\n\z/,
 main::exact(main::tokens_of('1', '1 alice@example.com customer')),
 qr/\A0\n3\n\z/,
 main::exact(main::invalid(password => 'is required')),
 main::exact(main::invalid(remember => 'is not a known field',
                           session => 'must be true or false'))]



=== TEST 5: a disabled account: its token stops working, and its right password gets the same 401 as a wrong one
--- request eval
['POST /_ctl/http/api/auth/login
{"email":"erin@example.com","password":"erin-pass-12"}',
 'GET /_ctl/http/api/me',
 q{POST /_ctl/sql
UPDATE users SET status = 'disabled' WHERE id = 5;},
 'GET /_ctl/http/api/me',
 'POST /api/auth/login
{"email":"erin@example.com","password":"erin-pass-12"}',
 'POST /_ctl/http/api/auth/refresh
{"refresh_token":"{{rt}}"}',
 q{POST /_ctl/sql
SELECT status, failed_login_count FROM users WHERE id = 5;
UPDATE users SET status = 'active' WHERE id = 5;},
 'POST /api/auth/login
{"email":"erin@example.com","password":"erin-pass-12"}']
--- more_headers eval
["$main::J\nX-Ctl-Save: at=json:access_token rt=json:refresh_token",
 "Authorization: Bearer {{at}}", "", "Authorization: Bearer {{at}}", $main::J,
 $main::J, "", $main::J]
--- error_code eval
[200, 200, 200, 401, 401, 401, 200, 200]
--- response_headers eval
["", "", "",
 qq{WWW-Authenticate: Bearer realm="nexus", error="invalid_token", error_description="revoked"},
 "", "", "", ""]
--- response_body_like eval
[qr/\A\{"access_token":"[^"]+","token_type":"Bearer","expires_in":900,"refresh_token":"[\w-]{43}","user":\{"id":5,/,
 main::me_re(5, 'Erin', 'erin@example.com', 'customer'),
 qr/\A\z/,
 main::exact($main::SessionEnded),
 main::exact($main::BadCredentials),
 main::exact(main::problem(401, 'invalid_grant', 'The session has ended; sign in again.')),
 qr/\Adisabled\|0\n\z/,
 qr/\A\{"access_token":"[^"]+","token_type":"Bearer","expires_in":900,"refresh_token":"[\w-]{43}","user":\{"id":5,/]



=== TEST 6: a wrong password, an unknown address and a taken address at sign-up all take a hash's time
The first log-in leaves alice with a hash of the configured cost; carol
still has the fixture's weaker one, which must not answer sooner. Each
case is timed three times and compared with a request refused before any
hashing (a missing password): a hash takes at least 20 ms and 5 times as
long; an unknown address takes within 3 times as long as a wrong password.
--- request eval
my $t = sub {
    my ($path, $body) = @_;
    return "GET /_ctl/time?n=3&gap=0.02&method=POST&path=$path&body="
        . main::esc($body);
};
['POST /api/auth/login
{"email":"alice@example.com","password":"alice-pass-1"}',
 $t->('/api/auth/login', '{"email":"alice@example.com"}'),
 $t->('/api/auth/login', '{"email":"alice@example.com","password":"not-alice-1"}'),
 $t->('/api/auth/login', '{"email":"nobody@example.com","password":"not-alice-1"}'),
 $t->('/api/auth/login', '{"email":"carol@example.com","password":"not-carol-1"}'),
 $t->('/api/auth/register', '{"email":"alice@example.com","password":"not-alice-1"}')]
--- more_headers eval
[$main::J, "", "", "", "", ""]
--- response_body_filters eval
my ($base, $wrong);
sub {
    my ($body) = @_;
    my ($codes, $ms) = $body =~ /^codes: ([\d ]+)\nms: ([\d ]+)\n/ or return $body;
    my @ms = sort { $a <=> $b } split ' ', $ms;
    my $median = $ms[1];
    if (!defined $base) {
        $base = $median;
        return "codes: $codes\n";
    }
    my $hashed = ($ms[0] >= 20 && $ms[0] >= 5 * $base) ? 'yes' : "no (@ms ms, base $base)";
    my $out = "codes: $codes\nhashed: $hashed\n";
    if (!defined $wrong) {
        $wrong = $median;
    } elsif ($codes =~ /^401/) {
        my $ratio = $median / ($wrong || 1);
        $out .= "like a wrong password: "
            . ($ratio > 1 / 3 && $ratio < 3 ? 'yes' : "no ($median vs $wrong ms)") . "\n";
    }
    return $out;
}
--- response_body_like eval
[qr/\A\{"access_token":/,
 main::exact("codes: 422 422 422\n"),
 main::exact("codes: 401 401 401\nhashed: yes\n"),
 main::exact("codes: 401 401 401\nhashed: yes\nlike a wrong password: yes\n"),
 main::exact("codes: 401 401 401\nhashed: yes\nlike a wrong password: yes\n"),
 main::exact("codes: 202 202 202\nhashed: yes\n")]
--- timeout: 20



=== TEST 7: GET /api/me without credentials, with refused tokens, and with jose's tokens for live, foreign, missing, expired and revoked sessions
--- request eval
[("GET /api/me") x 10,
 q{POST /_ctl/sql
UPDATE sessions SET revoked_at = now() WHERE id = 1000;},
 "GET /api/me",
 "GET /api/categories"]
--- more_headers eval
["",
 "Authorization: Bearer garbage",
 "Authorization: Bearer $main::Tok{expired}",
 "Authorization: Bearer $main::Tok{other_key}",
 "Authorization: Bearer $main::Tok{alg_none}",
 "Authorization: Basic YWxpY2U6YWxpY2UtcGFzcy0x",
 "Authorization: Bearer $main::Tok{live}",
 "Authorization: Bearer $main::Tok{other_sub}",
 "Authorization: Bearer $main::Tok{no_session}",
 "Authorization: Bearer $main::Tok{ended}",
 "",
 "Authorization: Bearer $main::Tok{live}",
 "Authorization: Bearer garbage"]
--- error_code eval
[401, 401, 401, 401, 401, 401, 200, 401, 401, 401, 200, 401, 200]
--- response_headers eval
my $www = sub {
    "Content-Type: application/problem+json\nWWW-Authenticate: Bearer realm=\"nexus\", "
    . "error=\"invalid_token\", error_description=\"$_[0]\""
};
["Content-Type: application/problem+json\nWWW-Authenticate: Bearer realm=\"nexus\"",
 $www->('malformed'), $www->('expired'), $www->('bad signature'),
 $www->('algorithm mismatch'), $www->('malformed'),
 "Content-Type: application/json\nCache-Control: no-store\n!WWW-Authenticate",
 $www->('revoked'), $www->('revoked'), $www->('revoked'), "", $www->('revoked'),
 "!WWW-Authenticate\n!Cache-Control"]
--- response_body_like eval
[main::exact(main::problem(401, 'authentication_required',
     'Sign in: send an access token or the session cookie.')),
 (main::exact(main::problem(401, 'invalid_token', $main::TokenRefused))) x 4,
 main::exact(main::problem(401, 'invalid_token',
     'Send "Authorization: Bearer <access token>".')),
 main::me_re(1, 'Alice', 'alice@example.com', 'customer'),
 (main::exact($main::SessionEnded)) x 3,
 qr/\A\z/,
 main::exact($main::SessionEnded),
 qr/\A\{"categories":/]



=== TEST 8: refresh: the refresh token rotates; a used one presented again revokes its whole family and the session, and is audited
--- request eval
['POST /_ctl/http/api/auth/login
{"email":"bob@example.com","password":"bob-pass-12"}',
 'POST /_ctl/http/api/auth/refresh
{"refresh_token":"{{rt1}}"}',
 q{POST /_ctl/sql
SELECT '{{rt1}}' <> '{{rt2}}', '{{at1}}' <> '{{at2}}', {{sid}} = {{sid2}};
SELECT count(*), count(used_at), count(parent_id), count(DISTINCT family_id),
       count(*) FILTER (WHERE token_hash = sha256(convert_to('{{rt2}}', 'UTF8'))
                          AND used_at IS NULL AND parent_id IS NOT NULL)
  FROM refresh_tokens WHERE session_id = {{sid}};},
 'GET /_ctl/http/api/me',
 'GET /_ctl/http/api/me',
 'POST /_ctl/http/api/auth/refresh
{"refresh_token":"{{rt1}}"}',
 'POST /_ctl/http/api/auth/refresh
{"refresh_token":"{{rt2}}"}',
 'GET /_ctl/http/api/me',
 q{POST /_ctl/sql
SELECT revoked_reason, count(*) FROM refresh_tokens WHERE session_id = {{sid}}
 GROUP BY 1;
SELECT revoked_at IS NOT NULL FROM sessions WHERE id = {{sid}};
SELECT actor_user_id, action, entity_type, entity_id = '{{sid}}',
       details ? 'family_id', host(actor_ip)
  FROM audit_log WHERE action = 'auth.refresh_reused';},
 'POST /api/auth/refresh
{"refresh_token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}',
 'POST /api/auth/refresh
{}']
--- more_headers eval
["$main::J\nX-Ctl-Save: at1=json:access_token rt1=json:refresh_token sid=jwt:access_token.sid",
 "$main::J\nX-Ctl-Save: at2=json:access_token rt2=json:refresh_token sid2=jwt:access_token.sid",
 "", "Authorization: Bearer {{at2}}", "Authorization: Bearer {{at1}}",
 $main::J, $main::J, "Authorization: Bearer {{at2}}", "", $main::J, $main::J]
--- response_body_filters eval
main::tokens()
--- error_code eval
[200, 200, 200, 200, 200, 401, 401, 401, 200, 401, 422]
--- response_headers eval
["", "Content-Type: application/json\nCache-Control: no-store", "", "", "",
 "Content-Type: application/problem+json\nCache-Control: no-store", "", "",
 "", "", ""]
--- response_body_like eval
[main::exact(main::tokens_of('2', '2 bob@example.com customer')),
 main::exact(main::tokens_of('2', undef)),
 qr/\At\|t\|t\n2\|1\|1\|1\|1\n\z/,
 main::me_re(2, 'Bob', 'bob@example.com', 'customer'),
 main::me_re(2, 'Bob', 'bob@example.com', 'customer'),
 main::exact(main::problem(401, 'invalid_grant',
     'The refresh token was already used; the session is revoked. Sign in again.')),
 main::exact($main::BadGrant),
 main::exact($main::SessionEnded),
 qr/\Areuse_detected\|2\nt\n2\|auth\.refresh_reused\|session\|t\|t\|127\.0\.0\.1\n\z/,
 main::exact($main::BadGrant),
 main::exact(main::invalid(refresh_token => 'is required'))]



=== TEST 9: log-out ends this session and its refresh tokens at once; {"all": true} ends every session, cookies too; a refused body ends nothing
--- request eval
my $login = 'POST /_ctl/http/api/auth/login
{"email":"carol@example.com","password":"carol-pass-1"}';
[$login, $login, $login,
 'POST /_ctl/http/api/auth/login
{"email":"carol@example.com","password":"carol-pass-1","session":true}',
 # a body refused as it is read never reaches the endpoint
 'POST /_ctl/http/api/auth/logout
{"all": tru',
 'POST /_ctl/http/api/auth/logout
{"all": true}',
 q{POST /_ctl/sql
SELECT count(*) FROM sessions WHERE user_id = 3 AND revoked_at IS NULL;},
 'POST /_ctl/http/api/auth/logout',
 'GET /_ctl/http/api/me',
 'GET /_ctl/http/api/me',
 'POST /_ctl/http/api/auth/refresh
{"refresh_token":"{{rt_a}}"}',
 q{POST /_ctl/sql
SELECT s.id = {{sid_a}}, s.revoked_at IS NOT NULL,
       string_agg(coalesce(r.revoked_reason, '-'), ',')
  FROM sessions s LEFT JOIN refresh_tokens r ON r.session_id = s.id
 WHERE s.user_id = 3 GROUP BY s.id ORDER BY s.id;},
 'POST /_ctl/http/api/auth/logout
{"all":"yes"}',
 'POST /_ctl/http/api/auth/logout
{"all":true}',
 'GET /_ctl/http/api/me',
 'GET /_ctl/http/api/me',
 'GET /_ctl/http/api/me',
 q{POST /_ctl/sql
SELECT count(*) FILTER (WHERE revoked_at IS NULL), count(*) FROM sessions
 WHERE user_id = 3;
SELECT revoked_reason, count(*) FROM refresh_tokens WHERE user_id = 3 GROUP BY 1;},
 'POST /api/auth/logout']
--- more_headers eval
["$main::J\nX-Ctl-Save: at_a=json:access_token rt_a=json:refresh_token sid_a=jwt:access_token.sid",
 "$main::J\nX-Ctl-Save: at_b=json:access_token",
 "$main::J\nX-Ctl-Save: at_c=json:access_token",
 "$main::J\nX-Ctl-Save: ck=cookie:nexus_session",
 "$main::J\nAuthorization: Bearer {{at_a}}",
 "Content-Type: text/plain\nAuthorization: Bearer {{at_a}}",
 "",
 "Authorization: Bearer {{at_a}}",
 "Authorization: Bearer {{at_a}}",
 "Authorization: Bearer {{at_b}}",
 $main::J, "",
 "$main::J\nAuthorization: Bearer {{at_c}}",
 "$main::J\nAuthorization: Bearer {{at_b}}",
 "Authorization: Bearer {{at_b}}",
 "Authorization: Bearer {{at_c}}",
 "Cookie: nexus_session={{ck}}",
 "", ""]
--- error_code eval
[200, 200, 200, 200, 400, 415, 200, 204, 401, 200, 401, 200, 422, 204, 401, 401, 401, 200, 401]
--- response_headers eval
["", "", "", "", "", "", "", "!Content-Type\nCache-Control: no-store", "", "", "", "", "",
 "", "", "", "Set-Cookie: nexus_session=; Path=/api/; Max-Age=0; HttpOnly; SameSite=Lax",
 "", ""]
--- response_body_like eval
[qr/"user":\{"id":3,/, qr/"user":\{"id":3,/, qr/"user":\{"id":3,/,
 qr/\A\{"csrf_token":/,
 qr/\A\{"type":"https:\/\/nexus.dev\/problems\/malformed_json","title":"Bad Request","status":400,"code":"malformed_json","detail":"The body is not valid JSON: [^"]+"\}\z/,
 main::exact(main::problem(415, 'unsupported_media_type', 'Send the body as application/json.')),
 qr/\A4\n\z/,
 qr/\A\z/,
 main::exact($main::SessionEnded),
 main::me_re(3, 'Carol', 'carol@example.com', 'customer', verified => 'false'),
 main::exact($main::BadGrant),
 qr/\At\|t\|logout\nf\|f\|-\nf\|f\|-\nf\|f\|-\n\z/,
 main::exact(main::invalid(all => 'must be true or false')),
 qr/\A\z/,
 (main::exact($main::SessionEnded)) x 3,
 qr/\A0\|4\nlogout\|3\n\z/,
 main::exact(main::problem(401, 'authentication_required',
     'Sign in: send an access token or the session cookie.'))]



=== TEST 10: cookie sessions: HttpOnly SameSite cookie and a CSRF token; unsafe methods need the token (refused, they change nothing); log-out clears the cookie
--- request eval
['POST /_ctl/http/api/auth/login
{"email":"dave@example.com","password":"dave-pass-12","session":true}',
 'POST /_ctl/http/api/auth/login
{"email":"dave@example.com","password":"dave-pass-12"}',
 'GET /_ctl/http/api/me',
 'PATCH /_ctl/http/api/me
{"name":"Mallory"}',
 'PATCH /_ctl/http/api/me
{"name":"Mallory"}',
 q{POST /_ctl/sql
SELECT name FROM users WHERE id = 4;},
 'PATCH /_ctl/http/api/me
{"name":"Dave Operator"}',
 q{POST /_ctl/sql
SELECT u.name, s.token_hash = sha256(convert_to('{{ck}}', 'UTF8')),
       s.csrf_hash = sha256(convert_to('{{csrf}}', 'UTF8')),
       s.expires_at - s.created_at
  FROM sessions s JOIN users u ON u.id = s.user_id
 WHERE s.token_hash = sha256(convert_to('{{ck}}', 'UTF8'));},
 # an API session's refresh token, a short cookie, a bearer token over the cookie
 'GET /_ctl/http/api/me',
 'GET /api/me',
 'GET /_ctl/http/api/me',
 'POST /_ctl/http/api/auth/logout',
 'GET /_ctl/http/api/me',
 'POST /_ctl/http/api/auth/logout',
 'GET /_ctl/http/api/me',
 q{POST /_ctl/sql
SELECT csrf_hash IS NOT NULL, revoked_at IS NOT NULL FROM sessions
 WHERE user_id = 4 ORDER BY id;}]
--- more_headers eval
["$main::J\nX-Ctl-Save: ck=cookie:nexus_session csrf=json:csrf_token",
 "$main::J\nX-Ctl-Save: rt=json:refresh_token",
 "Cookie: nexus_session={{ck}}",
 "$main::J\nCookie: nexus_session={{ck}}",
 "$main::J\nCookie: nexus_session={{ck}}\nX-CSRF-Token: {{rt}}",
 "",
 "$main::J\nCookie: nexus_session={{ck}}\nX-CSRF-Token: {{csrf}}",
 "",
 "Cookie: nexus_session={{rt}}",
 "Cookie: nexus_session=abc",
 "Cookie: nexus_session={{ck}}\nAuthorization: Bearer {{csrf}}",
 "Cookie: nexus_session={{ck}}",
 "Cookie: nexus_session={{ck}}",
 "Cookie: nexus_session={{ck}}\nX-CSRF-Token: {{csrf}}",
 "Cookie: nexus_session={{ck}}",
 ""]
--- error_code eval
[200, 200, 200, 403, 403, 200, 200, 200, 401, 401, 401, 403, 200, 204, 401, 200]
--- response_headers_like eval
my $cleared = 'Set-Cookie: nexus_session=; Path=/api/; Max-Age=0; HttpOnly; SameSite=Lax';
["Set-Cookie: nexus_session=[A-Za-z0-9_-]{43}; Path=/api/; Max-Age=604800; HttpOnly; SameSite=Lax\nCache-Control: no-store",
 "Set-Cookie: ", "Cache-Control: no-store\nSet-Cookie: ", "Set-Cookie: ",
 "Set-Cookie: ", "", "Set-Cookie: ", "",
 $cleared, $cleared, "Set-Cookie: ", "Set-Cookie: ", "Set-Cookie: ", $cleared,
 $cleared, ""]
--- response_body_like eval
[qr/\A\{"csrf_token":"[A-Za-z0-9_-]{43}","expires_in":604800,"user":\{"id":4,"name":"Dave","email":"dave\@example\.com",.*"roles":\["admin","customer"\],/,
 qr/\A\{"access_token":/,
 main::me_re(4, 'Dave', 'dave@example.com', 'admin,customer'),
 main::exact($main::CsrfFailed),
 main::exact($main::CsrfFailed),
 qr/\ADave\n\z/,
 main::me_re(4, 'Dave Operator', 'dave@example.com', 'admin,customer'),
 qr/\ADave Operator\|t\|t\|7 days\n\z/,
 main::exact($main::SessionEnded),
 main::exact(main::problem(401, 'invalid_session', 'The session has ended; sign in again.')),
 main::exact(main::problem(401, 'invalid_token', $main::TokenRefused)),
 main::exact($main::CsrfFailed),
 main::me_re(4, 'Dave Operator', 'dave@example.com', 'admin,customer'),
 qr/\A\z/,
 main::exact($main::SessionEnded),
 qr/\At\|t\nf\|f\n\z/]



=== TEST 11: configured: a Secure cookie (nexus_cookie_secure on), the session and token lifetimes, the issuer and audience jose checks
--- http_config
    nexus_session_ttl 1h;
    nexus_access_token_ttl 60s;
    nexus_jwt_issuer https://shop.example;
    nexus_jwt_audience shop-api;
--- config
    location /api/ {
        nexus_api;
        nexus_cookie_secure on;
    }
--- request eval
['POST /_ctl/http/api/auth/login
{"email":"erin@example.com","password":"erin-pass-12","session":true}',
 'POST /_ctl/http/api/auth/login
{"email":"erin@example.com","password":"erin-pass-12"}',
 q{POST /_ctl/sql
SELECT expires_at - created_at FROM sessions
 WHERE token_hash = sha256(convert_to('{{ck}}', 'UTF8'));}]
--- more_headers eval
["$main::J\nX-Ctl-Save: ck=cookie:nexus_session", $main::J, ""]
--- response_body_filters eval
main::tokens(iss => 'https://shop.example', aud => 'shop-api')
--- response_headers_like eval
["Set-Cookie: nexus_session=[A-Za-z0-9_-]{43}; Path=/api/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure",
 "Set-Cookie: ", ""]
--- response_body_like eval
[qr/\A\{"csrf_token":"[A-Za-z0-9_-]{43}","expires_in":3600,"user":\{"id":5,/,
 main::exact(main::tokens_of('5', '5 erin@example.com customer',
     iss => 'https://shop.example', aud => 'shop-api', ttl => 60, expires_in => 60)),
 qr/\A01:00:00\n\z/]



=== TEST 12: e-mail verification: the link's token verifies the address once; a new link voids the old one; a verified address is 409
--- request eval
['POST /api/auth/register
{"email":"grace@example.com","password":"grace-pass-1","name":"Grace"}',
 'POST /_ctl/http/api/auth/login
{"email":"grace@example.com","password":"grace-pass-1"}',
 'GET /_ctl/http/api/me',
 q{POST /_ctl/sql
SELECT payload->>'token' FROM outbox
 WHERE topic = 'email.verify' AND payload->>'email' = 'grace@example.com';},
 'POST /_ctl/http/api/me/verify-email',
 q{POST /_ctl/sql
SELECT payload->>'token' FROM outbox
 WHERE topic = 'email.verify' AND payload->>'email' = 'grace@example.com'
 ORDER BY id DESC LIMIT 1;},
 'POST /_ctl/http/api/auth/verify-email
{"token":"{{t1}}"}',
 'POST /_ctl/http/api/auth/verify-email
{"token":"{{t2}}"}',
 'GET /_ctl/http/api/me',
 'POST /_ctl/http/api/auth/verify-email
{"token":"{{t2}}"}',
 'POST /_ctl/http/api/me/verify-email',
 'POST /api/auth/verify-email
{"token":"no-such-token"}',
 'POST /api/auth/verify-email
{"token":""}',
 q{POST /_ctl/sql
SELECT count(*), count(used_at), bool_and(purpose = 'email_verify')
  FROM user_tokens t JOIN users u ON u.id = t.user_id
 WHERE u.email = 'grace@example.com';
SELECT email_verified_at > now() - interval '1 minute' FROM users
 WHERE email = 'grace@example.com';
SELECT '{{t1}}' <> '{{t2}}';}]
--- more_headers eval
[$main::J, "$main::J\nX-Ctl-Save: at=json:access_token",
 "Authorization: Bearer {{at}}", "X-Ctl-Save: t1", "Authorization: Bearer {{at}}",
 "X-Ctl-Save: t2", $main::J, $main::J, "Authorization: Bearer {{at}}",
 $main::J, "Authorization: Bearer {{at}}", $main::J, $main::J, ""]
--- error_code eval
[202, 200, 200, 200, 202, 200, 400, 200, 200, 400, 409, 400, 422, 200]
--- response_body_like eval
[main::exact($main::Registered),
 qr/\A\{"access_token":/,
 qr/\A\{"id": \d+, "name": "Grace", "email": "grace\@example\.com", .*"email_verified": false\}\z/,
 qr/\A[A-Za-z0-9_-]{43}\n\z/,
 main::exact('{"status": "accepted"}'),
 qr/\A[A-Za-z0-9_-]{43}\n\z/,
 main::exact($main::BadLink),
 main::exact('{"email_verified": true}'),
 qr/\A\{"id": \d+, "name": "Grace", "email": "grace\@example\.com", .*"email_verified": true\}\z/,
 main::exact($main::BadLink),
 main::exact(main::problem(409, 'already_verified', 'The address is already verified.')),
 main::exact($main::BadLink),
 main::exact(main::invalid(token => 'must not be empty')),
 qr/\A2\|2\|t\nt\nt\n\z/]



=== TEST 13: password reset: the same 202 for a known and an unknown address; the link sets a new password once and ends every session
--- request eval
['POST /_ctl/http/api/auth/login
{"email":"bob@example.com","password":"bob-pass-12"}',
 'POST /api/auth/password-reset
{"email":"bob@example.com"}',
 'POST /api/auth/password-reset
{"email":"nobody@example.com"}',
 q{POST /_ctl/sql
SELECT payload->>'token' FROM outbox WHERE topic = 'email.password_reset';},
 q{POST /_ctl/sql
SELECT purpose, email, used_at IS NULL, expires_at - created_at,
       token_hash = sha256(convert_to('{{reset}}', 'UTF8'))
  FROM user_tokens WHERE user_id = 2;},
 'POST /api/auth/password-reset/confirm
{"token":"not-the-token","password":"new-bob-pass-1"}',
 'POST /_ctl/http/api/auth/password-reset/confirm
{"token":"{{reset}}","password":"short"}',
 'POST /_ctl/http/api/auth/password-reset/confirm
{"token":"{{reset}}","password":"new-bob-pass-1"}',
 'GET /_ctl/http/api/me',
 'POST /_ctl/http/api/auth/refresh
{"refresh_token":"{{rt}}"}',
 'POST /api/auth/login
{"email":"bob@example.com","password":"bob-pass-12"}',
 'POST /api/auth/login
{"email":"bob@example.com","password":"new-bob-pass-1"}',
 'POST /_ctl/http/api/auth/password-reset/confirm
{"token":"{{reset}}","password":"new-bob-pass-2"}',
 q{POST /_ctl/sql
SELECT topic, payload - 'token' FROM outbox
 WHERE topic LIKE 'email.password%' ORDER BY id;
SELECT used_at IS NOT NULL FROM user_tokens WHERE user_id = 2;
SELECT revoked_reason FROM refresh_tokens WHERE session_id = {{sid}};
SELECT password_hash ~ '^\$scrypt\$ln=14,r=8,p=1\$' FROM users WHERE id = 2;}]
--- more_headers eval
["$main::J\nX-Ctl-Save: at=json:access_token rt=json:refresh_token sid=jwt:access_token.sid",
 $main::J, $main::J, "X-Ctl-Save: reset", "", $main::J, $main::J, $main::J,
 "Authorization: Bearer {{at}}", $main::J, $main::J, $main::J, $main::J, ""]
--- error_code eval
[200, 202, 202, 200, 200, 400, 422, 200, 401, 401, 401, 200, 400, 200]
--- response_body_like eval
my $accepted = '{"detail": "If the address has an account, a reset link is on its way.", "status": "accepted"}';
[qr/\A\{"access_token":/,
 main::exact($accepted),
 main::exact($accepted),
 qr/\A[A-Za-z0-9_-]{43}\n\z/,
 qr/\Apassword_reset\|bob\@example\.com\|t\|01:00:00\|t\n\z/,
 main::exact($main::BadLink),
 main::exact(main::invalid(password => 'is too short')),
 main::exact('{"status": "password_changed"}'),
 main::exact($main::SessionEnded),
 main::exact($main::BadGrant),
 main::exact($main::BadCredentials),
 qr/\A\{"access_token":"[^"]+","token_type":"Bearer","expires_in":900,"refresh_token":"[\w-]{43}","user":\{"id":2,/,
 main::exact($main::BadLink),
 qr/\Aemail\.password_reset\|\{"email": "bob\@example\.com", "user_id": 2\}\nemail\.password_changed\|\{"email": "bob\@example\.com", "user_id": 2\}\nt\npassword_change\nt\n\z/]



=== TEST 14: password change: a wrong current password is 403; a change ends every session, the one used too
--- request eval
['POST /_ctl/http/api/auth/login
{"email":"erin@example.com","password":"erin-pass-12"}',
 'POST /_ctl/http/api/auth/login
{"email":"erin@example.com","password":"erin-pass-12","session":true}',
 q{POST /_ctl/sql
SELECT password_hash FROM users WHERE id = 5;},
 'POST /_ctl/http/api/me/password
{"current_password":"erin-pass-13","new_password":"erin-new-pass-1"}',
 'POST /_ctl/http/api/me/password
{"current_password":"erin-pass-12","new_password":"short"}',
 'POST /_ctl/http/api/me/password
{"current_password":"erin-pass-12","new_password":"erin-new-pass-1"}',
 'GET /_ctl/http/api/me',
 'GET /_ctl/http/api/me',
 'POST /api/auth/login
{"email":"erin@example.com","password":"erin-pass-12"}',
 'POST /api/auth/login
{"email":"erin@example.com","password":"erin-new-pass-1"}',
 q{POST /_ctl/sql
SELECT password_hash <> '{{old_hash}}',
       password_hash ~ '^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$'
  FROM users WHERE id = 5;
SELECT count(*) FROM sessions WHERE user_id = 5 AND revoked_at IS NULL;
SELECT topic, payload FROM outbox WHERE topic = 'email.password_changed'
   AND payload->>'user_id' = '5';} . "\n"
 . main::stored_anywhere('erin-new-pass-1') . ';']
--- more_headers eval
["$main::J\nX-Ctl-Save: at=json:access_token",
 "$main::J\nX-Ctl-Save: ck=cookie:nexus_session",
 "X-Ctl-Save: old_hash",
 "$main::J\nAuthorization: Bearer {{at}}",
 "$main::J\nAuthorization: Bearer {{at}}",
 "$main::J\nAuthorization: Bearer {{at}}",
 "Authorization: Bearer {{at}}",
 "Cookie: nexus_session={{ck}}",
 $main::J, $main::J, ""]
--- error_code eval
[200, 200, 200, 403, 422, 200, 401, 401, 401, 200, 200]
--- response_body_like eval
[qr/\A\{"access_token":/, qr/\A\{"csrf_token":/, qr/\A\$scrypt\$/,
 main::exact($main::WrongPassword),
 main::exact(main::invalid(new_password => 'is too short')),
 main::exact('{"detail": "Every session is signed out; sign in with the new password.", "status": "password_changed"}'),
 main::exact($main::SessionEnded),
 main::exact($main::SessionEnded),
 main::exact($main::BadCredentials),
 qr/\A\{"access_token":"[^"]+","token_type":"Bearer","expires_in":900,"refresh_token":"[\w-]{43}","user":\{"id":5,/,
 qr/\At\|t\n1\nemail\.password_changed\|\{"email": "erin\@example\.com", "user_id": 5\}\n0\n\z/]



=== TEST 15: PATCH /api/me changes the name and phone; null clears; unknown or invalid fields are 422 and change nothing
--- request eval
['POST /_ctl/http/api/auth/login
{"email":"alice@example.com","password":"alice-pass-1"}',
 'PATCH /_ctl/http/api/me
{"name":"Alice Liddell","phone":"+1 555 0100"}',
 'PATCH /_ctl/http/api/me
{"email":"eve@example.com","name":"Eve"}',
 'PATCH /_ctl/http/api/me
{"name":"","phone":12}',
 q{POST /_ctl/sql
SELECT email, name, phone FROM users WHERE id = 1;},
 'PATCH /_ctl/http/api/me
{"phone":null}',
 'PATCH /api/me
{"name":"Nobody"}',
 q{POST /_ctl/sql
SELECT email, name, phone IS NULL FROM users WHERE id = 1;}]
--- more_headers eval
["$main::J\nX-Ctl-Save: at=json:access_token",
 ("$main::J\nAuthorization: Bearer {{at}}") x 3, "",
 "$main::J\nAuthorization: Bearer {{at}}", $main::J, ""]
--- error_code eval
[200, 200, 422, 422, 200, 200, 401, 200]
--- response_body_like eval
[qr/\A\{"access_token":/,
 main::me_re(1, 'Alice Liddell', 'alice@example.com', 'customer', phone => '"+1 555 0100"'),
 main::exact(main::invalid(email => 'is not a known field')),
 main::exact(main::invalid(name => 'must not be empty', phone => 'must be a string')),
 qr/\Aalice\@example\.com\|Alice Liddell\|\+1 555 0100\n\z/,
 main::me_re(1, 'Alice Liddell', 'alice@example.com', 'customer'),
 main::exact(main::problem(401, 'authentication_required',
     'Sign in: send an access token or the session cookie.')),
 qr/\Aalice\@example\.com\|Alice Liddell\|t\n\z/]



=== TEST 16: GET /api/me/export: the account, addresses, sessions, orders, reviews, activity; no stored secret
--- request eval
['POST /_ctl/http/api/auth/login
{"email":"alice@example.com","password":"alice-pass-1"}',
 'POST /_ctl/http/api/me/addresses
{"kind":"shipping","full_name":"Alice Liddell","line1":"1 Rabbit Hole","city":"Oxford","country":"GB"}',
 q{POST /_ctl/sql
INSERT INTO orders (user_id, email, currency, subtotal, grand_total)
VALUES (1, 'alice@example.com', 'USD', 1999, 1999);},
 'GET /_ctl/http/api/me/export']
--- more_headers eval
["$main::J\nUser-Agent: nexus-export-test\nX-Ctl-Save: at=json:access_token rt=json:refresh_token",
 "$main::J\nAuthorization: Bearer {{at}}", "",
 "Authorization: Bearer {{at}}"]
--- response_body_filters eval
sub {
    my ($b) = @_;
    return $b unless $b =~ /"exported_at"/;
    my $d = eval { JSON::PP::decode_json($b) } or return "not JSON: $b";
    my @s = @{ $d->{sessions} };
    my ($mine) = grep { ($_->{user_agent} // '') eq 'nexus-export-test' } @s;
    return CORE::join "\n",
        "keys: " . CORE::join(',', sort keys %$d),
        "user: $d->{user}{id} $d->{user}{email}",
        "addresses: " . CORE::join(',', map { "$_->{line1} $_->{city}" } @{ $d->{addresses} }),
        "sessions: " . (@s >= 2 ? 'several' : scalar @s) . ", with keys "
            . CORE::join(',', sort keys %{ $s[0] }),
        "this session: " . ($mine ? "$mine->{ip} revoked_at=" . ($mine->{revoked_at} // 'null') : 'missing'),
        "orders: " . CORE::join(',', map { ($_->{number} =~ /^NX-\d{8}\z/ ? 'NX-<number>' : $_->{number})
                                     . " $_->{grand_total} $_->{currency}" } @{ $d->{orders} }),
        "reviews: " . CORE::join(',', map { $_->{id} } @{ $d->{reviews} }),
        "secrets: " . ($b =~ /token_hash|csrf_hash|password_hash|scrypt|\\\\x[0-9a-f]{64}/
                       ? 'FOUND' : 'none'),
        '';
}
--- error_code eval
[200, 201, 200, 200]
--- response_headers eval
["", "", "", "Content-Type: application/json\nCache-Control: no-store"]
--- response_body_like eval
[qr/\A\{"access_token":/, qr/"line1": "1 Rabbit Hole"/, qr/\A\z/,
 main::exact("keys: activity,addresses,exported_at,orders,reviews,sessions,store_applications,user
user: 1 alice\@example.com
addresses: 1 Rabbit Hole Oxford
sessions: several, with keys created_at,expires_at,id,ip,last_seen_at,revoked_at,user_agent
this session: 127.0.0.1 revoked_at=null
orders: NX-<number> 1999 USD
reviews: 1,4
secrets: none
")]



=== TEST 17: DELETE /api/me: the password and the CSRF token are checked, a store owner is refused; the account is anonymized, its orders stay, every credential dies
--- request eval
['POST /_ctl/http/api/auth/login
{"email":"carol@example.com","password":"carol-pass-1"}',
 'DELETE /_ctl/http/api/me
{"password":"carol-pass-1"}',
 'POST /api/auth/register
{"email":"henry@example.com","password":"henry-pass-1","name":"Henry"}',
 'POST /_ctl/http/api/auth/login
{"email":"henry@example.com","password":"henry-pass-1"}',
 'POST /_ctl/http/api/auth/login
{"email":"henry@example.com","password":"henry-pass-1","session":true}',
 'POST /_ctl/http/api/me/addresses
{"kind":"billing","full_name":"Henry","line1":"2 Main St","city":"Springfield","country":"US","phone":"555-0101"}',
 q{POST /_ctl/sql
INSERT INTO orders (user_id, email, currency, subtotal, grand_total, billing_address)
VALUES ({{uid}}, 'henry@example.com', 'USD', 4999, 4999,
        '{"full_name": "Henry", "line1": "2 Main St"}');},
 'DELETE /_ctl/http/api/me
{"password":"henry-pass-2"}',
 'DELETE /_ctl/http/api/me
{"password":"henry-pass-1"}',
 q{POST /_ctl/sql
SELECT status, (SELECT count(*) FROM addresses WHERE user_id = {{uid}})
  FROM users WHERE id = {{uid}};},
 'DELETE /_ctl/http/api/me
{"password":"henry-pass-1"}',
 q{POST /_ctl/sql
SELECT email = 'deleted-' || id || '@anonymized.invalid', name IS NULL,
       phone IS NULL, password_hash IS NULL, status, deleted_at IS NOT NULL,
       anonymized_at IS NOT NULL
  FROM users WHERE id = {{uid}};
SELECT (SELECT count(*) FROM addresses WHERE user_id = {{uid}}),
       (SELECT count(*) FROM user_roles WHERE user_id = {{uid}}),
       (SELECT count(*) FROM user_tokens WHERE user_id = {{uid}}),
       (SELECT count(*) FROM sessions WHERE user_id = {{uid}} AND revoked_at IS NULL);
SELECT revoked_reason, count(*) FROM refresh_tokens WHERE user_id = {{uid}} GROUP BY 1;
SELECT email, grand_total, billing_address->>'line1' FROM orders WHERE user_id = {{uid}};
SELECT action, entity_id = '{{uid}}' FROM audit_log WHERE actor_user_id = {{uid}};
SELECT count(*) FROM users WHERE email = 'carol@example.com' AND status = 'active';},
 'POST /api/auth/login
{"email":"henry@example.com","password":"henry-pass-1"}',
 'GET /_ctl/http/api/me',
 'POST /_ctl/http/api/auth/refresh
{"refresh_token":"{{rt}}"}',
 # the address is free again
 'POST /api/auth/register
{"email":"henry@example.com","password":"henry-pass-1"}',
 q{POST /_ctl/sql
SELECT count(*), bool_and(id <> {{uid}}) FROM users WHERE email = 'henry@example.com';}]
--- more_headers eval
["$main::J\nX-Ctl-Save: carol=json:access_token",
 "$main::J\nAuthorization: Bearer {{carol}}",
 $main::J,
 "$main::J\nX-Ctl-Save: at=json:access_token rt=json:refresh_token uid=json:user.id",
 "$main::J\nX-Ctl-Save: ck=cookie:nexus_session csrf=json:csrf_token",
 "$main::J\nAuthorization: Bearer {{at}}",
 "",
 "$main::J\nAuthorization: Bearer {{at}}",
 "$main::J\nCookie: nexus_session={{ck}}",
 "",
 "$main::J\nCookie: nexus_session={{ck}}\nX-CSRF-Token: {{csrf}}",
 "", $main::J, "Authorization: Bearer {{at}}", $main::J, $main::J, ""]
--- error_code eval
[200, 409, 202, 200, 200, 201, 200, 403, 403, 200, 204, 200, 401, 401, 401, 202, 200]
--- response_headers eval
["", "", "", "", "", "", "", "", "", "",
 "Set-Cookie: nexus_session=; Path=/api/; Max-Age=0; HttpOnly; SameSite=Lax",
 "", "", "", "", "", ""]
--- response_body_like eval
[qr/\A\{"access_token":/,
 main::exact(main::problem(409, 'store_owner',
     'The account owns a store; close or hand over the store first.')),
 main::exact($main::Registered),
 qr/\A\{"access_token":/, qr/\A\{"csrf_token":/, qr/"line1": "2 Main St"/, qr/\A\z/,
 main::exact($main::WrongPassword),
 main::exact($main::CsrfFailed),
 qr/\Aactive\|1\n\z/,
 qr/\A\z/,
 qr/\At\|t\|t\|t\|deleted\|t\|t\n0\|0\|0\|0\nuser_deleted\|1\nhenry\@example\.com\|4999\|2 Main St\nuser\.delete\|t\n1\n\z/,
 main::exact($main::BadCredentials),
 main::exact($main::SessionEnded),
 main::exact($main::BadGrant),
 main::exact($main::Registered),
 qr/\A1\|t\n\z/]



=== TEST 18: scripts/create-admin: the operator signs in and reaches the admin routes, a customer's admin request is refused and changes nothing; a short password is refused; running it again resets the password and ends the sessions
--- request eval
["POST /_ctl/script?name=create-admin&arg=ops\@example.com\nops-password-1\n",
 "POST /_ctl/script?name=create-admin&arg=short\@example.com\nshort\n",
 q{POST /_ctl/sql
SELECT u.id > 5, string_agg(r.role, ',' ORDER BY r.role),
       u.email_verified_at IS NOT NULL,
       u.password_hash ~ '^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$'
  FROM users u JOIN user_roles r ON r.user_id = u.id
 WHERE u.email = 'ops@example.com' GROUP BY u.id;
SELECT count(*) FROM users WHERE email = 'short@example.com';
SELECT action, entity_type FROM audit_log WHERE action = 'user.create_admin';} . "\n"
 . main::stored_anywhere('ops-password-1') . ';',
 'POST /_ctl/http/api/auth/login
{"email":"ops@example.com","password":"ops-password-1"}',
 'GET /_ctl/http/api/admin/users?email=ops',
 'POST /_ctl/http/api/auth/login
{"email":"alice@example.com","password":"alice-pass-1"}',
 'GET /_ctl/http/api/admin/users',
 'PATCH /_ctl/http/api/admin/users/2
{"admin":true}',
 q{POST /_ctl/sql
SELECT count(*) FROM user_roles WHERE user_id = 2 AND role = 'admin';
SELECT count(*) FROM audit_log WHERE action = 'user.update';},
 "POST /_ctl/script?name=create-admin&arg=ops\@example.com\nops-password-2\n",
 'GET /_ctl/http/api/admin/users?email=ops',
 'POST /api/auth/login
{"email":"ops@example.com","password":"ops-password-1"}',
 'POST /api/auth/login
{"email":"ops@example.com","password":"ops-password-2"}']
--- more_headers eval
["", "", "",
 "$main::J\nX-Ctl-Save: ops=json:access_token",
 "Authorization: Bearer {{ops}}",
 "$main::J\nX-Ctl-Save: alice=json:access_token",
 "Authorization: Bearer {{alice}}",
 "$main::J\nAuthorization: Bearer {{alice}}", "",
 "", "Authorization: Bearer {{ops}}", $main::J, $main::J]
--- error_code eval
[200, 200, 200, 200, 200, 200, 403, 403, 200, 200, 401, 401, 200]
--- response_body_like eval
[qr/\Aexit: 0\ncreate-admin: ops\@example\.com is an operator \(user id \d+\)\n\z/,
 qr/\Aexit: [1-9]\d*\n.*at least 8 characters/s,
 qr/\At\|admin,customer\|t\|t\n0\nuser\.create_admin\|user\n0\n\z/,
 qr/\A\{"access_token":"[^"]+","token_type":"Bearer","expires_in":900,"refresh_token":"[\w-]{43}","user":\{"id":\d+,"name":null,"email":"ops\@example\.com",.*"roles":\["admin","customer"\]/,
 qr/\A\{"items": \[\{"id": \d+, "name": null, "email": "ops\@example\.com", .*"roles": \["admin", "customer"\].*\], "next_cursor": null\}\z/,
 qr/\A\{"access_token":/,
 main::exact(main::problem(403, 'forbidden', 'This needs a platform operator account.')),
 main::exact(main::problem(403, 'forbidden', 'This needs a platform operator account.')),
 qr/\A0\n0\n\z/,
 qr/\Aexit: 0\ncreate-admin: ops\@example\.com is an operator \(user id \d+\)\n\z/,
 main::exact($main::SessionEnded),
 main::exact($main::BadCredentials),
 qr/\A\{"access_token":/]



=== TEST 19: a burst of log-ins does not slow the catalog served by the same worker
Twelve log-ins of dave at once, each a check of his password against a
hash of cost 2^15 (about 150 ms of one core here), on a pool of 2 threads:
about a second of hashing, which the catalog requests timed meanwhile must
not wait for (each under 150 ms). bg_pending proves the log-ins were still
running when the timing ended; the sessions that they made, that they really
signed in.
--- main_config
    thread_pool nexus_password threads=2;
--- http_config
    nexus_password_thread_pool nexus_password;
    nexus_password_scrypt 32768 8 1;
--- request eval
[q{POST /_ctl/sql
SELECT count(*) FROM sessions WHERE user_id = 4;},
 # rehashes dave's password to the block's cost: every log-in below checks it
 'POST /api/auth/login
{"email":"dave@example.com","password":"dave-pass-12"}',
 'GET /api/categories',
 "GET /_ctl/time?bg_n=12&bg_method=POST&bg_path=/api/auth/login&bg_body="
     . main::esc('{"email":"dave@example.com","password":"dave-pass-12"}')
     . "&delay=0.2&n=5&gap=0.05&path=/api/categories",
 "GET /_ctl/time?n=3&gap=0.05&path=/api/products%3Flimit%3D1",
 "GET /_ctl/bg_wait?ms=1",
 q{POST /_ctl/sql
SELECT count(*) - {{n0}} FROM sessions WHERE user_id = 4;
SELECT password_hash ~ '^\$scrypt\$ln=15,r=8,p=1\$' FROM users WHERE id = 4;}]
--- more_headers eval
["X-Ctl-Save: n0", $main::J, "", "", "", "", ""]
--- response_body_like eval
[qr/\A\d+\n\z/,
 qr/\A\{"access_token":/,
 qr/\A\{"categories":/,
 # each under 150 ms, and at least 2 of the 12 still signing in afterwards
 qr/\Acodes: 200 200 200 200 200\nms: [\d ]+\nmax_ms: (?:\d|[1-9]\d|1[0-4]\d)\nbg_pending: (?:[2-9]|1[0-2])\n\z/,
 qr/\Acodes: 200 200 200\nms: [\d ]+\nmax_ms: (?:\d|[1-9]\d|1[0-4]\d)\n\z/,
 # all signed in, the longest took at least 600 ms
 qr/\A200 200 200 200 200 200 200 200 200 200 200 200\nmax_ms: (?:[6-9]\d\d|[1-9]\d{3,})\n\z/,
 qr/\A13\nt\n\z/]
--- timeout: 30
