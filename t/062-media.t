# Product media: presigned S3 uploads and the gallery.
#
# The module's presigned URLs are compared byte for byte with the AWS SDK
# for JavaScript v3 (getSignedUrl of @aws-sdk/s3-request-presigner, run by
# t/js/s3.mjs) for the same bucket, region, endpoint, key, credentials,
# date and expiry, through the debug endpoint that takes a fixed date. Then
# a real upload: the URL from POST /api/seller/products/{id}/media is used
# to PUT an object into the npm s3rver on a loopback port, the upload is
# completed, the object is read back with the SDK, and the product document
# (served from the Redis cache) shows it. s3rver 3.7.1 checks a presigned
# URL's key id and expiry but not its V4 signature, so t/js/s3.mjs checks
# the signature with the SDK in front of it (see there); tampered and
# expired URLs are refused. Then object-level checks (another store's
# product or media: 404), validation (422) and gallery order. Completing an
# upload asks the bucket first (a HEAD signed in its Authorization header,
# which t/js/s3.mjs checks with the SDK's SignatureV4 too): a missing object
# (409, the upload stays pending), a wrong type or size (422), a wrong
# signature, a closed port, a silent server and an untrusted certificate
# (502, nothing recorded), https with SNI, and a client hanging up while
# the HEAD waits.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;
use JSON::PP ();
use File::Temp ();
use POSIX ();

Nexus::Test::ctl_server();
Nexus::Test::reset_fixture();

our $Root = $ENV{NEXUS_TEST_ROOT} // '.';

our %Tok = Nexus::Test::access_tokens(alice => 1, bob => 2, carol => 3,
    erin => 5);

# credentials in files, as an operator gives them (never inline)
our $Keys = File::Temp::tempdir(CLEANUP => 1);
sub main::write_file {
    my ($name, $text) = @_;
    open my $fh, '>', "$Keys/$name" or die "$Keys/$name: $!\n";
    print $fh $text;
    close $fh;
}
main::write_file('example.id', "AKIDEXAMPLE\n");
main::write_file('example.secret', "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n");
main::write_file('other.id', 'AKIAIOSFODNN7EXAMPLE');
main::write_file('other.secret', 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY');
main::write_file('s3rver.id', "S3RVER\n");
main::write_file('s3rver.secret', "S3RVER\n");
main::write_file('wrong.secret', "NOT-S3RVER\n");
$ENV{TEST_NGINX_S3_KEYS} = $Keys;
# read by nginx while it loads its configuration (TEST 2: env:NAME)
$ENV{NEXUS_TEST_S3_ACCESS_KEY} = 'AKIAIOSFODNN7EXAMPLE';

# s3rver: next to the control server's port (each worktree has its own)
our $S3Port = ($ENV{TEST_NGINX_CTL_PORT} // 19920) + 5;
$ENV{TEST_NGINX_S3_PORT} = $S3Port;

# a child of its own (not a piped open: closing that at exit would wait
# for the server); it also stops by itself when this process is gone
our $S3Pid = fork() // die "fork: $!\n";
if ($S3Pid == 0) {
    open STDOUT, '>', '/dev/null';
    { exec 'node', "$Root/t/js/s3.mjs", 'server', "port=$S3Port",
           "dir=$Keys/objects", 'bucket=media', "parent=" . getppid(); }
    POSIX::_exit(127);
}
END { kill 'TERM', $S3Pid if $S3Pid && $$ != $S3Pid }
{
    require IO::Socket::INET;
    my $up;
    for (1 .. 100) {
        $up = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$S3Port",
                                    Timeout => 1) and last;
        select(undef, undef, undef, 0.05);
    }
    die "t/js/s3.mjs server did not start on port $S3Port\n" unless $up;
}
END { Nexus::Test::reset_fixture() if $ENV{NEXUS_TEST_PG_PORT} }

# object storage that is not there: a closed port, and a server that
# accepts connections but never answers (the kernel's backlog)
{
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "listen: $!\n";
    $ENV{TEST_NGINX_S3_CLOSED_PORT} = $s->sockport;
    close $s;
}
our $Silent = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
                                    LocalPort => 0, ReuseAddr => 1)
    or die "listen: $!\n";
$ENV{TEST_NGINX_S3_SILENT_PORT} = $Silent->sockport;

# https: nginx itself in front of s3rver, with a certificate of its own
$ENV{TEST_NGINX_S3_TLS_PORT} = $S3Port + 1;
# (openssl req prints a line of dashes on stderr: kept out of prove's output)
system('sh', '-c', 'exec openssl "$@" 2>/dev/null', 'sh', 'req', '-x509',
       '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
       '-days', '2', '-subj', '/CN=localhost', '-addext',
       'subjectAltName=DNS:localhost,IP:127.0.0.1',
       '-keyout', "$Keys/tls.key", '-out', "$Keys/tls.crt") == 0
    or die "openssl req failed\n";

# ------------------------------------------ the SDK's URLs for TEST 1, 2

our @Keys = ('products/1/0123456789abcdef0123456789abcdef.jpg',
             'products/12/caf' . "\x{e9}" . ' cr' . "\x{e8}" . 'me+tee~v1.png',
             "a/b//c/!'()*&=?#%.webp",
             'x');
our @Dates = ('20261126T000000Z', '20260229T235959Z', '20301231T120000Z',
              '20261126T000000Z');
our @Expires = (900, 60, 604800, 1);

sub main::case {
    my ($i, %c) = @_;
    return { %c, key => $Keys[$i], date => $Dates[$i],
             expires => $Expires[$i] + 0 };
}

our @Cases1 = map { main::case($_, bucket => 'media', region => 'us-east-1',
    endpoint => "http://127.0.0.1:$S3Port", access_key => 'AKIDEXAMPLE',
    secret_key => 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY') } 0 .. $#Keys;
our @Cases2 = map { main::case($_, bucket => 'shop-images-2', region => 'eu-west-3',
    access_key => 'AKIAIOSFODNN7EXAMPLE',
    secret_key => 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY') } 0 .. $#Keys;

sub main::sdk_urls {
    my @cases = @_;
    my $json = JSON::PP->new->utf8->encode(\@cases);
    open(my $fh, '-|', 'node', "$Root/t/js/s3.mjs", 'presign', $json)
        or die "cannot run node: $!\n";
    my @urls = map { chomp; $_ } <$fh>;
    close $fh or die "t/js/s3.mjs presign failed (exit $?)\n";
    die "t/js/s3.mjs presign: wrong number of URLs\n" unless @urls == @cases;
    return @urls;
}

our @Sdk1 = main::sdk_urls(@Cases1);
our @Sdk2 = main::sdk_urls(@Cases2);

sub main::uri_escape {
    my ($s) = @_;
    utf8::encode($s);
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub main::presign_req {
    my ($c) = @_;
    return 'GET /api/_debug/s3/presign?key=' . main::uri_escape($c->{key})
           . "&date=$c->{date}&expires=$c->{expires}";
}

# a pending upload made in SQL (its object never uploaded)
sub main::pending {
    my ($id) = @_;
    Nexus::Test::psql("INSERT INTO media_uploads (id, product_id, object_key, url,"
        . " content_type, byte_size, expires_at) VALUES ($id, 1,"
        . " 'products/1/pending-$id.png', 'http://127.0.0.1/pending-$id.png',"
        . " 'image/png', 9, now() + interval '1 hour')");
}

# --------------------------------------------------------- body filters

# a completion as one line: "status code: reason" or "status size= type="
sub main::verify {
    my ($body) = @_;
    my $d = eval { JSON::PP::decode_json($body) };
    return $body unless ref $d eq 'HASH';
    return "$d->{status} $d->{code}"
           . (defined $d->{reason} ? ": $d->{reason}" : '') . "\n"
        if exists $d->{code};
    return "$d->{status} size=$d->{size} type=$d->{content_type}\n"
        if exists $d->{size};
    return $body;
}

# a JSON answer as stable lines: media as "id status position primary url"
sub main::media {
    my ($body) = @_;
    my $d = eval { JSON::PP::decode_json($body) };
    return $body unless ref $d eq 'HASH';
    my $line = sub {
        my ($m) = @_;
        return "$m->{id} $m->{status} " . ($m->{position} // '-') . ' '
               . ($m->{is_primary} ? 'primary' : '-') . " $m->{url}\n";
    };
    if (ref $d->{items} eq 'ARRAY') {
        return join('', map { $line->($_) } @{$d->{items}}, @{$d->{pending}});
    }
    if (ref $d->{media} eq 'ARRAY') {       # a product document
        return join('', map { "doc $_->{url}"
                              . ($_->{is_primary} ? ' primary' : '') . "\n" }
                        @{$d->{media}});
    }
    if (exists $d->{status} && exists $d->{url}) {
        my $out = $line->($d);
        if ($d->{upload}) {
            my $u = $d->{upload};
            $out .= "upload $u->{method} "
                    . join(',', map { "$_=$u->{headers}{$_}" }
                                sort keys %{$u->{headers}}) . "\n";
            $out .= "url $u->{url}\n";
            $out .= "expires_at $u->{expires_at}\n";
            $out .= "media_id $d->{media_id}\n";
        }
        return $out;
    }
    if (exists $d->{code}) {
        return "$d->{status} $d->{code}"
               . join('', map { " $_->{name}: $_->{reason}" }
                          @{$d->{invalid_params} || []}) . "\n";
    }
    return $body;
}

our $J = 'Content-Type: application/json';

sub main::as {
    my ($who, @more) = @_;
    return join "\n", ($who ? ("Authorization: Bearer $Tok{$who}") : ()),
                      $J, @more;
}

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
        nexus_debug_endpoints on;
    }
    location /_s3/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_S3_PORT/_t/;
    }
    location /_ctl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT;
        proxy_set_header X-Nginx-Port $server_port;
    }
_EOC_

    $block->set_value("response_body_filters", \&main::media)
        unless defined $block->response_body_filters
               || defined $block->must_die;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: presigned URLs equal the AWS SDK's byte for byte: custom endpoint, path style
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint http://127.0.0.1:$TEST_NGINX_S3_PORT;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/example.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/example.secret;
--- request eval
[map { main::presign_req($_) } @main::Cases1]
--- response_body_filters eval
sub { my $d = JSON::PP::decode_json($_[0]); "$d->{url}\n" }
--- response_body eval
[map { "$_\n" } @main::Sdk1]
--- error_code eval
[map { 200 } @main::Cases1]
--- no_error_log
[error]



=== TEST 2: the same on AWS itself (no endpoint): virtual-host style, another region and key pair (the access key from the environment)
--- http_config
    nexus_s3_bucket shop-images-2;
    nexus_s3_region eu-west-3;
    nexus_s3_access_key env:NEXUS_TEST_S3_ACCESS_KEY;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/other.secret;
--- request eval
[map { main::presign_req($_) } @main::Cases2]
--- response_body_filters eval
sub { my $d = JSON::PP::decode_json($_[0]); "$d->{url}\n" }
--- response_body eval
[map { "$_\n" } @main::Sdk2]
--- error_code eval
[map { 200 } @main::Cases2]
--- no_error_log
[error]



=== TEST 3: upload through the module's URL into s3rver, complete, the cached product page shows it; tampered and expired URLs are refused
--- init
Nexus::Test::redis_flush();
--- http_config
    nexus_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint http://127.0.0.1:$TEST_NGINX_S3_PORT;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
    nexus_s3_upload_ttl 10m;
    nexus_s3_max_upload_size 1m;
--- config
    location /api/ {
        nexus_api;
        nexus_cache on;
        nexus_cache_ttl 60s;
        nexus_debug_endpoints on;
    }
    location /_s3/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_S3_PORT/_t/;
    }
    location /_ctl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT;
        proxy_set_header X-Nginx-Port $server_port;
    }
--- request eval
["GET /_ctl/http/api/products/classic-tee",
 "POST /_ctl/http/api/seller/products/1/media\n{\"content_type\":\"image/png\",\"filename\":\"back.png\",\"size\":9,\"alt\":\"Back\"}",
 "GET /_ctl/http/api/seller/products/1/media",
 "GET /_ctl/http/api/products/classic-tee",
 "POST /_ctl/http/_s3/put\n{\"url\":\"{{url}}\",\"ctype\":\"image/png\",\"data\":\"PNG-BYTES\",\"tamper\":\"signature\"}",
 "POST /_ctl/http/_s3/put\n{\"url\":\"{{url}}\",\"ctype\":\"image/png\",\"data\":\"PNG-BYTES\",\"tamper\":\"key\"}",
 "POST /_ctl/http/_s3/put\n{\"url\":\"{{url}}\",\"ctype\":\"image/png\",\"data\":\"PNG-BYTES\",\"tamper\":\"expires\"}",
 "GET /_ctl/http/_s3/get?key={{key}}",
 "POST /_ctl/http/_s3/put\n{\"url\":\"{{url}}\",\"ctype\":\"image/png\",\"data\":\"PNG-BYTES\"}",
 "GET /_ctl/http/_s3/get?key={{key}}",
 "POST /_ctl/http/api/seller/media/{{id}}/complete\n{}",
 "POST /_ctl/http/api/seller/media/{{id}}/complete\n{}",
 "GET /_ctl/sleep?s=0.2",
 "GET /_ctl/http/api/products/classic-tee",
 "PATCH /_ctl/http/api/seller/media/{{id}}\n{\"is_primary\":true,\"alt\":\"Back view\"}",
 "GET /_ctl/sleep?s=0.2",
 "GET /_ctl/http/api/products/classic-tee",
 "GET /_ctl/http/api/_debug/s3/presign?key=products/1/old.png&date=20200101T000000Z&expires=60",
 "POST /_ctl/http/_s3/put\n{\"url\":\"{{old}}\",\"ctype\":\"image/png\",\"data\":\"OLD\"}",
 "DELETE /_ctl/http/api/seller/media/{{id}}",
 "GET /_ctl/sleep?s=0.2",
 "GET /_ctl/http/api/products/classic-tee",
 "POST /_ctl/sql\nSELECT topic, payload->>'key' = '{{key}}', payload->>'product_id' FROM outbox WHERE topic = 'media.deleted'"]
--- more_headers eval
["",
 main::as('bob', 'X-Ctl-Save: id=json:media_id url=json:upload.url key=json:key'),
 main::as('erin'),
 "", $main::J, $main::J, $main::J, "", $main::J, "",
 main::as('erin'), main::as('bob'), "", "",
 main::as('bob'), "", "",
 'X-Ctl-Save: old=json:url', $main::J,
 main::as('bob'), "", "", ""]
--- response_body eval
["doc https://images.example.com/products/classic-tee-1.jpg
doc https://images.example.com/products/classic-tee-2.jpg primary
",
 qr{^\d+ pending - - http://127\.0\.0\.1:$main::S3Port/media/products/1/[0-9a-f]{32}\.png
upload PUT Content-Type=image/png
url http://127\.0\.0\.1:$main::S3Port/media/products/1/[0-9a-f]{32}\.png\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=S3RVER%2F\d{8}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=\d{8}T\d{6}Z&X-Amz-Expires=600&X-Amz-Signature=[0-9a-f]{64}&X-Amz-SignedHeaders=host&x-id=PutObject
expires_at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ
media_id \d+
$},
 qr{^1 ready 0 - https://images.example.com/products/classic-tee-1.jpg
2 ready 1 primary https://images.example.com/products/classic-tee-2.jpg
\d+ pending - - http://127.0.0.1:$main::S3Port/media/products/1/[0-9a-f]{32}\.png
$},
 "doc https://images.example.com/products/classic-tee-1.jpg
doc https://images.example.com/products/classic-tee-2.jpg primary
",
 "status: 403\ncode: SignatureDoesNotMatch\n",
 "status: 403\ncode: SignatureDoesNotMatch\n",
 "status: 403\ncode: SignatureDoesNotMatch\n",
 "error: NoSuchKey\n",
 "status: 200\n",
 "type: image/png\nbody: PNG-BYTES\n",
 qr{^\d+ ready 2 - http://127.0.0.1:$main::S3Port/media/products/1/[0-9a-f]{32}\.png\n$},
 qr{^\d+ ready 2 - http://127.0.0.1:$main::S3Port/media/products/1/[0-9a-f]{32}\.png\n$},
 "ok\n",
 qr{^doc https://images.example.com/products/classic-tee-2.jpg primary
doc https://images.example.com/products/classic-tee-1.jpg
doc http://127.0.0.1:$main::S3Port/media/products/1/[0-9a-f]{32}\.png
$},
 qr{^\d+ ready 0 primary http://127.0.0.1:$main::S3Port/media/products/1/[0-9a-f]{32}\.png\n$},
 "ok\n",
 qr{^doc http://127.0.0.1:$main::S3Port/media/products/1/[0-9a-f]{32}\.png primary
doc https://images.example.com/products/classic-tee-2.jpg
doc https://images.example.com/products/classic-tee-1.jpg
$},
 qr{^\{"url":"http://127.0.0.1:$main::S3Port/media/products/1/old.png\?.*X-Amz-Date=20200101T000000Z&X-Amz-Expires=60&.*\}$},
 "status: 403\ncode: AccessDenied\n",
 "",
 "ok\n",
 "doc https://images.example.com/products/classic-tee-2.jpg primary
doc https://images.example.com/products/classic-tee-1.jpg
",
 "media.deleted|t|1\n"]
--- error_code eval
[200, 201, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,
 200, 200, 200, 204, 200, 200, 200]
--- no_error_log
[error]



=== TEST 4: another store's product or media answers 404 and changes nothing; customers get 403
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint http://127.0.0.1:$TEST_NGINX_S3_PORT;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
--- request eval
["POST /api/seller/products/1/media\n{\"content_type\":\"image/png\",\"size\":9}",
 "GET /api/seller/products/1/media",
 "POST /api/seller/media/1/complete\n{}",
 "PATCH /api/seller/media/1\n{\"position\":0,\"is_primary\":true}",
 "DELETE /api/seller/media/2",
 "POST /api/seller/products/3/media\n{\"content_type\":\"image/png\",\"size\":9}",
 "POST /api/seller/products/999999/media\n{\"content_type\":\"image/png\",\"size\":9}",
 "POST /api/seller/products/x/media\n{\"content_type\":\"image/png\",\"size\":9}",
 "DELETE /api/seller/media/999999",
 "POST /api/seller/products/1/media\n{\"content_type\":\"image/png\",\"size\":9}",
 "POST /_ctl/sql\nSELECT count(*) FROM media_uploads; SELECT id, position, is_primary FROM product_media WHERE product_id = 1 ORDER BY id"]
--- more_headers eval
[main::as('carol'), main::as('carol'), main::as('carol'), main::as('carol'),
 main::as('carol'), main::as('bob'), main::as('bob'), main::as('bob'),
 main::as('bob'), main::as('alice'), ""]
--- response_body eval
["404 not_found\n", "404 not_found\n", "404 not_found\n", "404 not_found\n",
 "404 not_found\n", "404 not_found\n", "404 not_found\n", "404 not_found\n",
 "404 not_found\n", "403 forbidden\n",
 "0\n1|1|f\n2|0|t\n"]
--- error_code eval
[404, 404, 404, 404, 404, 404, 404, 404, 404, 403, 200]
--- no_error_log
[error]



=== TEST 5: validation: content type, size (nexus_s3_max_upload_size), types, every problem at once; pending media moves only after completion
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint http://127.0.0.1:$TEST_NGINX_S3_PORT;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
    nexus_s3_max_upload_size 1k;
--- request eval
["POST /_ctl/http/api/seller/products/2/media\n{\"content_type\":\"image/svg+xml\",\"size\":9}",
 "POST /_ctl/http/api/seller/products/2/media\n{\"content_type\":\"image/png\",\"size\":1025}",
 "POST /_ctl/http/api/seller/products/2/media\n{\"content_type\":\"image/png\",\"size\":0}",
 "POST /_ctl/http/api/seller/products/2/media\n{\"size\":\"9\",\"alt\":7}",
 "POST /_ctl/http/api/seller/products/2/media\n{\"content_type\":\"image/jpeg\",\"size\":1024}",
 "PATCH /_ctl/http/api/seller/media/{{pid}}\n{\"position\":0}",
 "PATCH /_ctl/http/api/seller/media/{{pid}}\n{\"alt\":\"Front\"}",
 "PATCH /_ctl/http/api/seller/media/3\n{\"position\":-1}",
 "DELETE /_ctl/http/api/seller/media/{{pid}}",
 "POST /_ctl/http/api/seller/media/{{pid}}/complete\n{}",
 "POST /_ctl/sql\nSELECT count(*) FROM media_uploads; SELECT topic, payload->>'product_id' FROM outbox WHERE topic = 'media.deleted' AND payload->>'product_id' = '2'"]
--- more_headers eval
[main::as('erin'), main::as('erin'), main::as('erin'), main::as('erin'),
 main::as('erin', 'X-Ctl-Save: pid=json:media_id'),
 main::as('erin'), main::as('erin'), main::as('erin'), main::as('erin'),
 main::as('erin'), ""]
--- response_body eval
["422 invalid_body content_type: is not one of the allowed values\n",
 "422 invalid_body size: must be at most 1024 bytes\n",
 "422 invalid_body size: is out of range\n",
 qr{^422 invalid_body( \w+: [^\n]+){3}\n$},
 qr{^\d+ pending - - http://127.0.0.1:\d+/media/products/2/[0-9a-f]{32}\.jpg\n},
 "409 media_pending\n",
 qr{^\d+ pending - - http://127.0.0.1:\d+/media/products/2/[0-9a-f]{32}\.jpg\n$},
 "422 invalid_body position: is out of range\n",
 "",
 "404 not_found\n",
 "0\nmedia.deleted|2\n"]
--- error_code eval
[422, 422, 422, 422, 201, 409, 200, 422, 204, 404, 200]
--- no_error_log
[error]



=== TEST 6: gallery order: positions stay 0..n-1, one primary, always first; deleting the primary promotes the next
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
--- request eval
["POST /_ctl/sql\nINSERT INTO product_media (id, product_id, url, position) VALUES (101, 4, 'https://img.example.com/a.jpg', 1), (102, 4, 'https://img.example.com/b.jpg', 2)",
 "PATCH /api/seller/media/102\n{\"position\":1}",
 "GET /api/seller/products/4/media",
 "PATCH /api/seller/media/101\n{\"position\":0}",
 "PATCH /api/seller/media/101\n{\"is_primary\":true}",
 "GET /api/seller/products/4/media",
 "DELETE /api/seller/media/101",
 "GET /api/seller/products/4/media",
 "GET /api/products/running-shoe"]
--- more_headers eval
["", map { main::as('bob') } 1 .. 8]
--- response_body eval
["",
 "102 ready 1 - https://img.example.com/b.jpg\n",
 "5 ready 0 primary https://images.example.com/products/running-shoe-1.jpg
102 ready 1 - https://img.example.com/b.jpg
101 ready 2 - https://img.example.com/a.jpg
",
 "101 ready 1 - https://img.example.com/a.jpg\n",
 "101 ready 0 primary https://img.example.com/a.jpg\n",
 "101 ready 0 primary https://img.example.com/a.jpg
5 ready 1 - https://images.example.com/products/running-shoe-1.jpg
102 ready 2 - https://img.example.com/b.jpg
",
 "",
 "5 ready 0 primary https://images.example.com/products/running-shoe-1.jpg
102 ready 1 - https://img.example.com/b.jpg
",
 "doc https://images.example.com/products/running-shoe-1.jpg primary
doc https://img.example.com/b.jpg
"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 204, 200, 200]
--- no_error_log
[error]



=== TEST 7: without object storage configured, uploads answer 503
--- request eval
["POST /api/seller/products/1/media\n{\"content_type\":\"image/png\",\"size\":9}",
 "GET /api/_debug/s3/presign?key=a"]
--- more_headers eval
[main::as('bob'), ""]
--- response_body eval
["503 media_unconfigured\n", "503 media_unconfigured\n"]
--- error_code eval
[503, 503]



=== TEST 8: the debug endpoint checks its parameters
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
--- request eval
["GET /api/_debug/s3/presign",
 "GET /api/_debug/s3/presign?key=a&date=2026-11-26",
 "GET /api/_debug/s3/presign?key=a&expires=604801"]
--- response_body_filters eval
sub { my $d = JSON::PP::decode_json($_[0]); "$d->{status} $d->{code}\n" }
--- response_body eval
["400 invalid_parameter\n", "400 invalid_parameter\n", "400 invalid_parameter\n"]
--- error_code eval
[400, 400, 400]



=== TEST 9: a secret given inline is refused at load
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key hunter2;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
never the secret itself



=== TEST 10: incomplete storage settings are refused at load
--- http_config
    nexus_s3_bucket media;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
media storage needs "nexus_s3_bucket", "nexus_s3_region"



=== TEST 11: a bad bucket name is refused at load
--- http_config
    nexus_s3_bucket My_Bucket;
    nexus_s3_region us-east-1;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
invalid S3 bucket name "My_Bucket"



=== TEST 12: an endpoint with a path is refused at load
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint http://127.0.0.1:9000/s3;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_s3_endpoint" must be http(s)://host[:port] without a path



=== TEST 13: an upload TTL out of range is refused at load
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
    nexus_s3_upload_ttl 10s;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
must be a time between 1m and 7d



=== TEST 14: a maximum upload size out of range is refused at load
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
    nexus_s3_max_upload_size 6g;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
must be a size between 1 and 5g



=== TEST 15: complete asks S3 first: not uploaded yet 409 (still pending), wrong type or too big 422, then the real size
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint http://127.0.0.1:$TEST_NGINX_S3_PORT;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
    nexus_s3_max_upload_size 1k;
--- request eval
["POST /_ctl/http/api/seller/products/1/media\n{\"content_type\":\"image/png\",\"size\":9}",
 "POST /_ctl/http/api/seller/media/{{id}}/complete\n{}",
 "POST /_ctl/sql\nSELECT count(*) FROM media_uploads WHERE id = {{id}}; SELECT count(*) FROM product_media WHERE id = {{id}}",
 "POST /_ctl/http/_s3/put\n{\"url\":\"{{url}}\",\"ctype\":\"image/jpeg\",\"data\":\"PNG-BYTES\"}",
 "POST /_ctl/http/api/seller/media/{{id}}/complete\n{}",
 "POST /_ctl/http/_s3/putobj\n{\"key\":\"{{key}}\",\"ctype\":\"image/png\",\"size\":1025}",
 "POST /_ctl/http/api/seller/media/{{id}}/complete\n{}",
 "POST /_ctl/sql\nSELECT count(*) FROM media_uploads WHERE id = {{id}}; SELECT count(*) FROM product_media WHERE id = {{id}}",
 "POST /_ctl/http/_s3/putobj\n{\"key\":\"{{key}}\",\"ctype\":\"image/png\",\"data\":\"PNG-BYTES-12\"}",
 "POST /_ctl/http/api/seller/media/{{id}}/complete\n{}",
 "POST /_ctl/http/api/seller/media/{{id}}/complete\n{}",
 "POST /_ctl/sql\nSELECT byte_size, content_type, object_key = '{{key}}' FROM product_media WHERE id = {{id}}; SELECT count(*) FROM media_uploads WHERE id = {{id}}"]
--- more_headers eval
[main::as('bob', 'X-Ctl-Save: id=json:media_id url=json:upload.url key=json:key'),
 main::as('bob'), "", $main::J, main::as('erin'), $main::J, main::as('bob'),
 "", $main::J, main::as('bob'), main::as('erin'), ""]
--- response_body_filters eval
\&main::verify
--- response_body eval
["pending size=9 type=image/png\n",
 "409 upload_missing\n",
 "1\n0\n",
 "status: 200\n",
 qq{422 upload_invalid: the object's Content-Type is "image/jpeg", not the "image/png" of the upload\n},
 "status: 200\n",
 "422 upload_invalid: the object is 1025 bytes; at most 1024 are allowed\n",
 "1\n0\n",
 "status: 200\n",
 "ready size=12 type=image/png\n",
 "ready size=12 type=image/png\n",
 "12|image/png|t\n0\n"]
--- error_code eval
[201, 409, 200, 200, 422, 200, 422, 200, 200, 200, 200, 200]
--- no_error_log
[error]



=== TEST 16: a wrong signature on the HEAD (another secret key): S3 refuses it (the SDK's re-sign check of t/js/s3.mjs), 502
--- init
main::pending(9101);
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint http://127.0.0.1:$TEST_NGINX_S3_PORT;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/wrong.secret;
--- request
POST /api/seller/media/9101/complete
{}
--- more_headers eval
main::as('bob')
--- response_body_filters eval
\&main::verify
--- response_body
502 storage_unavailable
--- error_code: 502
--- error_log eval
qr/\[error\].*nexus: object storage 127\.0\.0\.1:\d+ answered 403 to HEAD for "products\/1\/pending-9101\.png"/



=== TEST 17: object storage down (a closed port): 502
--- init
main::pending(9102);
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint http://127.0.0.1:$TEST_NGINX_S3_CLOSED_PORT;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
--- request
POST /api/seller/media/9102/complete
{}
--- more_headers eval
main::as('bob')
--- response_body_filters eval
\&main::verify
--- response_body
502 storage_unavailable
--- error_code: 502
--- error_log eval
qr/\[error\].*nexus: object storage 127\.0\.0\.1:\d+ did not answer HEAD for "products\/1\/pending-9102\.png": cannot connect/
--- no_error_log
[alert]



=== TEST 18: object storage that never answers: 502 after nexus_s3_timeout
--- init
main::pending(9103);
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint http://127.0.0.1:$TEST_NGINX_S3_SILENT_PORT;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
    nexus_s3_timeout 300ms;
--- request
POST /api/seller/media/9103/complete
{}
--- more_headers eval
main::as('bob')
--- response_body_filters eval
\&main::verify
--- response_body
502 storage_unavailable
--- error_code: 502
--- error_log eval
qr/\[error\].*nexus: object storage 127\.0\.0\.1:\d+ did not answer HEAD for "products\/1\/pending-9103\.png": timed out/
--- no_error_log
[alert]



=== TEST 19: after those 502s nothing was recorded: the uploads are still pending
--- request
POST /_ctl/sql
SELECT id FROM media_uploads WHERE id BETWEEN 9101 AND 9103 ORDER BY id; SELECT count(*) FROM product_media WHERE id BETWEEN 9101 AND 9103
--- response_body
9101
9102
9103
0
--- error_code: 200



=== TEST 20: a client that hangs up while the HEAD waits: the HEAD is cancelled (no late callback when its timer would have fired), the worker goes on
--- init
main::pending(9104);
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint http://127.0.0.1:$TEST_NGINX_S3_SILENT_PORT;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
    nexus_s3_timeout 800ms;
--- request eval
["GET /_ctl/bg?n=1&abort=0.2&method=POST&body=%7B%7D&hdr="
 . main::uri_escape("Authorization: Bearer $main::Tok{bob}")
 . "&path=/api/seller/media/9104/complete",
 "GET /_ctl/bg_wait",
 "GET /_ctl/sleep?s=1",
 "GET /api/seller/products/1/media",
 "POST /_ctl/sql\nSELECT count(*) FROM media_uploads WHERE id = 9104"]
--- more_headers eval
["", "", "", main::as('bob'), ""]
--- response_body_filters eval
sub { $_[0] =~ /^\{/ ? CORE::join '', grep { /^9104 / } split /^/, main::media($_[0])
                      : $_[0] }
--- response_body eval
["ok\n", "0\n", "ok\n",
 "9104 pending - - http://127.0.0.1/pending-9104.png\n", "1\n"]
--- error_code eval
[200, 200, 200, 200, 200]
--- no_error_log
[alert]
[crit]
did not answer HEAD



=== TEST 21: https: TLS to the endpoint by name (SNI, the certificate checked against nexus_s3_trusted_certificate), the HEAD through it
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint https://localhost:$TEST_NGINX_S3_TLS_PORT;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
    nexus_s3_trusted_certificate $TEST_NGINX_S3_KEYS/tls.crt;

    server {
        listen 127.0.0.1:$TEST_NGINX_S3_TLS_PORT ssl;
        ssl_certificate $TEST_NGINX_S3_KEYS/tls.crt;
        ssl_certificate_key $TEST_NGINX_S3_KEYS/tls.key;
        location / {
            proxy_pass http://127.0.0.1:$TEST_NGINX_S3_PORT;
            # the module named the host in SNI
            if ($ssl_server_name != "localhost") {
                return 421;
            }
            proxy_set_header Host $http_host;
        }
    }
--- request eval
["POST /_ctl/http/api/seller/products/1/media\n{\"content_type\":\"image/webp\",\"size\":9}",
 "POST /_ctl/http/api/seller/media/{{id}}/complete\n{}",
 "POST /_ctl/http/_s3/putobj\n{\"key\":\"{{key}}\",\"ctype\":\"image/webp\",\"data\":\"WEBP-OVER-TLS\"}",
 "POST /_ctl/http/api/seller/media/{{id}}/complete\n{}",
 "POST /_ctl/sql\nSELECT byte_size, url LIKE 'https://localhost:%/media/products/1/%.webp' FROM product_media WHERE id = {{id}}"]
--- more_headers eval
[main::as('bob', 'X-Ctl-Save: id=json:media_id key=json:key'), main::as('bob'),
 $main::J, main::as('bob'), ""]
--- response_body_filters eval
\&main::verify
--- response_body eval
["pending size=9 type=image/webp\n", "409 upload_missing\n", "status: 200\n",
 "ready size=13 type=image/webp\n", "13|t\n"]
--- error_code eval
[201, 409, 200, 200, 200]
--- no_error_log
[error]



=== TEST 22: https to an endpoint whose certificate is not trusted (the system's CAs): 502, nothing sent
--- init
main::pending(9105);
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint https://127.0.0.1:$TEST_NGINX_S3_TLS_PORT;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;

    server {
        listen 127.0.0.1:$TEST_NGINX_S3_TLS_PORT ssl;
        ssl_certificate $TEST_NGINX_S3_KEYS/tls.crt;
        ssl_certificate_key $TEST_NGINX_S3_KEYS/tls.key;
        location / {
            return 500;
        }
    }
--- request
POST /api/seller/media/9105/complete
{}
--- more_headers eval
main::as('bob')
--- response_body_filters eval
\&main::verify
--- response_body
502 storage_unavailable
--- error_code: 502
--- error_log eval
qr/\[error\].*nexus: the certificate of the S3 host "127\.0\.0\.1" does not verify: \(18:self.signed certificate\)/



=== TEST 23: a HEAD timeout out of range is refused at load
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
    nexus_s3_timeout 0;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_s3_timeout" directive must be a time between 1ms and 5m



=== TEST 24: a trusted certificate needs an https endpoint
--- http_config
    nexus_s3_bucket media;
    nexus_s3_region us-east-1;
    nexus_s3_endpoint http://127.0.0.1:$TEST_NGINX_S3_PORT;
    nexus_s3_access_key file:$TEST_NGINX_S3_KEYS/s3rver.id;
    nexus_s3_secret_key file:$TEST_NGINX_S3_KEYS/s3rver.secret;
    nexus_s3_trusted_certificate $TEST_NGINX_S3_KEYS/tls.crt;
--- config
    location /api/ { nexus_api; }
--- must_die
--- error_log
"nexus_s3_trusted_certificate" needs an https:// S3 endpoint
