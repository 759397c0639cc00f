# Authorization: who may call what. Every non-public route of the route
# table refuses anonymous callers (401), customers on seller and operator
# routes and store staff on operator routes (403); object-level checks keep
# one user's addresses and stores away from another (404, rows unchanged);
# store onboarding (apply, approve, reject, suspend) and operators' user
# management, with their audit rows and outbox events; roles are read on
# every request, so a revoked account or a granted role counts at once;
# 405 with Allow, 404, the session cookie's CSRF token, and the security
# headers of every answer.
#
# Users are signed in without a log-in: sessions made in SQL and access
# tokens signed by jose (Nexus::Test::access_tokens). Blocks share the
# database and run in order.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;
use JSON::PP ();

Nexus::Test::ctl_server();
Nexus::Test::reset_fixture();
END { Nexus::Test::reset_fixture() if $ENV{NEXUS_TEST_PG_PORT} }

our $Root = $ENV{NEXUS_TEST_ROOT} // '.';

# two more customers: frank (6) is disabled by an operator, gina (7) has
# her store rejected
Nexus::Test::psql(<<'_SQL_');
INSERT INTO users (id, email, name, email_verified_at) VALUES
    (6, 'frank@example.com', 'Frank', now()),
    (7, 'gina@example.com', 'Gina', now());
INSERT INTO user_roles (user_id, role) VALUES (6, 'customer'), (7, 'customer');
SELECT setval('users_id_seq', 7) \g /dev/null
_SQL_

our %Tok = Nexus::Test::access_tokens(alice => 1, bob => 2, carol => 3,
    dave => 4, erin => 5, frank => 6, gina => 7);

our ($AliceCookie, $AliceCsrf) = Nexus::Test::cookie_session(1);
our ($BobCookie, $BobCsrf) = Nexus::Test::cookie_session(2);

# ---------------------------------------------------------------- routes

# What this file expects of every route that needs a signed-in caller. A
# route added to src/ngx_http_nexus_handler.c without an entry here fails
# the check below (and is still tested for 401 by TEST 1).
our @Expected = (
    ['POST',   '/api/auth/logout',               'USER'],
    ['GET',    '/api/me',                        'USER'],
    ['PATCH',  '/api/me',                        'USER'],
    ['DELETE', '/api/me',                        'USER'],
    ['POST',   '/api/me/password',               'USER'],
    ['POST',   '/api/me/verify-email',           'USER'],
    ['GET',    '/api/me/export',                 'USER'],
    ['GET',    '/api/me/addresses',              'USER'],
    ['POST',   '/api/me/addresses',              'USER'],
    ['GET',    '/api/me/addresses/*',            'USER'],
    ['PATCH',  '/api/me/addresses/*',            'USER'],
    ['DELETE', '/api/me/addresses/*',            'USER'],
    ['POST',   '/api/stores',                    'USER'],
    ['GET',    '/api/seller/stores',             'SELLER'],
    ['GET',    '/api/seller/stores/*/staff',     'SELLER'],
    ['POST',   '/api/seller/stores/*/staff',     'SELLER'],
    ['DELETE', '/api/seller/stores/*/staff/*',   'SELLER'],
    ['GET',    '/api/admin/stores',              'ADMIN'],
    ['POST',   '/api/admin/stores/*/approve',    'ADMIN'],
    ['POST',   '/api/admin/stores/*/reject',     'ADMIN'],
    ['POST',   '/api/admin/stores/*/suspend',    'ADMIN'],
    ['GET',    '/api/admin/users',               'ADMIN'],
    ['PATCH',  '/api/admin/users/*',             'ADMIN'],
    ['GET',    '/api/admin/audit',               'ADMIN'],
    ['GET',    '/api/admin/settings',            'ADMIN'],
    ['PATCH',  '/api/admin/settings',            'ADMIN'],
    # inventory (issue 4)
    ['POST',   '/api/seller/variants/*/stock',     'SELLER'],
    ['PATCH',  '/api/seller/variants/*/inventory', 'SELLER'],
    ['PATCH',  '/api/seller/stores/*/inventory',   'SELLER'],
    ['POST',   '/api/seller/stock',                'SELLER'],
    ['GET',    '/api/seller/stock/low',            'SELLER'],
    ['GET',    '/api/seller/stock/movements',      'SELLER'],
    # catalog management (issue 4)
    ['GET',    '/api/seller/products',           'SELLER'],
    ['POST',   '/api/seller/products',           'SELLER'],
    ['GET',    '/api/seller/products/*',         'SELLER'],
    ['PATCH',  '/api/seller/products/*',         'SELLER'],
    ['POST',   '/api/seller/products/*/variants', 'SELLER'],
    ['PATCH',  '/api/seller/variants/*',         'SELLER'],
    ['GET',    '/api/admin/products',            'ADMIN'],
    ['POST',   '/api/admin/products/*/approve',  'ADMIN'],
    ['POST',   '/api/admin/products/*/reject',   'ADMIN'],
    ['POST',   '/api/admin/categories',          'ADMIN'],
    ['PATCH',  '/api/admin/categories/*',        'ADMIN'],
    ['DELETE', '/api/admin/categories/*',        'ADMIN'],
    ['POST',   '/api/admin/tags',                'ADMIN'],
    ['PATCH',  '/api/admin/tags/*',              'ADMIN'],
    ['DELETE', '/api/admin/tags/*',              'ADMIN'],
    ['POST',   '/api/admin/attributes',          'ADMIN'],
    ['PATCH',  '/api/admin/attributes/*',        'ADMIN'],
    # issue 4, media
    ['GET',    '/api/seller/products/*/media',   'SELLER'],
    ['POST',   '/api/seller/products/*/media',   'SELLER'],
    ['POST',   '/api/seller/media/*/complete',   'SELLER'],
    ['PATCH',  '/api/seller/media/*',            'SELLER'],
    ['DELETE', '/api/seller/media/*',            'SELLER'],
);

# the route table itself: R(METHOD, "path", ACCESS, ...)
our @Table;
{
    my $file = "$Root/src/ngx_http_nexus_handler.c";
    open my $fh, '<', $file or die "cannot read $file: $!\n";
    my $src = do { local $/; <$fh> };
    while ($src =~ /^\s*R\(\s*([A-Z]+)\s*,\s*"([^"]+)"\s*,\s*([A-Z]+)\s*,/mg) {
        push @Table, [$1, $2, $3];
    }
    die "no routes found in $file\n" if @Table < 20;
}

{
    my %want = map { ("$_->[0] $_->[1]" => $_->[2]) } @Expected;
    my %have = map { ("$_->[0] $_->[1]" => $_->[2]) } grep { $_->[2] ne 'PUBLIC' } @Table;
    my @diff;
    for my $k (sort keys %have) {
        push @diff, "$k is $have{$k} in the route table but "
                    . ($want{$k} // 'missing') . " here" if ($want{$k} // '') ne $have{$k};
    }
    for my $k (sort keys %want) {
        push @diff, "$k is expected here but is not a non-public route" unless $have{$k};
    }
    Test::More::is(join("\n", @diff), '',
        '051-access.t: @Expected matches every non-public route of the route table');
}

# a concrete request for a route pattern: every "*" is an id
sub main::req {
    my ($m, $path) = @_;
    my $n = 0;
    $path =~ s/\*/$n++ ? '5' : '1'/ge;
    return "$m $path";
}

our @NonPublic = grep { $_->[2] ne 'PUBLIC' } @Table;
our @SellerAdmin = grep { $_->[2] eq 'SELLER' || $_->[2] eq 'ADMIN' } @Table;
our @Admin = grep { $_->[2] eq 'ADMIN' } @Table;

# lists as one line per item, and a page's cursor: what a list holds, in
# its order (staff lists sorted by user id: their order is not the point)
sub main::page {
    my ($body) = @_;
    my $d = eval { JSON::PP::decode_json($body) };
    return $body unless ref $d eq 'HASH' && ref $d->{items} eq 'ARRAY';
    my (@out, $staff);
    for my $i (@{$d->{items}}) {
        if (exists $i->{action}) {
            push @out, "audit $i->{actor_user_id} $i->{action} "
                       . "$i->{entity_type}/$i->{entity_id}";
        } elsif (exists $i->{roles}) {
            push @out, "user $i->{id} $i->{email} $i->{status} "
                       . join(',', @{$i->{roles}});
        } elsif (exists $i->{slug}) {
            push @out, "store $i->{id} $i->{slug} $i->{status}"
                       . (defined $i->{role} ? " $i->{role}" : '');
        } elsif (exists $i->{user_id}) {
            $staff = 1;
            push @out, "staff $i->{user_id} $i->{email} $i->{role}";
        } elsif (exists $i->{full_name}) {
            push @out, "address $i->{id} $i->{kind} $i->{full_name}";
        } else {
            push @out, 'item ' . JSON::PP->new->canonical->encode($i);
        }
    }
    @out = sort { ($a =~ /(\d+)/)[0] <=> ($b =~ /(\d+)/)[0] } @out if $staff;
    return join('', map { "$_\n" } @out)
           . (exists $d->{next_cursor}
              ? 'next: ' . ($d->{next_cursor} // 'null') . "\n" : '');
}

our $Sec = "X-Content-Type-Options: nosniff\nX-Frame-Options: DENY\n"
         . "Referrer-Policy: no-referrer\n"
         . "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'";

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_' . ($block->http_config // ''));
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem sign;
    nexus_password_scrypt 1024 8 1;
_EOC_

    $block->set_value("config", <<'_EOC_') unless defined $block->config;
    location /api/ {
        nexus_api;
    }
    location /_ctl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT;
        proxy_set_header X-Nginx-Port $server_port;
    }
_EOC_

    $block->set_value("response_body_filters", \&main::page)
        unless defined $block->response_body_filters;

    Nexus::Test::expand_who($block, \%main::Tok);
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: anonymous callers get 401 on every route that needs a signed-in caller
--- request eval
[map { main::req(@$_) } @main::NonPublic]
--- error_code eval
[map { 401 } @main::NonPublic]
--- response_headers eval
[map { qq{WWW-Authenticate: Bearer realm="nexus"\nContent-Type: application/problem+json\nCache-Control: no-store\n$main::Sec} } @main::NonPublic]
--- response_body_like eval
[map { '^\{"type":"[^"]+","title":"Unauthorized","status":401,"code":"authentication_required","detail":"[^"]+"\}$' } @main::NonPublic]
--- no_error_log
[error]
[alert]



=== TEST 2: credentials that are not valid: malformed header, bad token, stale cookie, unknown session
--- request eval
["GET /api/me", "GET /api/me", "GET /api/me", "GET /api/me", "GET /api/me",
 "GET /api/me"]
--- more_headers eval
["Authorization: Basic YWxpY2U6YWxpY2UtcGFzcy0x",
 "Authorization: Bearer not.a.jwt",
 "Cookie: nexus_session=short",
 "Cookie: nexus_session=" . ('A' x 43),
 "Authorization: Bearer $main::Tok{alice}",
 "Cookie: nexus_session=$main::AliceCookie"]
--- error_code eval
[401, 401, 401, 401, 200, 200]
--- response_headers eval
['WWW-Authenticate: Bearer realm="nexus", error="invalid_token", error_description="malformed"',
 'WWW-Authenticate: Bearer realm="nexus", error="invalid_token", error_description="malformed"',
 "Set-Cookie: nexus_session=; Path=/api/; Max-Age=0; HttpOnly; SameSite=Lax",
 "Set-Cookie: nexus_session=; Path=/api/; Max-Age=0; HttpOnly; SameSite=Lax\n" . 'WWW-Authenticate: Bearer realm="nexus", error="invalid_token", error_description="revoked"',
 "Cache-Control: no-store\n!WWW-Authenticate",
 "Cache-Control: no-store\n!Set-Cookie"]
--- response_body_like eval
['"code":"invalid_token"', '"code":"invalid_token"', '"code":"invalid_session"',
 '"code":"session_ended"',
 '^\{"id": 1, .*"email": "alice@example.com"',
 '^\{"id": 1, .*"email": "alice@example.com"']
--- no_error_log
[error]
[alert]



=== TEST 3: a customer cannot reach seller or operator routes, store staff cannot reach operator routes; roles that fit do
--- request eval
[(map { '[alice] ' . main::req(@$_) } @main::SellerAdmin),
 (map { '[erin] ' . main::req(@$_) } @main::Admin),
 "[alice] GET /api/me",
 "[erin] GET /api/seller/stores",
 "[dave] GET /api/admin/users?limit=1",
 "[dave] GET /api/seller/stores",
 "POST /_ctl/sql\nSELECT count(*) FROM audit_log"]
--- error_code eval
[(map { 403 } @main::SellerAdmin, @main::Admin), 200, 200, 200, 200, 200]
--- response_body_like eval
[(map { $_->[2] eq 'ADMIN'
        ? '^\{"type":"[^"]+","title":"Forbidden","status":403,"code":"forbidden","detail":"This needs a platform operator account."\}$'
        : '^\{"type":"[^"]+","title":"Forbidden","status":403,"code":"forbidden","detail":"This needs a seller account: staff of an active store."\}$' }
  @main::SellerAdmin, @main::Admin),
 '"email": "alice@example.com"',
 '^store 1 acme active staff\n$',
 '^user 7 gina@example.com active customer\nnext: 7\n$',
 '^$', '^0\n$']
--- response_headers eval
[(map { "Cache-Control: no-store\nContent-Type: application/problem+json" } @main::SellerAdmin, @main::Admin),
 "Cache-Control: no-store", "Cache-Control: no-store", "Cache-Control: no-store",
 "Cache-Control: no-store", "!Cache-Control"]
--- no_error_log
[error]
[alert]



=== TEST 4: addresses: another user's id is not found for GET, PATCH and DELETE, and the row stays as it was; ids that are not ids are 404
--- request eval
['[alice] POST /api/me/addresses
{"kind": "shipping", "full_name": "Alice Liddell", "line1": "1 Rabbit Hole",
 "city": "Oxford", "country": "GB"}',
 '[alice] POST /api/me/addresses
{"kind": "billing", "full_name": "Alice Billing", "line1": "2 Looking Glass",
 "city": "Oxford", "country": "GB", "phone": "+44 1865 000000"}',
 '[bob] GET /api/me/addresses/1',
 '[bob] PATCH /api/me/addresses/1
{"full_name": "Mallory", "city": "Elsewhere"}',
 '[bob] PATCH /api/me/addresses/2
{"is_default": true}',
 '[bob] DELETE /api/me/addresses/1',
 '[bob] DELETE /api/me/addresses/2',
 '[bob] GET /api/me/addresses',
 '[bob] GET /api/me/export',
 '[carol] GET /api/me/addresses/2',
 '[alice] GET /api/me/addresses/abc',
 '[alice] GET /api/me/addresses/99999999999999999999',
 '[alice] GET /api/me/addresses/0',
 '[alice] GET /api/me/addresses/01',
 '[alice] GET /api/me/addresses/-1',
 '[alice] PATCH /api/me/addresses/1e0
{"city": "X"}',
 '[alice] DELETE /api/me/addresses/999999999999999999',
 '[dave] POST /api/admin/stores/abc/approve',
 '[dave] POST /api/admin/stores/99999999999999999999/suspend
{"reason": "x"}',
 '[dave] PATCH /api/admin/users/x1
{"status": "active"}',
 '[bob] GET /api/seller/stores/acme/staff',
 '[bob] DELETE /api/seller/stores/1/staff/abc',
 '[alice] GET /api/me/addresses/1',
 "POST /_ctl/sql
SELECT id, user_id, kind, is_default, full_name, city, updated_at = created_at
  FROM addresses ORDER BY id"]
--- error_code eval
[201, 201, 404, 404, 404, 404, 404, 200, 200, 404, 404, 404, 404, 404, 404,
 404, 404, 404, 404, 404, 404, 404, 200, 200]
--- response_body_like eval
['^\{"id": 1, .*"full_name": "Alice Liddell"',
 '^\{"id": 2, .*"full_name": "Alice Billing"',
 '^\{"type":"[^"]+","title":"Not Found","status":404,"code":"not_found","detail":"No such address."\}$',
 '"code":"not_found","detail":"No such address."',
 '"code":"not_found","detail":"No such address."',
 '"code":"not_found","detail":"No such address."',
 '"code":"not_found","detail":"No such address."',
 '^$',
 '^(?!.*(Rabbit|Looking Glass|Liddell)).*"addresses": \[\],',
 '"code":"not_found","detail":"No such address."',
 '"code":"not_found"', '"code":"not_found"', '"code":"not_found"',
 '"code":"not_found"', '"code":"not_found"', '"code":"not_found"',
 '"code":"not_found"',
 '"code":"not_found","detail":"No such store."',
 '"code":"not_found","detail":"No such store."',
 '"code":"not_found","detail":"No such user."',
 '"code":"not_found","detail":"No such store."',
 '"code":"not_found"',
 '^\{"id": 1, .*"city": "Oxford", .*"full_name": "Alice Liddell"',
 '^1\|1\|shipping\|t\|Alice Liddell\|Oxford\|t\n2\|1\|billing\|t\|Alice Billing\|Oxford\|t\n$']
--- no_error_log
[error]
[alert]



=== TEST 5: staff: another store's owner gets 404 and changes nothing; staff may list but not manage; the owner adds and removes staff, audited
--- request eval
['[carol] GET /api/seller/stores/1/staff',
 '[carol] POST /api/seller/stores/1/staff
{"email": "carol@example.com"}',
 '[carol] DELETE /api/seller/stores/1/staff/5',
 '[carol] GET /api/seller/stores/3/staff',
 '[carol] GET /api/seller/stores/2/staff',
 '[erin] GET /api/seller/stores/1/staff',
 '[erin] POST /api/seller/stores/1/staff
{"email": "alice@example.com"}',
 '[erin] DELETE /api/seller/stores/1/staff/5',
 "POST /_ctl/sql
SELECT vendor_id, user_id, role FROM vendor_staff ORDER BY 1, 2;
SELECT count(*) FROM audit_log",
 '[bob] POST /api/seller/stores/1/staff
{"email": "ALICE@example.com"}',
 '[bob] POST /api/seller/stores/1/staff
{"email": "alice@example.com"}',
 '[bob] POST /api/seller/stores/1/staff
{"email": "nobody@example.com"}',
 '[bob] POST /api/seller/stores/1/staff
{"email": "carol@example.com", "role": "owner"}',
 '[bob] DELETE /api/seller/stores/1/staff/2',
 '[bob] DELETE /api/seller/stores/1/staff/3',
 "POST /_ctl/sql
SELECT vendor_id, user_id, role FROM vendor_staff ORDER BY 1, 2;
SELECT actor_user_id, host(actor_ip), request_id ~ '^[0-9a-f]{32}\$', action,
       entity_type, entity_id, details
  FROM audit_log ORDER BY id",
 '[alice] GET /api/seller/stores',
 '[bob] DELETE /api/seller/stores/1/staff/1',
 '[alice] GET /api/seller/stores',
 "POST /_ctl/sql
SELECT vendor_id, user_id, role FROM vendor_staff ORDER BY 1, 2;
SELECT actor_user_id, action, entity_id, details, request_id ~ '^[0-9a-f]{32}\$'
  FROM audit_log ORDER BY id;
SELECT count(DISTINCT request_id) FROM audit_log"]
--- error_code eval
[404, 404, 404, 404, 200, 200, 403, 403, 200, 201, 409, 404, 422, 404, 404,
 200, 200, 204, 403, 200]
--- response_body_like eval
['^\{"type":"[^"]+","title":"Not Found","status":404,"code":"not_found","detail":"No such store."\}$',
 '"code":"not_found","detail":"No such store."',
 '"code":"not_found","detail":"No such store."',
 '"code":"not_found","detail":"No such store."',
 '^staff 3 carol@example.com owner\n$',
 '^staff 2 bob@example.com owner\nstaff 5 erin@example.com staff\n$',
 '"status":403,"code":"owner_only"',
 '"status":403,"code":"owner_only"',
 '^1\|2\|owner\n1\|5\|staff\n2\|3\|owner\n0\n$',
 '^staff 1 alice@example.com staff\nstaff 2 bob@example.com owner\nstaff 5 erin@example.com staff\n$',
 '"status":409,"code":"already_staff"',
 '"status":404,"code":"user_not_found"',
 '"status":422,"code":"invalid_body",.*"invalid_params":\[\{"name":"role","reason":"is not a known field"\}\]',
 '"code":"not_found","detail":"No such staff member \(the owner stays\)."',
 '"code":"not_found","detail":"No such staff member',
 '^1\|1\|staff\n1\|2\|owner\n1\|5\|staff\n2\|3\|owner\n2\|127.0.0.1\|t\|store.staff_add\|vendor\|1\|\{"user_id": 1\}\n$',
 '^store 1 acme active staff\n$',
 '^$',
 '"code":"forbidden"',
 '^1\|2\|owner\n1\|5\|staff\n2\|3\|owner\n2\|store.staff_add\|1\|\{"user_id": 1\}\|t\n2\|store.staff_remove\|1\|\{"user_id": 1\}\|t\n2\n$']
--- no_error_log
[error]
[alert]



=== TEST 6: store onboarding: validation, one pending application, slug taken; approve makes the applicant owner; reject needs a reason; suspend; only an active store makes a seller
--- request eval
['[alice] GET /api/seller/stores',
 '[alice] POST /api/stores
{"name": "Alice Crafts", "slug": "Alice Crafts", "country": "GB",
 "contact_email": "alice@example.com", "payout_method": "paypal"}',
 '[alice] POST /api/stores
{"name": "Alice Crafts", "slug": "alice-crafts", "country": "gb",
 "contact_email": "alice@example.com", "payout_method": "paypal"}',
 '[alice] POST /api/stores
{"name": "Alice Crafts", "slug": "alice-crafts", "country": "GBR",
 "contact_email": "alice@example.com", "payout_method": "paypal"}',
 '[alice] POST /api/stores
{"name": "Alice Crafts", "slug": "alice-crafts", "country": "GB",
 "contact_email": "alice@example.com", "payout_method": "cash"}',
 '[alice] POST /api/stores
{"name": "Alice Crafts", "slug": "alice-crafts", "country": "GB",
 "contact_email": "alice@example.com", "payout_method": "paypal",
 "status": "active"}',
 '[alice] POST /api/stores
{}',
 "POST /_ctl/sql
SELECT count(*) FROM vendors; SELECT count(*) FROM vendor_applications",
 '[alice] POST /api/stores
{"name": "Alice Crafts", "slug": "alice-crafts", "country": "GB",
 "contact_email": "alice@example.com", "payout_method": "paypal",
 "description": "Hand-made things.", "website": "https://alice.example.com"}',
 '[alice] POST /api/stores
{"name": "Alice Two", "slug": "alice-two", "country": "GB",
 "contact_email": "alice@example.com", "payout_method": "paypal"}',
 '[alice] GET /api/seller/stores',
 '[gina] POST /api/stores
{"name": "Gina Goods", "slug": "gina-goods", "country": "IT",
 "contact_email": "gina@example.com", "payout_method": "bank_transfer"}',
 '[frank] POST /api/stores
{"name": "Not Acme", "slug": "acme", "country": "US",
 "contact_email": "frank@example.com", "payout_method": "stripe"}',
 "POST /_ctl/sql
SELECT v.id, v.slug, v.status, a.user_id, a.status,
       (SELECT count(*) FROM vendor_staff s WHERE s.vendor_id = v.id)
  FROM vendors v LEFT JOIN vendor_applications a ON a.vendor_id = v.id
 WHERE v.id > 3 ORDER BY v.id;
SELECT count(*) FROM vendor_applications WHERE user_id = 6",
 '[dave] GET /api/admin/stores?status=pending',
 '[dave] GET /api/admin/stores?status=pending&limit=1',
 '[dave] GET /api/admin/stores?status=pending&limit=1&cursor=5',
 '[dave] GET /api/admin/stores?status=active',
 '[dave] GET /api/admin/stores?status=bogus',
 '[dave] POST /api/admin/stores/4/approve',
 '[dave] POST /api/admin/stores/4/approve',
 "POST /_ctl/sql
SELECT user_id, role FROM vendor_staff WHERE vendor_id = 4;
SELECT status, reviewed_by FROM vendor_applications WHERE vendor_id = 4;
SELECT topic, payload FROM outbox WHERE topic = 'email.store_approved';
SELECT actor_user_id, action, entity_id, details FROM audit_log
 WHERE action = 'store.approve'",
 '[alice] GET /api/seller/stores',
 '[alice] GET /api/seller/stores/4/staff',
 '[dave] POST /api/admin/stores/5/reject',
 '[dave] POST /api/admin/stores/5/reject
{"reason": ""}',
 '[dave] POST /api/admin/stores/5/reject
{"reason": "Incomplete payout details"}',
 '[dave] POST /api/admin/stores/5/reject
{"reason": "again"}',
 '[dave] POST /api/admin/stores/5/approve',
 '[gina] GET /api/seller/stores',
 "POST /_ctl/sql
SELECT v.status, a.status, a.rejection_reason, a.reviewed_by
  FROM vendors v JOIN vendor_applications a ON a.vendor_id = v.id WHERE v.id = 5;
SELECT count(*) FROM vendor_staff WHERE vendor_id = 5;
SELECT topic, payload->>'reason' FROM outbox WHERE topic = 'email.store_rejected'",
 '[dave] POST /api/admin/stores/4/reject
{"reason": "too late"}',
 '[dave] POST /api/admin/stores/4/suspend',
 '[dave] POST /api/admin/stores/4/suspend
{"reason": "Chargebacks"}',
 '[alice] GET /api/seller/stores',
 '[alice] GET /api/seller/stores/4/staff',
 '[dave] POST /api/admin/stores/4/suspend
{"reason": "again"}',
 "POST /_ctl/sql
SELECT actor_user_id, action, entity_id, details FROM audit_log
 WHERE entity_type = 'vendor' AND action NOT LIKE 'store.staff%' ORDER BY id"]
--- error_code eval
[403, 422, 422, 422, 422, 422, 422, 200, 201, 409, 403, 201, 409, 200,
 200, 200, 200, 200, 400, 200, 409, 200, 200, 200, 422, 422, 200, 409, 409,
 403, 200, 409, 422, 200, 403, 403, 409, 200]
--- response_body_like eval
['"code":"forbidden"',
 '"code":"invalid_body",.*"invalid_params":\[\{"name":"slug","reason":"must be lowercase letters, digits and single hyphens"\}\]',
 '"invalid_params":\[\{"name":"country","reason":"must be an upper-case code"\}\]',
 '"invalid_params":\[\{"name":"country","reason":"is too long"\}\]',
 '"invalid_params":\[\{"name":"payout_method","reason":"is not one of the allowed values"\}\]',
 '"invalid_params":\[\{"name":"status","reason":"is not a known field"\}\]',
 '"invalid_params":\[\{"name":"name","reason":"is required"\},\{"name":"slug","reason":"is required"\},\{"name":"country","reason":"is required"\},\{"name":"contact_email","reason":"is required"\},\{"name":"payout_method","reason":"is required"\}\]',
 '^3\n0\n$',
 '^\{"id": 4, "name": "Alice Crafts", "slug": "alice-crafts", "status": "pending", .*"application": \{"id": 1, "status": "pending", .*"applicant_id": 1, .*"approved_at": null,',
 '"status":409,"code":"application_pending"',
 '"code":"forbidden"',
 '^\{"id": 5, "name": "Gina Goods", "slug": "gina-goods", "status": "pending"',
 '"status":409,"code":"slug_taken",.*"invalid_params":\[\{"name":"slug","reason":"is taken"\}\]',
 '^4\|alice-crafts\|pending\|1\|pending\|0\n5\|gina-goods\|pending\|7\|pending\|0\n0\n$',
 '^store 5 gina-goods pending\nstore 4 alice-crafts pending\nnext: null\n$',
 '^store 5 gina-goods pending\nnext: 5\n$',
 '^store 4 alice-crafts pending\nnext: 4\n$',
 '^store 2 globex active\nstore 1 acme active\nnext: null\n$',
 '"status":400,"code":"invalid_parameter"',
 '^\{"id": 4, "name": "Alice Crafts", "slug": "alice-crafts", "status": "active", .*"application": \{"id": 1, "status": "approved", .*"approved_at": "20',
 '"status":409,"code":"invalid_state","detail":"The store is active; it cannot be approved."',
 '^1\|owner\napproved\|4\nemail.store_approved\|\{"user_id": 1, "vendor_id": 4\}\n4\|store.approve\|4\|\{"from": "pending"\}\n$',
 '^store 4 alice-crafts active owner\n$',
 '^staff 1 alice@example.com owner\n$',
 '"invalid_params":\[\{"name":"reason","reason":"is required"\}\]',
 '"invalid_params":\[\{"name":"reason","reason":"must not be empty"\}\]',
 '^\{"id": 5, "name": "Gina Goods", "slug": "gina-goods", "status": "rejected", .*"rejection_reason": "Incomplete payout details"',
 '"code":"invalid_state","detail":"The store is rejected; it cannot be rejected."',
 '"code":"invalid_state","detail":"The store is rejected; it cannot be approved."',
 '"code":"forbidden"',
 '^rejected\|rejected\|Incomplete payout details\|4\n0\nemail.store_rejected\|Incomplete payout details\n$',
 '"code":"invalid_state","detail":"The store is active; it cannot be rejected."',
 '"invalid_params":\[\{"name":"reason","reason":"is required"\}\]',
 '^\{"id": 4, "name": "Alice Crafts", "slug": "alice-crafts", "status": "suspended"',
 '"code":"forbidden"',
 '"code":"forbidden"',
 '"code":"invalid_state","detail":"The store is suspended; it cannot be suspended."',
 '^1\|store.apply\|4\|\{\}\n7\|store.apply\|5\|\{\}\n4\|store.approve\|4\|\{"from": "pending"\}\n4\|store.reject\|5\|\{"reason": "Incomplete payout details"\}\n4\|store.suspend\|4\|\{"reason": "Chargebacks"\}\n$']
--- no_error_log
[error]
[alert]



=== TEST 7: operators and users: pages and filters; a disabled account's token stops at once; an operator cannot change himself; a granted role counts on the same token; the audit log
--- request eval
['[dave] GET /api/admin/users?limit=2',
 '[dave] GET /api/admin/users?limit=2&cursor=6',
 '[dave] GET /api/admin/users?email=ALI',
 '[dave] GET /api/admin/users?email=%25',
 '[dave] GET /api/admin/users?email=_lice',
 '[dave] GET /api/admin/users?status=disabled',
 '[frank] GET /api/me',
 '[dave] PATCH /api/admin/users/6
{"status": "disabled"}',
 '[frank] GET /api/me',
 '[dave] GET /api/admin/users?status=disabled',
 "POST /_ctl/sql
SELECT count(*) FILTER (WHERE revoked_at IS NULL), count(*) FROM sessions
 WHERE user_id = 6;
SELECT actor_user_id, action, entity_type, entity_id, details, host(actor_ip)
  FROM audit_log WHERE action = 'user.update'",
 '[dave] PATCH /api/admin/users/6
{"status": "active"}',
 '[frank] GET /api/me',
 '[dave] PATCH /api/admin/users/4
{"status": "disabled"}',
 '[dave] PATCH /api/admin/users/4
{"admin": false}',
 '[dave] PATCH /api/admin/users/5
{"status": "banned"}',
 '[dave] PATCH /api/admin/users/5
{"email": "erin@evil.example"}',
 '[dave] PATCH /api/admin/users/5
{"admin": "yes"}',
 '[dave] PATCH /api/admin/users/99
{"admin": true}',
 '[erin] GET /api/admin/users?email=erin',
 '[dave] PATCH /api/admin/users/5
{"admin": true}',
 '[erin] GET /api/admin/users?email=erin',
 '[dave] PATCH /api/admin/users/5
{"admin": false}',
 '[erin] GET /api/admin/users?email=erin',
 "POST /_ctl/sql
SELECT user_id, role FROM user_roles WHERE user_id IN (4, 5, 6) ORDER BY 1, 2;
SELECT status FROM users WHERE id = 4",
 '[dave] GET /api/admin/audit?actor=4&entity_type=user',
 '[dave] GET /api/admin/audit?entity_type=vendor&actor=2',
 '[dave] GET /api/admin/audit?entity_type=vendor&entity_id=5',
 '[dave] GET /api/admin/audit?limit=1',
 '[dave] GET /api/admin/audit?actor=abc',
 '[alice] GET /api/admin/audit']
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 401, 200, 200, 200, 401, 409, 409,
 422, 422, 422, 404, 403, 200, 200, 200, 403, 200, 200, 200, 200, 200, 200,
 403]
--- response_body_like eval
['^user 7 gina@example.com active customer\nuser 6 frank@example.com active customer\nnext: 6\n$',
 '^user 5 erin@example.com active customer\nuser 4 dave@example.com active admin,customer\nnext: 4\n$',
 '^user 1 alice@example.com active customer\nnext: null\n$',
 '^next: null\n$',
 '^next: null\n$',
 '^next: null\n$',
 '"email": "frank@example.com"',
 '^\{"id": 6, .*"status": "disabled"',
 '"code":"session_ended"',
 '^user 6 frank@example.com disabled customer\nnext: null\n$',
 '^0\|1\n4\|user.update\|user\|6\|\{"status": "disabled"\}\|127.0.0.1\n$',
 '^\{"id": 6, .*"status": "active"',
 '"code":"session_ended"',
 '"status":409,"code":"own_account"',
 '"status":409,"code":"own_account"',
 '"invalid_params":\[\{"name":"status","reason":"is not one of the allowed values"\}\]',
 '"invalid_params":\[\{"name":"email","reason":"is not a known field"\}\]',
 '"invalid_params":\[\{"name":"admin","reason":"must be true or false"\}\]',
 '"code":"not_found","detail":"No such user."',
 '"code":"forbidden"',
 '^\{"id": 5, .*"roles": \["admin", "customer"\]',
 '^user 5 erin@example.com active admin,customer\nnext: null\n$',
 '^\{"id": 5, .*"roles": \["customer"\]',
 '"code":"forbidden"',
 '^4\|admin\n4\|customer\n5\|customer\n6\|customer\nactive\n$',
 '^audit 4 user.update user/5\naudit 4 user.update user/5\naudit 4 user.update user/6\naudit 4 user.update user/6\nnext: null\n$',
 '^audit 2 store.staff_remove vendor/1\naudit 2 store.staff_add vendor/1\nnext: null\n$',
 '^audit 4 store.reject vendor/5\naudit 7 store.apply vendor/5\nnext: null\n$',
 '^audit 4 user.update user/5\nnext: [1-9][0-9]*\n$',
 '^next: null\n$',
 '"code":"forbidden"']
--- no_error_log
[error]
[alert]



=== TEST 8: 405 names the methods a path has; unknown paths are 404 problems, before any authentication
--- request eval
["PUT /api/me", "POST /api/products", "PATCH /api/me/addresses",
 "GET /api/seller/stores/1/staff/5", "PUT /api/admin/users/5",
 "GET /api/admin/stores/1/approve", "GET /api/nope",
 "GET /api/me/addresses/1/extra", "GET /api/_debug/sleep", "GET /api/me/"]
--- error_code eval
[405, 405, 405, 405, 405, 405, 404, 404, 404, 401]
--- response_headers eval
["Allow: GET, HEAD, PATCH, DELETE\nContent-Type: application/problem+json\n$main::Sec",
 "Allow: GET, HEAD\nContent-Type: application/problem+json",
 "Allow: GET, HEAD, POST",
 "Allow: DELETE",
 "Allow: PATCH",
 "Allow: POST",
 "!Allow\nContent-Type: application/problem+json\n$main::Sec",
 "!Allow\nContent-Type: application/problem+json",
 "!Allow\nContent-Type: application/problem+json",
 "!Allow"]
--- response_body_like eval
[(map { '^\{"type":"[^"]+","title":"Method Not Allowed","status":405,"code":"method_not_allowed","detail":"[^"]+"\}$' } 1 .. 6),
 (map { '^\{"type":"[^"]+","title":"Not Found","status":404,"code":"not_found","detail":"No such resource."\}$' } 1 .. 3),
 '"code":"authentication_required"']
--- no_error_log
[error]
[alert]



=== TEST 9: security headers on every answer; Cache-Control: no-store on answers about an account and on sign-in, never on the public catalog
--- request eval
["GET /api/products?limit=1", "GET /api/categories", "GET /api/vendors/acme",
 "[alice] GET /api/me",
 "[alice] GET /api/me/addresses/1",
 '[-] POST /api/auth/login
{"email": "nobody@example.com", "password": "wrong-password"}',
 '[-] POST /api/auth/login
{"email": "nobody@example.com"}',
 "GET /api/me", "GET /api/nope"]
--- error_code eval
[200, 200, 200, 200, 200, 401, 422, 401, 404]
--- response_headers eval
["$main::Sec\n!Cache-Control\nContent-Type: application/json",
 "$main::Sec\n!Cache-Control",
 "$main::Sec\n!Cache-Control",
 "$main::Sec\nCache-Control: no-store",
 "$main::Sec\nCache-Control: no-store",
 "$main::Sec\nCache-Control: no-store",
 "$main::Sec\nCache-Control: no-store",
 "$main::Sec\nCache-Control: no-store",
 "$main::Sec\n!Cache-Control"]
--- response_body_filters eval
sub { $_[0] }
--- response_body_like eval
['"items"', '"slug"', '"slug" ?: ?"acme"', '"email": "alice@example.com"',
 '"full_name": "Alice Liddell"', '"code":"invalid_credentials"',
 '"code":"invalid_body"', '"code":"authentication_required"',
 '"code":"not_found"']
--- no_error_log
[error]
[alert]



=== TEST 10: the session cookie: reads need only the cookie; writes need the session's own CSRF token
--- request eval
["GET /api/me",
 "PATCH /api/me\n{\"name\": \"Alice C\"}",
 "PATCH /api/me\n{\"name\": \"Alice C\"}",
 "PATCH /api/me\n{\"name\": \"Alice C\"}",
 "POST /_ctl/sql\nSELECT name FROM users WHERE id = 1",
 "PATCH /api/me\n{\"name\": \"Alice C\"}",
 "POST /_ctl/sql\nSELECT name FROM users WHERE id = 1"]
--- more_headers eval
["Cookie: nexus_session=$main::AliceCookie",
 "Cookie: nexus_session=$main::AliceCookie\nContent-Type: application/json",
 "Cookie: nexus_session=$main::AliceCookie\nContent-Type: application/json\nX-CSRF-Token: " . ('A' x 43),
 "Cookie: nexus_session=$main::AliceCookie\nContent-Type: application/json\nX-CSRF-Token: $main::BobCsrf",
 "",
 "Cookie: nexus_session=$main::AliceCookie\nContent-Type: application/json\nX-CSRF-Token: $main::AliceCsrf",
 ""]
--- error_code eval
[200, 403, 403, 403, 200, 200, 200]
--- response_body_like eval
['"name": "Alice"', '"code":"csrf_failed"', '"code":"csrf_failed"',
 '"code":"csrf_failed"', "^Alice\n\$", '"name": "Alice C"', "^Alice C\n\$"]
--- response_headers eval
["Cache-Control: no-store", "Cache-Control: no-store", "", "", "",
 "Cache-Control: no-store", ""]
--- no_error_log
[error]
[alert]



=== TEST 11: a refused caller's request never reaches its endpoint: no unknown session, forbidden role or revoked token changes anything
--- request eval
["PATCH /api/admin/users/5\n{\"admin\": true}",
 "PATCH /api/admin/users/5\n{\"admin\": true}",
 "POST /api/admin/stores/3/approve",
 "POST /api/seller/stores/1/staff\n{\"email\": \"alice\@example.com\"}",
 "PATCH /api/me\n{\"name\": \"Revoked\"}",
 "POST /_ctl/sql
SELECT string_agg(role, ',' ORDER BY role) FROM user_roles WHERE user_id = 5;
SELECT status FROM vendors WHERE id = 3;
SELECT count(*) FROM vendor_staff WHERE user_id = 1 AND vendor_id = 1;
SELECT name FROM users WHERE id = 6"]
--- more_headers eval
["Cookie: nexus_session=" . ('B' x 43) . "\nContent-Type: application/json",
 "Authorization: Bearer $main::Tok{alice}\nContent-Type: application/json",
 "Authorization: Bearer $main::Tok{erin}",
 "Authorization: Bearer $main::Tok{alice}\nContent-Type: application/json",
 "Authorization: Bearer $main::Tok{frank}\nContent-Type: application/json",
 ""]
--- error_code eval
[401, 403, 403, 403, 401, 200]
--- response_body_like eval
['"code":"session_ended"', '"code":"forbidden"', '"code":"forbidden"',
 '"code":"forbidden"', '"code":"session_ended"',
 "^customer\nsuspended\n0\nFrank\n\$"]
--- no_error_log
[error]
[alert]
