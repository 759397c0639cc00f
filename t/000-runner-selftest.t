# The runner must be able to fail: runs a scratch suite whose blocks each
# carry one wrong expectation and checks that every one of them is reported
# as "not ok" (and that the one correct block is not). Works with our runner
# (t/runner) and with the real Test::Nginx, whichever is on @INC.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);

my $dir = tempdir(CLEANUP => 1);
my $file = "$dir/broken.t";
open my $out, '>', $file or die $!;
print $out <<'T';
use Test::Nginx::Socket 'no_plan';
no_shuffle();
run_tests();
__DATA__

=== TEST 1: correct
--- config
    location = /t { add_header X-A a; return 200 "ok\n"; }
--- request
GET /t
--- response_headers
X-A: a
--- response_body
ok

=== TEST 2: wrong body
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
not ok

=== TEST 3: wrong status
--- config
    location = /t { return 201 "ok\n"; }
--- request
GET /t
--- response_body
ok

=== TEST 4: wrong header value
--- config
    location = /t { add_header X-A b; return 200; }
--- request
GET /t
--- response_headers
X-A: a

=== TEST 5: header that must be absent is there
--- config
    location = /t { add_header X-A b; return 200; }
--- request
GET /t
--- response_headers
!X-A

=== TEST 6: error_log pattern that never appears
--- config
    location = /t { return 200; }
--- request
GET /t
--- error_log
this text is not in the log

=== TEST 7: no_error_log pattern that appears
--- config
    location /f/ { alias html/; }
--- request
GET /f/nothing-here.html
--- error_code: 404
--- no_error_log
No such file or directory

=== TEST 8: client timeout without abort
--- config
    location = /t { limit_rate 1; return 200 "slow slow slow slow"; }
--- request
GET /t
--- timeout: 200ms
--- ignore_response

=== TEST 9: must_die with a valid config
--- config
    location = /t { return 200; }
--- must_die

=== TEST 10: second of several requests is wrong
--- config
    location /t { return 200 "$uri\n"; }
--- request eval
["GET /t1", "GET /t2"]
--- response_body eval
["/t1\n", "/t3\n"]

=== TEST 11: response_body_like that does not match
--- config
    location = /t { return 200 "abc"; }
--- request
GET /t
--- response_body_like: ^x
T
close $out;

my @inc = map { "-I$_" } grep { !ref } @INC;
my $pid = open my $ph, '-|';
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    open STDERR, '>&', \*STDOUT;
    $ENV{TEST_NGINX_RANDOMIZE} = 1;    # own port and servroot
    delete $ENV{TEST_NGINX_USE_VALGRIND};
    exec $^X, @inc, $file;
    exit 127;
}
my @lines = <$ph>;
close $ph;
my $rc = $? >> 8;

isnt($rc, 0, 'the scratch suite exits non-zero');
my @notok = grep { /^not ok/ } @lines;
my @ok = grep { /^ok/ } @lines;
ok(scalar(grep { /TEST 1: correct/ } @ok) >= 3, 'the correct block passes its checks');
ok(!grep({ /TEST 1: correct/ } @notok), 'the correct block has no failure');
for my $n (2 .. 11) {
    ok(scalar(grep { /TEST $n:/ } @notok), "TEST $n is reported as a failure")
        or diag(join '', grep { /TEST $n:/ } @lines);
}
diag("scratch suite output:\n", @lines) unless Test::More->builder->is_passing;
done_testing();
