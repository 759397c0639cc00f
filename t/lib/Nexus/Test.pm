package Nexus::Test;

# Helpers for Nexus's Test::Nginx suites: control the private PostgreSQL and
# Redis that scripts/test started, and run SQL against the test database.
# Independent of which Test::Nginx runs the file (ours under t/runner or the
# real one from CPAN); it lives in t/lib so `use lib 't/lib'` never shadows
# the real Test::Nginx.
#
#   use lib 't/lib';
#   use Test::Nginx::Socket 'no_plan';
#   use Nexus::Test;              # exports nothing; call Nexus::Test::foo()
#   Nexus::Test::ctl_server();    # optional, see below
#
# Plain functions (from the .t file's Perl code, or from --- init, which the
# real Test::Nginx evals in package Test::Nginx::Util: always write them
# fully qualified, Nexus::Test::pg_stop()):
#
#   pg_stop() pg_start() pg_restart()      PostgreSQL of the test run
#   redis_stop() redis_start() redis_flush()
#   redis_cli(@args)                       output of redis-cli
#   psql($sql, user => 'postgres')         runs SQL on the test db, returns
#                                          the output (-tA: one row a line,
#                                          columns separated by |); dies on
#                                          errors. Default role: nexus.
#   pg_restart_after($delay, $down)        forks a timer: after $delay s stop
#                                          PostgreSQL, $down s later start it
#   redis_restart_after($delay, $down)
#   bg_wait()                              reap the timers (also at exit)
#
# The control server: to change the world *between* the requests of one
# block (one nginx lifetime, no reload), start it once per file with
# Nexus::Test::ctl_server() and route /_ctl/ to it in the block's config:
#
#   location /_ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; }
#
# Then the requests of a `--- request eval` array can be interleaved with
# POST /_ctl/pg_stop, /_ctl/pg_start, /_ctl/pg_restart, /_ctl/redis_stop,
# /_ctl/redis_start, /_ctl/redis_flush (each answers 200 "ok" once done, or
# 500 with the error), /_ctl/redis (the body is a redis-cli command such as
# "PTTL somekey", split on spaces; the answer is its output), /_ctl/sql (the
# body is SQL; the answer is psql -tA output, so a response_body can check
# data written by an earlier request),
# /_ctl/sleep?s=0.5 and /_ctl/ping. The server is a child of the test
# process; it exits with it.
#
# Timing: GET /_ctl/time?n=5&gap=0.05&path=/api/categories sends the
# request n times in a row (gap seconds apart) straight to nginx and answers
#   codes: 200 200 200 200 200
#   ms: 12 9 8 10 9
#   max_ms: 12
# so a block can assert latency with a regex on max_ms. With
# bg_n=8&bg_path=P&delay=0.2 it first starts 8 background clients on P (as
# /_ctl/bg does), waits 0.2 s, times, and adds "bg_pending: K", how many of
# them had not finished when the timing ended: the timing then overlapped
# them, whatever nginx did with the request to /_ctl/time itself. While
# background clients run, GET /_ctl/bg_pending answers how many have not
# finished yet, and GET /_ctl/bg_wait?ms=1 adds a line "max_ms: N", the
# longest time one of them took. Background and timed requests are GETs
# unless method=POST (timed) or bg_method=POST (background; on /_ctl/bg:
# method=) with body= and ctype= (bg_body=, bg_ctype=; application/json by
# default), all URI-escaped; /_ctl/bg also takes hdr= (header lines, such as
# "Authorization: Bearer ...", newline-separated, URI-escaped).
#
# Chained requests, for flows whose later requests need what an earlier
# answer held (an access token, a refresh token, a cookie):
# METHOD /_ctl/http/<path> sends METHOD /<path> to nginx with the request's
# own headers and body and answers with nginx's status, headers and body,
# so the block checks them as if it had asked nginx itself. Before that,
# every {{name}} in the path, the headers and the body is replaced with a
# value saved earlier (a name never saved: 500). The request header
# "X-Ctl-Save: at=json:access_token ck=cookie:nexus_session" saves values of
# the answer: json:a.b.0 (a member of the JSON body; arrays by index),
# jwt:a.claim (a claim of the JWT in member a: decoded, NOT verified),
# cookie:NAME (from Set-Cookie), header:NAME, body. /_ctl/sql fills in
# {{name}} too, and with "X-Ctl-Save: name" saves its output. Saved values
# live as long as the control server (the test file).
#
# Scripts: POST /_ctl/script?name=create-admin&arg=ops@example.com runs
# scripts/<name> with the request body on its standard input and the test
# database in the libpq environment (PGHOST, PGPORT, PGDATABASE, PGUSER);
# answers "exit: N" and then its output (stdout and stderr).
#
# Environment (exported by scripts/test): NEXUS_TEST_ROOT, NEXUS_TEST_STATE,
# NEXUS_TEST_PG_HOST, NEXUS_TEST_PG_PORT, NEXUS_TEST_PG_DB, NEXUS_TEST_PG_USER,
# NEXUS_TEST_REDIS_HOST, NEXUS_TEST_REDIS_PORT, TEST_NGINX_CTL_PORT.

use strict;
use warnings;

use Cwd ();
use File::Spec ();
use File::Temp ();
use IO::Select ();
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes qw(sleep time);

our $VERSION = '0.01';

my $ParentPid = $$;
my @BgPids;
my $CtlPid;
my $TouchedServices = 0;

sub _env {
    my ($k) = @_;
    my $v = $ENV{$k};
    die "Nexus::Test: \$$k is not set; run the suite through scripts/test\n"
        unless defined $v && length $v;
    return $v;
}

sub _root {
    return $ENV{NEXUS_TEST_ROOT} if $ENV{NEXUS_TEST_ROOT};
    my $here = File::Spec->rel2abs(__FILE__);
    $here =~ s{/t/lib/Nexus/Test\.pm$}{};
    return $here;
}

sub _stack {
    my ($fn, @args) = @_;
    my $lib = _root() . '/scripts/lib/stack.sh';
    local $ENV{NEXUS_QUIET} = 1;
    my $rc = system('bash', '-c', '. "$0" && "$@"', $lib, $fn, @args);
    die "Nexus::Test: $fn @args failed (exit " . ($rc >> 8) . ")\n" if $rc != 0;
    return 1;
}

sub pg_stop {
    $TouchedServices = 1;
    _stack('nexus_pg_stop', _env('NEXUS_TEST_STATE'));
}

sub pg_start {
    _stack('nexus_pg_start', _env('NEXUS_TEST_STATE'), _env('NEXUS_TEST_PG_PORT'));
}

sub pg_restart { pg_stop(); pg_start() }

sub redis_stop {
    $TouchedServices = 1;
    _stack('nexus_redis_stop', _env('NEXUS_TEST_STATE'));
}

sub redis_start {
    _stack('nexus_redis_start', _env('NEXUS_TEST_STATE'), _env('NEXUS_TEST_REDIS_PORT'));
}

sub redis_cli {
    my @args = @_;
    my $port = _env('NEXUS_TEST_REDIS_PORT');
    my $host = $ENV{NEXUS_TEST_REDIS_HOST} || '127.0.0.1';
    my $pid = open my $ph, '-|';
    die "Nexus::Test: fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        { no warnings 'exec'; exec 'redis-cli', '-h', $host, '-p', $port, @args; }
        POSIX::_exit(127);
    }
    my $out = do { local $/; <$ph> } // '';
    close $ph;
    die "Nexus::Test: redis-cli @args failed: $out" if $? != 0;
    $out =~ s/\n\z//;
    return $out;
}

# Reloads sql/seed/test_fixture.sql: for files that change catalog data
sub reset_fixture {
    local $ENV{PGHOST} = _env('NEXUS_TEST_PG_HOST');
    local $ENV{PGPORT} = _env('NEXUS_TEST_PG_PORT');
    local $ENV{PGDATABASE} = _env('NEXUS_TEST_PG_DB');
    local $ENV{PGUSER} = $ENV{NEXUS_TEST_PG_USER} || 'nexus';
    my $out = `"@{[_root()]}/scripts/seed" --fixture 2>&1`;
    die "Nexus::Test: reset_fixture failed: $out\n" if $?;
    1;
}

sub redis_flush { redis_cli('FLUSHALL') eq 'OK' or die "Nexus::Test: FLUSHALL failed\n"; 1 }

sub psql {
    my ($sql, %opt) = @_;
    my $user = $opt{user} || $ENV{NEXUS_TEST_PG_USER} || 'nexus';
    my $db = $opt{db} || _env('NEXUS_TEST_PG_DB');
    my $host = $ENV{NEXUS_TEST_PG_HOST} || '127.0.0.1';
    my $port = _env('NEXUS_TEST_PG_PORT');
    my $in = File::Temp->new(SUFFIX => '.sql');
    print $in $sql;
    close $in;
    my $err = File::Temp->new(SUFFIX => '.err');
    local $ENV{PGCONNECT_TIMEOUT} = 5;
    my $pid = open my $ph, '-|';
    die "Nexus::Test: fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>', $err->filename;
        { no warnings 'exec'; exec 'psql', '-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', $host,
            '-p', $port, '-U', $user, '-d', $db, '-f', $in->filename; }
        POSIX::_exit(127);
    }
    my $out = do { local $/; <$ph> } // '';
    close $ph;
    my $rc = $?;
    if ($rc != 0) {
        open my $e, '<', $err->filename;
        my $msg = do { local $/; <$e> } // '';
        die "Nexus::Test::psql failed (exit " . ($rc >> 8) . "): $msg\nSQL: $sql\n";
    }
    $out =~ s/\n\z//;
    return $out;
}

# ------------------------------------------------------------ assertions

# A regex for a product list page holding exactly these product ids, in
# this order: response_body_like eval Nexus::Test::ids_re(7, 1, 12)
sub ids_re {
    my @ids = @_;
    my $items = join ',', map { '\\{"id" ?: ?' . $_ . ',(?:(?!\\{"id" ?:).)*' } @ids;
    return qr/^\{"items":\[$items\],"next_cursor":/s;
}

# The cursor the API hands out after a row: cursor('p', 1999, 1)
sub cursor {
    my ($code, $key, $id) = @_;
    require MIME::Base64;
    return MIME::Base64::encode_base64url("$code.$key.$id");
}

# ------------------------------------------------------- background timers

sub _bg {
    my ($code) = @_;
    $TouchedServices = 1;
    my $pid = fork();
    die "Nexus::Test: fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
        my $rc = eval { $code->(); 1 } ? 0 : 1;
        warn $@ if $rc;
        POSIX::_exit($rc);
    }
    push @BgPids, $pid;
    return $pid;
}

sub pg_restart_after {
    my ($delay, $down) = @_;
    _bg(sub { sleep $delay; pg_stop(); sleep($down // 0); pg_start() });
}

sub redis_restart_after {
    my ($delay, $down) = @_;
    _bg(sub { sleep $delay; redis_stop(); sleep($down // 0); redis_start() });
}

sub bg_wait {
    my $ok = 1;
    for my $pid (@BgPids) {
        waitpid($pid, 0);
        $ok = 0 if $?;
    }
    @BgPids = ();
    return $ok;
}

# ---------------------------------------------------------- control server

sub ctl_port { $ENV{TEST_NGINX_CTL_PORT} }

sub _free_port {
    for (1 .. 200) {
        my $p = 20000 + int rand 30000;
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
                                      Proto => 'tcp', ReuseAddr => 1, Listen => 1);
        if ($s) { close $s; return $p }
    }
    die "Nexus::Test: no free port\n";
}

my %Actions = (
    '/_ctl/ping'        => sub { "pong\n" },
    '/_ctl/pg_stop'     => sub { pg_stop(); "ok\n" },
    '/_ctl/pg_start'    => sub { pg_start(); "ok\n" },
    '/_ctl/pg_restart'  => sub { pg_restart(); "ok\n" },
    '/_ctl/redis_stop'  => sub { redis_stop(); "ok\n" },
    '/_ctl/redis_start' => sub { redis_start(); "ok\n" },
    '/_ctl/redis_flush' => sub { redis_flush(); "ok\n" },
    '/_ctl/redis'       => sub { redis_cli(split ' ', $_[1] // '') . "\n" },
    '/_ctl/sql'         => \&_ctl_sql,
    '/_ctl/script'      => \&_ctl_script,
    '/_ctl/bg'          => \&_ctl_bg,
    '/_ctl/log_count'   => \&_ctl_log_count,
    '/_ctl/bg_wait'     => \&_ctl_bg_wait,
    '/_ctl/bg_pending'  => \&_ctl_bg_pending,
    '/_ctl/time'        => \&_ctl_time,
    '/_ctl/sleep'       => sub {
        my ($q) = @_;
        my ($s) = ($q // '') =~ /(?:^|&)s=([\d.]+)/;
        sleep($s // 0);
        "ok\n";
    },
);

# Background clients, for concurrency within one block: GET /_ctl/bg?n=3&path=
# /api/_debug/sleep%3Fs%3D2 starts 3 clients that each send that request to
# nginx and returns at once; GET /_ctl/bg_wait waits for them and answers
# their status codes, sorted, on one line. nginx's port comes from the
# X-Nginx-Port header (proxy_set_header X-Nginx-Port $server_port;) or the
# environment. With abort=S a client hangs up after S seconds (status 0).
my @CtlClients;

sub _uri_unescape {
    my ($s) = @_;
    $s =~ s/\+/ /g;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

sub _ctl_bg {
    my ($q, $body, $head) = @_;
    my %p = map { my ($k, $v) = split /=/, $_, 2; ($k, _uri_unescape($v // '')) }
            split /&/, $q // '';
    my $path = $p{path} or die "bg needs path=\n";
    _bg_clients($p{n} // 1, $path, _nginx_port($head), $p{abort},
                { method => $p{method}, body => $p{body}, ctype => $p{ctype},
                  headers => $p{hdr} });
    return "ok\n";
}

sub _nginx_port {
    my ($head) = @_;
    my ($port) = ($head // '') =~ /^X-Nginx-Port:\s*(\d+)/mi;
    return $port // $ENV{TEST_NGINX_SERVER_PORT} // $ENV{TEST_NGINX_PORT} // 1984;
}

# a request as bytes: GET by default; a body goes with its length
sub _request_text {
    my ($path, $req) = @_;
    my $method = ($req && $req->{method}) || 'GET';
    my $body = $req ? $req->{body} : undef;
    my $text = "$method $path HTTP/1.0\r\nHost: localhost\r\n";
    # hdr=: more header lines ("Name: value", newline-separated)
    $text .= join '', map { "$_\r\n" } grep { /\S/ } split /\r?\n/, $req->{headers}
        if $req && defined $req->{headers};
    if (defined $body || $method ne 'GET') {
        $body //= '';
        $text .= "Content-Type: " . ($req->{ctype} || 'application/json') . "\r\n"
            if length $body;
        $text .= "Content-Length: " . length($body) . "\r\n";
    }
    return "$text\r\n" . ($body // '');
}

sub _bg_clients {
    my ($n, $path, $port, $abort, $req) = @_;
    for (1 .. $n) {
        my $file = File::Temp->new(UNLINK => 0);
        my $pid = fork();
        die "fork: $!\n" unless defined $pid;
        if ($pid == 0) {
            my $code = 0;
            my $t0 = time;
            my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                PeerPort => $port, Proto => 'tcp', Timeout => 5);
            if ($sock) {
                syswrite($sock, _request_text($path, $req));
                my $resp = '';
                my $sel = IO::Select->new($sock);
                # abort=S: hang up after S seconds, as a client that gives up
                my $deadline = time + ($abort // 30);
                while (time < $deadline) {
                    my $left = $deadline - time;
                    $sel->can_read($left < 1 ? $left : 1) or next;
                    my $r = sysread($sock, $resp, 65536, length $resp);
                    last unless $r;
                }
                ($code) = $resp =~ m{^HTTP/1\.\d (\d{3})};
            }
            # written at once as "CODE MS": an empty file is a client
            # still running (bg_pending)
            my $tmp = $file->filename . '.tmp';
            open my $fh, '>', $tmp;
            printf $fh "%d %d", $code || 0, (time - $t0) * 1000;
            close $fh;
            rename $tmp, $file->filename;
            POSIX::_exit(0);
        }
        push @CtlClients, [$pid, $file->filename];
    }
}

# GET /_ctl/log_count?re=REGEX: how many lines of the running nginx's
# error.log match, so a block can check "logged once" at a given point
sub _ctl_log_count {
    my ($q) = @_;
    my ($re) = ($q // '') =~ /(?:^|&)re=([^&]*)/;
    die "log_count needs re=\n" unless defined $re;
    $re = _uri_unescape($re);
    my $root = $ENV{TEST_NGINX_SERVROOT}
        || File::Spec->catdir(Cwd::getcwd(), 't', 'servroot');
    open my $fh, '<', "$root/logs/error.log" or die "error.log: $!\n";
    my $n = grep { /$re/ } <$fh>;
    close $fh;
    return "$n\n";
}

sub _ctl_bg_wait {
    my ($q) = @_;
    my (@codes, $max);
    for my $c (@CtlClients) {
        waitpid($c->[0], 0);
        open my $fh, '<', $c->[1] or next;
        my ($code, $ms) = split ' ', scalar(<$fh>) // '';
        close $fh;
        unlink $c->[1];
        push @codes, $code // 0;
        $max = $ms if defined $ms && (!defined $max || $ms > $max);
    }
    @CtlClients = ();
    my $out = join(' ', sort @codes) . "\n";
    $out .= "max_ms: " . ($max // 0) . "\n" if ($q // '') =~ /(?:^|&)ms=1/;
    return $out;
}

# how many background clients have not finished yet
sub _ctl_bg_pending {
    return scalar(grep { !-s $_->[1] } @CtlClients) . "\n";
}

sub _ctl_time {
    my ($q, $body, $head) = @_;
    my %p = map { my ($k, $v) = split /=/, $_, 2; ($k, _uri_unescape($v // '')) }
            split /&/, $q // '';
    my $n = $p{n} // 1;
    my $path = $p{path} or die "time needs path=\n";
    my $port = _nginx_port($head);
    if ($p{bg_path}) {
        _bg_clients($p{bg_n} // 1, $p{bg_path}, $port, undef,
                    { method => $p{bg_method}, body => $p{bg_body},
                      ctype => $p{bg_ctype} });
    }
    my $req = { method => $p{method}, body => $p{body}, ctype => $p{ctype} };
    sleep($p{delay}) if $p{delay};
    my (@codes, @ms);
    for my $i (1 .. $n) {
        sleep($p{gap}) if $p{gap} && $i > 1;
        my $t0 = time;
        my $code = 0;
        my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => $port, Proto => 'tcp', Timeout => 5);
        if ($sock) {
            syswrite($sock, _request_text($path, $req));
            my $resp = '';
            my $sel = IO::Select->new($sock);
            my $deadline = time + 10;
            while (time < $deadline) {
                $sel->can_read(1) or next;
                my $r = sysread($sock, $resp, 65536, length $resp);
                last unless $r;
            }
            ($code) = $resp =~ m{^HTTP/1\.\d (\d{3})};
        }
        push @codes, $code || 0;
        push @ms, int((time - $t0) * 1000);
    }
    my ($max) = sort { $b <=> $a } @ms;
    my $out = "codes: @codes\nms: @ms\nmax_ms: $max\n";
    $out .= "bg_pending: " . _ctl_bg_pending() if $p{bg_path};
    return $out;
}

# ------------------------------------------------ chained requests, scripts

my %Vars;

sub _subst {
    my ($s) = @_;
    $s =~ s/\{\{(\w+)\}\}/defined $Vars{$1} ? $Vars{$1}
                                          : die "no saved value {{$1}}\n"/ge;
    return $s;
}

sub _json_at {
    my ($doc, $path) = @_;
    for my $k (split /\./, $path) {
        if (ref $doc eq 'HASH') { $doc = $doc->{$k} }
        elsif (ref $doc eq 'ARRAY' && $k =~ /^\d+\z/) { $doc = $doc->[$k] }
        else { return undef }
    }
    return ref $doc ? undef : $doc;
}

# X-Ctl-Save of a chained request: values of nginx's answer, by name
sub _save {
    my ($spec, $headers, $body) = @_;
    require JSON::PP;
    require MIME::Base64;
    my $json;
    for my $item (split ' ', $spec) {
        my ($name, $kind, $arg) = $item =~ /^(\w+)=(\w+)(?::(.*))?\z/
            or die "bad X-Ctl-Save item $item\n";
        my $v;
        if ($kind eq 'body') {
            $v = $body;
        } elsif ($kind eq 'header' || $kind eq 'cookie') {
            for my $h (@$headers) {
                next unless lc $h->[0] eq ($kind eq 'header' ? lc $arg : 'set-cookie');
                if ($kind eq 'header') { $v = $h->[1]; last }
                ($v) = $h->[1] =~ /^\Q$arg\E=([^;]*)/ and last;
            }
        } elsif ($kind eq 'json' || $kind eq 'jwt') {
            $json //= eval { JSON::PP::decode_json($body) } // {};
            my ($path, $claim) = $kind eq 'jwt' ? $arg =~ /^(.*)\.(\w+)\z/ : ($arg);
            $v = _json_at($json, $path // '');
            if ($kind eq 'jwt' && defined $v) {
                my (undef, $payload) = split /\./, $v;
                my $claims = eval { JSON::PP::decode_json(
                    MIME::Base64::decode_base64url($payload // '')) };
                $v = $claims ? _json_at($claims, $claim) : undef;
            }
        } else {
            die "bad X-Ctl-Save kind $kind\n";
        }
        # not in the answer: a later {{name}} fails rather than reuse a value
        if (defined $v) { $Vars{$name} = $v } else { delete $Vars{$name} }
    }
}

sub _ctl_http {
    my ($q, $body, $head, $method, $target) = @_;
    (my $path = $target) =~ s{^/_ctl/http}{};
    $path = _subst($path);
    $body = _subst($body // '');
    my ($save, $out) = ('', '');
    for my $line ((split /\r?\n/, $head)[1 .. 1000]) {
        last unless defined $line && length $line;
        my ($k, $v) = $line =~ /^([^:\s]+):[ \t]*(.*)\z/ or next;
        if (lc $k eq 'x-ctl-save') { $save .= " $v"; next }
        next if $k =~ /^(?:host|connection|content-length|x-nginx-port)\z/i;
        $out .= "$k: " . _subst($v) . "\r\n";
    }
    $out .= "Content-Length: " . length($body) . "\r\n"
        if length $body || $method !~ /^(?:GET|HEAD)\z/;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => _nginx_port($head), Proto => 'tcp', Timeout => 5)
        or die "cannot connect to nginx: $!\n";
    syswrite($sock, "$method $path HTTP/1.0\r\nHost: localhost\r\n$out\r\n$body");
    my $resp = '';
    my $sel = IO::Select->new($sock);
    my $deadline = time + 20;
    while (time < $deadline) {
        $sel->can_read(1) or next;
        my $r = sysread($sock, $resp, 65536, length $resp);
        last unless $r;
    }
    close $sock;
    my ($rhead, $rbody) = split /\r\n\r\n/, $resp, 2;
    my ($status, $reason) = ($rhead // '') =~ m{^HTTP/1\.\d (\d{3}) ?([^\r\n]*)}
        or die "no answer from nginx for $method $path\n";
    my @headers;
    for my $line ((split /\r\n/, $rhead)[1 .. 1000]) {
        last unless defined $line;
        my ($k, $v) = $line =~ /^([^:\s]+):[ \t]*(.*)\z/ or next;
        push @headers, [$k, $v];
    }
    _save($save, \@headers, $rbody // '') if $save =~ /\S/;
    # nginx in front of the control server sets these itself
    my $own = qr/^(?:server|date|connection|content-length|transfer-encoding|keep-alive)\z/i;
    return { status => $status, reason => $reason, body => $rbody // '',
             headers => [grep { $_->[0] !~ $own } @headers] };
}

sub _ctl_sql {
    my ($q, $body, $head) = @_;
    my $o = psql(_subst($body // ''));
    my ($name) = ($head // '') =~ /^X-Ctl-Save:[ \t]*(\w+)[ \t]*\r?$/mi;
    $Vars{$name} = $o if defined $name;
    return length $o ? "$o\n" : '';
}

sub _ctl_script {
    my ($q, $body) = @_;
    my (@args, $name);
    for (split /&/, $q // '') {
        my ($k, $v) = split /=/, $_, 2;
        $v = _uri_unescape($v // '');
        if ($k eq 'name') { $name = $v } elsif ($k eq 'arg') { push @args, $v }
    }
    die "script needs name=\n" unless defined $name && $name =~ /^[a-z][a-z0-9-]*\z/;
    my $script = _root() . "/scripts/$name";
    die "no script $script\n" unless -x $script;
    my $in = File::Temp->new;
    print $in $body // '';
    close $in;
    my $pid = open my $ph, '-|';
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', $in->filename;
        open STDERR, '>&', \*STDOUT;
        $ENV{PGHOST} = $ENV{NEXUS_TEST_PG_HOST} || '127.0.0.1';
        $ENV{PGPORT} = _env('NEXUS_TEST_PG_PORT');
        $ENV{PGDATABASE} = _env('NEXUS_TEST_PG_DB');
        $ENV{PGUSER} = $ENV{NEXUS_TEST_PG_USER} || 'nexus';
        { no warnings 'exec'; exec $script, @args; }
        POSIX::_exit(127);
    }
    my $out = do { local $/; <$ph> } // '';
    close $ph;
    return "exit: " . ($? >> 8) . "\n$out";
}

sub ctl_server {
    return $ENV{TEST_NGINX_CTL_PORT} if $CtlPid;
    $TouchedServices = 1;
    my $port = $ENV{TEST_NGINX_RANDOMIZE} ? undef : $ENV{TEST_NGINX_CTL_PORT};
    my $listener;
    for my $try (1 .. 50) {
        my $p = $port || _free_port();
        $listener = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
            Proto => 'tcp', ReuseAddr => 1, Listen => 16);
        if ($listener) { $port = $p; last }
        sleep 0.1;
    }
    die "Nexus::Test: cannot listen for the control server: $!\n" unless $listener;
    $ENV{TEST_NGINX_CTL_PORT} = $port;

    my $parent = $$;
    my $pid = fork();
    die "Nexus::Test: fork failed: $!\n" unless defined $pid;
    if ($pid) {
        close $listener;
        $CtlPid = $pid;
        return $port;
    }

    # the child: serve until the test process goes away
    $SIG{TERM} = sub { POSIX::_exit(0) };
    my $sel = IO::Select->new($listener);
    while (1) {
        POSIX::_exit(0) if getppid() != $parent;
        next unless $sel->can_read(0.5);
        my $c = $listener->accept or next;
        eval { _ctl_serve($c) };
        warn "Nexus::Test control server: $@" if $@;
        close $c;
    }
}

sub _ctl_serve {
    my ($c) = @_;
    my $buf = '';
    my $deadline = time + 10;
    my $sel = IO::Select->new($c);
    while ($buf !~ /\r?\n\r?\n/ && time < $deadline) {
        $sel->can_read(1) or next;
        my $n = sysread($c, $buf, 65536, length $buf);
        return unless $n;
    }
    my ($head, $body) = split /\r?\n\r?\n/, $buf, 2;
    $body //= '';
    my ($method, $target) = $head =~ /^(\S+)\s+(\S+)/;
    my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
    while (defined $len && length($body) < $len && time < $deadline) {
        $sel->can_read(1) or next;
        my $n = sysread($c, $body, 65536, length $body);
        last unless $n;
    }
    my ($path, $query) = split /\?/, $target // '', 2;
    my ($status, $out);
    my $action = $Actions{$path // ''};
    $action = \&_ctl_http if !$action && ($path // '') =~ m{^/_ctl/http/};
    if ($action) {
        $out = eval { $action->($query, $body, $head, $method, $target) };
        ($status, $out) = defined $out ? (200, $out) : (500, "error: $@");
        if (ref $out eq 'HASH') {
            # nginx's own answer to a chained request, passed through
            my $h = join '', map { "$_->[0]: $_->[1]\r\n" } @{ $out->{headers} };
            syswrite($c, "HTTP/1.0 $out->{status} $out->{reason}\r\n$h"
                . "Content-Length: " . length($out->{body}) . "\r\n"
                . "Connection: close\r\n\r\n$out->{body}");
            return;
        }
    } else {
        ($status, $out) = (404, "unknown control action $path; known: "
            . join(' ', sort keys %Actions) . "\n");
    }
    my $reason = { 200 => 'OK', 404 => 'Not Found', 500 => 'Internal Server Error' }->{$status};
    syswrite($c, "HTTP/1.0 $status $reason\r\nContent-Type: text/plain\r\n"
        . "Content-Length: " . length($out) . "\r\nConnection: close\r\n\r\n$out");
}

END {
    if ($$ == $ParentPid) {
        local $?;
        if ($CtlPid) {
            kill 'TERM', $CtlPid;
            waitpid($CtlPid, 0);
        }
        bg_wait();
        # a test that stopped a service and failed before starting it again
        # must not break the files after it
        if ($TouchedServices && $ENV{NEXUS_TEST_STATE}) {
            eval { pg_start() if $ENV{NEXUS_TEST_PG_PORT} };
            warn $@ if $@;
            eval { redis_start() if $ENV{NEXUS_TEST_REDIS_PORT} };
            warn $@ if $@;
        }
    }
}

# ------------------------------------------------ signed-in users, no log-in

# Sessions made straight in the database, for suites that need signed-in
# users without spending a password hash on each (call after
# reset_fixture(), which empties the sessions):
#
#   my %tok = Nexus::Test::access_tokens(alice => 1, bob => 2);
#
# makes one live API session per name (user id as given) and returns
# name => access token, signed by jose (t/js/jwt.mjs) with the test key
# $NEXUS_TEST_KEYS/ed25519.pem, kid "ed1", issuer "nexus", audience
# "nexus-api", valid 15 minutes: the block needs
#   nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem;
#
#   my ($cookie, $csrf) = Nexus::Test::cookie_session(1);
#
# makes a browser session: send "Cookie: nexus_session=$cookie" and, on
# unsafe methods, "X-CSRF-Token: $csrf".

sub _token43 {
    my @c = ('A' .. 'Z', 'a' .. 'z', 0 .. 9, '-', '_');
    return join '', map { $c[int rand 64] } 1 .. 43;
}

sub _session_sql {
    my ($uid, $token, $csrf) = @_;
    die "Nexus::Test: bad user id <$uid>\n" unless $uid =~ /^[1-9][0-9]*\z/;
    return "INSERT INTO sessions (user_id, token_hash, csrf_hash, expires_at)"
         . " VALUES ($uid, sha256(convert_to('$token', 'UTF8')), "
         . (defined $csrf ? "sha256(convert_to('$csrf', 'UTF8'))" : 'NULL')
         . ", now() + interval '1 hour') RETURNING id;\n";
}

sub access_tokens {
    my (%users) = @_;
    my @names = sort keys %users;
    return () unless @names;
    my @sids = split /\n/, psql(join '', map {
        _session_sql($users{$_}, _token43() . ':api')
    } @names);
    die "Nexus::Test: access_tokens made " . scalar(@sids) . " sessions\n"
        unless @sids == @names;
    my $keys = _env('NEXUS_TEST_KEYS');
    require JSON::PP;
    my $batch = JSON::PP::encode_json([map {
        ['sign', 'alg=EdDSA', "key=$keys/ed25519.pem", 'kid=ed1',
         "sub=$users{$names[$_]}", "sid=$sids[$_]"]
    } 0 .. $#names]);
    my $js = _root() . '/t/js/jwt.mjs';
    open my $ph, '-|', 'node', $js, 'batch', $batch
        or die "Nexus::Test: cannot run node: $!\n";
    my $out = do { local $/; <$ph> };
    close $ph or die "Nexus::Test: t/js/jwt.mjs batch failed (exit $?)\n";
    my $res = JSON::PP::decode_json($out);
    return map { ($names[$_] => $res->[$_]{token}) } 0 .. $#names;
}

sub cookie_session {
    my ($uid) = @_;
    my ($cookie, $csrf) = (_token43(), _token43());
    psql(_session_sql($uid, $cookie, $csrf));
    return ($cookie, $csrf);
}

# Requests of a block written "[alice] GET /api/me" or "[bob x=c1] POST
# /api/auth/login\n{...}": expand_who($block, \%tokens), called from a
# block preprocessor, strips the prefixes and sets more_headers to the
# named user's bearer token ("-": none), "X-Client: c1" for x=c1, and
# Content-Type: application/json for a request with a JSON body (but not
# for /_ctl/).
# Requests without a prefix get no headers; a block with its own
# more_headers is left alone.
sub expand_who {
    my ($block, $tokens) = @_;
    my $req = $block->request;
    return if !defined $req || defined $block->more_headers;
    my @r = ref $req ? @$req : ($req);
    return unless grep { /^\[[^\]]*\] / } @r;
    my @h;
    for my $q (@r) {
        my @hd;
        if ($q =~ s/^\[([^\]]*)\] //) {
            for my $w (split ' ', $1) {
                if ($w =~ /^x=(.+)/) {
                    push @hd, "X-Client: $1";
                } elsif ($w ne '-') {
                    my $t = $tokens->{$w}
                        // die "Nexus::Test::expand_who: no token for \"$w\"\n";
                    push @hd, "Authorization: Bearer $t";
                }
            }
        }
        push @hd, 'Content-Type: application/json'
            if $q =~ m{^\S+ /(?!_ctl/)[^\n]*\n\s*[\{\[]};
        push @h, join "\n", @hd;
    }
    $block->set_value(request => ref $req ? \@r : $r[0]);
    $block->set_value(more_headers => ref $req ? \@h : $h[0]);
}

1;
