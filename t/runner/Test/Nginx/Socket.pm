package Test::Nginx::Socket;

# A from-scratch, Test::Nginx-compatible runner for Nexus's t/*.t files.
#
# The real Test::Nginx (CPAN) is not packaged in Debian. This module reads
# the same data-driven .t format (it is a Test::Base subclass, like the real
# one) and follows the documented semantics of Test::Nginx::Socket, so a
# suite written against it also runs under the real module. scripts/test
# puts t/runner on @INC only when the real Test::Nginx is not installed.
#
# Differences from the real one worth knowing:
#   - nginx runs in the foreground (`daemon off`) as a direct child of the
#     test process and is waited for (no daemon reparented to PID 1); it is
#     ready when its pid file appears.
#   - $TEST_NGINX_* variables are expanded in every string section (the real
#     one expands only the configuration sections and user_files).
#   - A worker that "exited on signal", or valgrind memory errors, fail the
#     block (the real one only warns).
#   - --- init is not run for a block skipped by skip_eval/skip_nginx.
#   - Not supported: http2/http3 (curl), HUP reload mode, stap, udp_listen,
#     check-leak and benchmark modes.
#
# Environment: TEST_NGINX_BINARY (/usr/sbin/nginx), TEST_NGINX_PORT (1984),
# TEST_NGINX_SERVER_PORT, TEST_NGINX_CLIENT_PORT, TEST_NGINX_SERVROOT
# (t/servroot), TEST_NGINX_LOAD_MODULES, TEST_NGINX_USE_VALGRIND,
# TEST_NGINX_RANDOMIZE, TEST_NGINX_NO_SHUFFLE, TEST_NGINX_LOG_LEVEL,
# TEST_NGINX_TIMEOUT, TEST_NGINX_MASTER_PROCESS, TEST_NGINX_WORKER_USER,
# TEST_NGINX_ERROR_LOG, TEST_NGINX_NO_CLEAN, TEST_NGINX_EVENT_TYPE,
# TEST_NGINX_POSTPONE_OUTPUT, TEST_NGINX_SLEEP, TEST_NGINX_VERBOSE,
# TEST_NGINX_NO_NGINX_MANAGER, TEST_NGINX_CHECK_ACCUM_ERR_LOG.

use strict;
use warnings;

use Test::Base -base;    # Test::Base handles 'no_plan' / tests => N

use Cwd ();
use File::Path qw(make_path remove_tree);
use File::Spec ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(shuffle);
use POSIX qw(:sys_wait_h SIGQUIT SIGTERM SIGKILL);
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(sleep time);

our $VERSION = '0.01-nexus';

our @EXPORT = qw(
    env_to_nginx is_str plan run_tests run_test repeat_each config_preamble
    worker_connections master_process_enabled no_long_string workers
    master_on master_off log_level no_shuffle no_root_location use_hup
    server_name server_addr server_root html_dir server_port
    server_port_for_client timeout no_nginx_manager check_accum_error_log
    add_block_preprocessor bail_out add_cleanup_handler add_response_body_check
);

# ------------------------------------------------------------------ settings

our $NginxBinary       = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
our $Verbose           = $ENV{TEST_NGINX_VERBOSE};
our $RepeatEach        = 1;
our $Workers           = 1;
our $WorkerConnections = 64;
our $LogLevel          = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $NoShuffle         = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $NoLongString      = 0;
our $NoRootLocation    = 0;
our $NoNginxManager    = $ENV{TEST_NGINX_NO_NGINX_MANAGER} || 0;
our $CheckAccumErrLog  = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $Timeout           = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $TestNginxSleep    = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $UseValgrind       = $ENV{TEST_NGINX_USE_VALGRIND};
our $Randomize         = $ENV{TEST_NGINX_RANDOMIZE};
our $EventType         = $ENV{TEST_NGINX_EVENT_TYPE};
our $PostponeOutput    = $ENV{TEST_NGINX_POSTPONE_OUTPUT};
our $LoadModules       = $ENV{TEST_NGINX_LOAD_MODULES};
our $WorkerUser        = $ENV{TEST_NGINX_WORKER_USER};
our $ServerAddr        = '127.0.0.1';
our $ServerName        = 'localhost';
our $ServerPort        = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $ConfigPreamble    = '';
our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;
our @ResponseBodyChecks;

our $NginxVersion;        # canonical, e.g. 1.022001
our $NginxRawVersion;

srand($$);

if ($Randomize) {
    $ServerPort = _gen_rand_port() or die "no free port found\n";
    $ServerPortForClient = $ServerPort;
}

our $ServRoot = $Randomize
    ? File::Spec->rel2abs("t/servroot_$ServerPort")
    : ($ENV{TEST_NGINX_SERVROOT} ? File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT})
                                 : File::Spec->rel2abs('t/servroot'));
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";
our $ValgrindLog = "$LogDir/valgrind.log";

# run-time state
our $MainPid = $$;
our $NginxPid;            # our foreground nginx child
our $PrevConfig;          # last expanded --- config (reused when absent)
our $PrevBlock;
our $ErrLogFilePos = 0;
our $CurrentErrLogFile = $ErrLogFile;

# Code in --- init runs in this package in the real Test::Nginx; offer the
# same unqualified helpers there.
{
    no strict 'refs';
    for my $f (qw(bail_out server_port server_root html_dir timeout
                  repeat_each log_level server_port_for_client
                  add_cleanup_handler)) {
        *{"Test::Nginx::Util::$f"} = \&{$f};
    }
}

# ------------------------------------------------------------ configuration

sub repeat_each (@) { $RepeatEach = shift if @_; $RepeatEach }
sub workers (@) { $Workers = shift if @_; $Workers }
sub worker_connections (@) { $WorkerConnections = shift if @_; $WorkerConnections }
sub log_level (@) { $LogLevel = shift if @_; $LogLevel }
sub no_shuffle () { $NoShuffle = 1 }
sub no_long_string () { $NoLongString = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub no_nginx_manager () { $NoNginxManager = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub master_on () { $MasterProcessEnabled = 'on' }
sub master_off () { $MasterProcessEnabled = 'off' }
sub master_process_enabled (@) {
    return $MasterProcessEnabled unless @_;
    $MasterProcessEnabled = shift() ? 'on' : 'off';
}
sub use_hup () { warn "use_hup(): HUP reload mode is not supported by the Nexus runner; ignored\n" }
sub config_preamble ($) { $ConfigPreamble = shift }
sub timeout (@) { $Timeout = shift if @_; $Timeout }
sub server_addr (@) { $ServerAddr = shift if @_; $ServerAddr }
sub server_name (@) { $ServerName = shift if @_; $ServerName }
sub server_port (@) { $ServerPort = shift if @_; $ServerPort }
sub server_port_for_client (@) { $ServerPortForClient = shift if @_; $ServerPortForClient }
sub server_root () { $ServRoot }
sub html_dir () { $HtmlDir }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($) { unshift @CleanupHandlers, shift }
sub add_response_body_check ($) { push @ResponseBodyChecks, shift }

sub env_to_nginx (@) {
    die "env_to_nginx: no arguments specified\n" unless @_;
    for my $v (@_) {
        die "env_to_nginx: bad argument value: $v\n"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

# ------------------------------------------------------------------ helpers

sub _tb { Test::More->builder }

sub _extra_fail {    # a failure outside the expected test count
    my ($msg) = @_;
    # (the real Test::Nginx also sets no_ending here, which makes the test
    # script exit 0 despite the failure; we keep the exit code honest)
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::fail($msg);
}

sub _verbose { warn @_, "\n" if $Verbose }

sub _gen_rand_port {
    my ($used) = @_;
    $used ||= {};
    for (1 .. 1000) {
        my $port = int(rand 63550) + 1985;
        next if $used->{$port};
        my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
            LocalPort => $port, Proto => 'tcp', ReuseAddr => 1, Listen => 1);
        if ($sock) { close $sock; return $port }
    }
    return undef;
}

sub parse_time ($) {
    my $tm = shift;
    return undef unless defined $tm;
    $tm =~ s/^\s+|\s+$//g;
    if ($tm =~ s/ms$//) { return $tm / 1000 }
    $tm =~ s/s$//;
    return $tm;
}

sub _printable {
    my ($s, $max) = @_;
    return 'undef' unless defined $s;
    $max ||= 1500;
    my $cut = length($s) > $max;
    $s = substr($s, 0, $max) if $cut;
    $s =~ s/([\\"])/\\$1/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n\n/g;
    $s =~ s/\t/\\t/g;
    $s =~ s/([\x00-\x08\x0b-\x1f\x7f])/sprintf('\\x%02x', ord $1)/ge;
    return qq{"$s"} . ($cut ? " ...(" . length($_[0]) . " bytes in all)" : '');
}

sub _diff_explain {
    my ($got, $exp) = @_;
    return "         got: undef\n    expected: " . _printable($exp) if !defined $got;
    return "         got: " . _printable($got) . "\n    expected: undef" if !defined $exp;
    my $n = length($got) < length($exp) ? length($got) : length($exp);
    my $i = 0;
    $i++ while $i < $n && substr($got, $i, 1) eq substr($exp, $i, 1);
    my $line = 1 + (substr($got, 0, $i) =~ tr/\n//);
    my $from = $i > 40 ? $i - 40 : 0;
    my $msg = sprintf("strings differ at offset %d (line %d); got %d bytes, expected %d\n",
                      $i, $line, length $got, length $exp);
    if ($NoLongString) {
        $msg .= "         got: " . _printable($got, 4000) . "\n";
        $msg .= "    expected: " . _printable($exp, 4000);
    } else {
        $msg .= "  got near there:      " . _printable(substr($got, $from, 120), 200) . "\n";
        $msg .= "  expected near there: " . _printable(substr($exp, $from, 120), 200);
    }
    return $msg;
}

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    if (ref $expected && ref $expected eq 'Regexp') {
        return Test::More::like($got, $expected, $desc);
    }
    my $ok = (defined $got && defined $expected) ? $got eq $expected
           : (!defined $got && !defined $expected);
    _tb()->ok($ok, $desc);
    _tb()->diag(_diff_explain($got, $expected)) unless $ok;
    return $ok;
}

sub _read_file {
    my ($f) = @_;
    open my $in, '<', $f or return undef;
    local $/;
    my $s = <$in>;
    close $in;
    return $s;
}

sub _tail {
    my ($file, $n) = @_;
    my $s = _read_file($file);
    return "(no $file)" unless defined $s;
    my @l = split /\n/, $s;
    @l = @l[-$n .. -1] if @l > $n;
    return join("\n", @l);
}

sub _expand_env ($$) {
    my ($text, $name) = @_;
    return $text unless defined $text && !ref $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $v = $1;
        if ($v =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
            $ENV{$v} //= _gen_rand_port({ $ServerPort => 1 });
        }
        die "$name - No environment $v defined.\n" unless defined $ENV{$v};
        $ENV{$v};
    }ge;
    return $text;
}

sub _expand_value {
    my ($v, $name) = @_;
    return $v unless defined $v;
    if (!ref $v) { return _expand_env($v, $name) }
    if (ref $v eq 'ARRAY') { return [ map { _expand_value($_, $name) } @$v ] }
    if (ref $v eq 'HASH' && exists $v->{value}) {
        return { %$v, value => _expand_value($v->{value}, $name) };
    }
    return $v;
}

my %NoExpand = map { $_ => 1 } qw(init skip_eval skip_nginx skip_nginx2 name
    description ONLY SKIP LAST _section_map _section_order);

sub _expand_block {
    my ($block) = @_;
    my $name = $block->name;
    # every section, including those a block preprocessor added
    for my $sec (sort keys %$block) {
        next if $sec =~ /^_/ || $NoExpand{$sec} || ref $block->{$sec} ne 'ARRAY';
        my @vals = @{ $block->{$sec} };
        next unless @vals;
        $block->set_value($sec, map { _expand_value($_, $name) } @vals);
    }
}

sub _nginx_version {
    my $out = `$NginxBinary -V 2>&1`;
    if (!defined $out || $? != 0) {
        bail_out("Failed to run \"$NginxBinary -V\" (set TEST_NGINX_BINARY): "
                 . ($out // $!));
    }
    if ($out =~ m{nginx/(\d+)\.(\d+)\.(\d+)}) {
        $NginxRawVersion = "$1.$2.$3";
        return sprintf("%d.%03d%03d", $1, $2, $3);
    }
    bail_out("Failed to parse the output of \"nginx -V\": $out");
}

# ----------------------------------------------------------- nginx process

sub setup_server_root () {
    if (-d $ServRoot) {
        remove_tree($ConfDir, $HtmlDir, $LogDir, glob("$ServRoot/*_temp"),
                    glob("$ServRoot/*_cache"));
    }
    make_path($ServRoot, $LogDir, $HtmlDir, $ConfDir);
    if ($> == 0) {
        # workers (user root by default, see below) and PostgreSQL-side
        # helpers must be able to traverse it
        chmod 0755, $ServRoot, $LogDir, $HtmlDir, $ConfDir;
    }
    open my $out, '>', "$HtmlDir/index.html" or bail_out("Can't write $HtmlDir/index.html: $!");
    print $out '<html><head><title>It works!</title></head><body>It works!</body></html>';
    close $out;
}

sub _write_user_files {
    my ($block) = @_;
    my $files = $block->user_files;
    return unless $files;
    my $name = $block->name;
    if (!ref $files) {
        my @list;
        my ($fname, $body, $date);
        for my $line (split /^/, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+))?/) {
                push @list, [$fname, $body, $date] if defined $fname;
                ($fname, $date, $body) = ($1, $2, undef);
            } else {
                $body .= $line;
            }
        }
        push @list, [$fname, $body, $date] if defined $fname;
        $files = \@list;
    }
    for my $f (@$files) {
        my ($fname, $body, $date) = @$f;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        (my $dir = $path) =~ s{/[^/]*$}{};
        make_path($dir) unless -d $dir;
        open my $out, '>', $path or bail_out("$name - Cannot write $path: $!");
        binmode $out;
        print $out $body // '';
        close $out;
        if ($date) {
            system('touch', '-t', $date, $path) == 0
                or warn "$name - touch -t $date $path failed\n";
        }
    }
}

sub write_config_file ($$) {
    my ($block, $config) = @_;
    my $name = $block->name;
    my $main_config = $block->main_config // '';
    my $http_config = $block->http_config // '';
    my $post_main_config = $block->post_main_config // '';
    my $server_name = $block->server_name // $ServerName;
    my $level = $block->log_level || $LogLevel;
    my $err_log = $block->error_log_file || $ErrLogFile;
    $CurrentErrLogFile = $err_log;
    my $master = $MasterProcessEnabled;
    $master = 'off' if $UseValgrind;

    my $modules = '';
    if ($LoadModules) {
        $modules = join '', map { "load_module $_;\n" } grep { length } split /\s+/, $LoadModules;
    }

    my $env = '';
    for my $v (qw(LD_PRELOAD LD_LIBRARY_PATH ASAN_OPTIONS MOCKEAGAIN
                  MOCKEAGAIN_VERBOSE MOCKEAGAIN_WRITE_TIMEOUT_PATTERN
                  MOCKNOEAGAIN MOCKNOEAGAIN_VERBOSE), @EnvToNginx) {
        my $e = $v;
        $e = "'$e'" if $e =~ /\s/;
        $env .= "env $e;\n";
    }

    my $user = '';
    if ($main_config !~ /^\s*user\s/m) {
        if (defined $WorkerUser) {
            $user = "user $WorkerUser;\n";
        } elsif ($> == 0) {
            # as in the real Test::Nginx: workers run as root, so they can
            # read and write everything under the server root
            $user = "user root;\n";
        }
    }

    my $temp = join '', map { "    ${_}_temp_path $ServRoot/${_}_temp;\n" }
        qw(client_body proxy fastcgi uwsgi scgi);

    my $extra_http = '';
    if (defined $PostponeOutput && $http_config !~ /\bpostpone_output\b/) {
        $extra_http .= "    postpone_output $PostponeOutput;\n";
    }

    (my $qname = $server_name) =~ s/(['\\])/\\$1/g;

    my $root_location = $NoRootLocation ? '' : <<_EOC_;
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    my $use_event = $EventType ? "    use $EventType;\n" : '';

    open my $out, '>', $ConfFile or bail_out("Can't open $ConfFile for writing: $!");
    print $out <<_EOC_;
# generated by the Nexus Test::Nginx runner (t/runner) for:
# $name
${modules}daemon off;
master_process $master;
worker_processes $Workers;
error_log $err_log $level;
pid $PidFile;
$user$env
$main_config

events {
    accept_mutex off;
    worker_connections $WorkerConnections;
$use_event}

http {
    access_log $AccLogFile;
    default_type text/plain;
    keepalive_timeout 68;
$temp$extra_http
$http_config

    server {
        listen $ServerAddr:$ServerPort;
        server_name '$qname';

        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_location    }
}

$post_main_config
_EOC_
    close $out;
}

sub _nginx_cmd {
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile);
    # -e (nginx >= 1.19.5): the log used before the configuration is read
    push @cmd, '-e', $ErrLogFile if ($NginxVersion // 0) >= 1.019005;
    return @cmd;
}

sub _valgrind_prefix {
    my @v = ('valgrind', '-q', "--log-file=$ValgrindLog", '--num-callers=50');
    if ($UseValgrind =~ /^\d+$/) {
        push @v, '--tool=memcheck', '--leak-check=full',
            '--show-possibly-lost=no', '--gen-suppressions=all';
    } else {
        push @v, split ' ', $UseValgrind;
    }
    for my $f ('t/valgrind.suppress', 'valgrind.suppress') {
        push @v, "--suppressions=$f" if -f $f;
    }
    return @v;
}

# Starts nginx in the foreground. Returns (1) when it runs and is ready,
# (0, $status) when it exited during startup, (0, undef) on a start timeout.
sub _spawn_nginx {
    my ($use_valgrind) = @_;
    my @cmd = _nginx_cmd();
    unshift @cmd, _valgrind_prefix() if $use_valgrind;
    _verbose("starting: @cmd");
    unlink $PidFile;

    my $pid = fork();
    bail_out("fork() failed: $!") unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$LogDir/nginx.stdout";
        open STDERR, '>&', \*STDOUT;
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }
    $NginxPid = $pid;

    my $limit = $use_valgrind ? 120 : 20;
    my $deadline = time + $limit;
    my $step = 0.002;
    while (time < $deadline) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid) {
            my $status = $?;
            undef $NginxPid;
            return (0, $status);
        }
        if (-s $PidFile) {
            my $p = _read_file($PidFile) // '';
            $p =~ s/\s+//g;
            return (1) if $p eq $pid;
        }
        sleep $step;
        $step *= 1.5 if $step < 0.05;
    }
    return (0, undef);
}

sub _stop_nginx {
    my ($name) = @_;
    return unless defined $NginxPid;
    my $pid = $NginxPid;
    undef $NginxPid;
    my $status;
    my $wait = sub {
        my ($secs) = @_;
        my $deadline = time + $secs;
        my $step = 0.002;
        while (time < $deadline) {
            my $r = waitpid($pid, WNOHANG);
            if ($r == $pid || $r == -1) { $status = $?; return 1 }
            sleep $step;
            $step *= 1.5 if $step < 0.05;
        }
        return 0;
    };
    kill SIGQUIT, $pid;
    my $grace = $UseValgrind ? 120 : 10;
    if (!$wait->($grace)) {
        warn "$name - nginx (pid $pid) did not quit in ${grace}s; sending TERM\n";
        kill SIGTERM, $pid;
        if (!$wait->(3)) {
            warn "$name - killing nginx (pid $pid)\n";
            kill SIGKILL, $pid;
            $wait->(5);
            return;
        }
    }
    if (defined $status && ($status & 127) && ($status & 127) != SIGQUIT
        && ($status & 127) != SIGTERM)
    {
        _extra_fail(sprintf("%s - nginx exited on signal %d%s\n%s", $name,
            $status & 127, ($status & 128) ? ' (core dumped)' : '',
            _tail($CurrentErrLogFile, 20)));
    }
}

sub _check_valgrind {
    my ($name) = @_;
    my $log = _read_file($ValgrindLog);
    return unless defined $log && length $log;
    if ($log =~ /(Invalid (?:read|write|free)|uninitialised|Conditional jump|Syscall param|Mismatched free|Source and destination overlap|are definitely lost|are indirectly lost|Jump to the invalid address|Process terminating|Argument .* of function .* has a fishy)/) {
        my $excerpt = length($log) > 6000 ? substr($log, 0, 6000) . "\n..." : $log;
        _extra_fail("$name - valgrind reported errors ($1); full report in $ValgrindLog\n$excerpt");
    }
    if (open my $all, ">>", "$ServRoot/valgrind-all.log") {
        print $all "=== $name\n$log\n";
        close $all;
    }
}

sub cleanup () {
    return unless $$ == $MainPid;
    for my $h (@CleanupHandlers) { eval { $h->() }; warn $@ if $@ }
    @CleanupHandlers = ();
    if (defined $NginxPid && !$ENV{TEST_NGINX_NO_CLEAN}) {
        _stop_nginx("cleanup");
        _check_valgrind("cleanup") if $UseValgrind;
    }
}

END {
    if (defined $MainPid && $$ == $MainPid) {
        local $?;
        cleanup();
        if ($Randomize && -d $ServRoot && $ServRoot =~ m{/t/servroot_\d+$}) {
            remove_tree($ServRoot);
        }
    }
}

# ------------------------------------------------------------- the driver

sub run_tests () {
    $NginxVersion = _nginx_version();
    $ENV{TEST_NGINX_SERVER_PORT} //= $ServerPort;
    $ENV{TEST_NGINX_PORT} //= $ServerPort;

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks unless $NoShuffle;
    for my $block (@blocks) {
        for my $hdl (@BlockPreprocessors) { $hdl->($block) }
        $block->set_value("name", "$0 " . $block->name);
        run_test($block);
        $PrevBlock = $block;
    }
    cleanup();
}

sub _skip_spec {
    my ($block) = @_;
    my $name = $block->name;
    if (defined(my $s = $block->skip_eval)) {
        $s =~ /^\s*(\d+)\s*:\s*(.*)/s
            or bail_out("$name - invalid --- skip_eval spec: $s");
        my ($n, $code) = ($1, $2);
        my $yes = eval "package main; $code";
        bail_out("$name - skip_eval - failed to eval \"$code\": $@") if $@;
        return ($n, 'skip_eval') if $yes;
    }
    if (defined(my $s = $block->skip_nginx)) {
        $s =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - invalid --- skip_nginx spec: $s");
        my ($n, $op, $ver, $why) = ($1, $2, sprintf("%d.%03d%03d", $3, $4, $5), $6);
        my $yes = eval "$NginxVersion $op $ver";
        return ($n, $why || "nginx version $op $3.$4.$5") if $yes;
    }
    return;
}

sub run_test ($) {
    my ($block) = @_;
    my $name = $block->name;
    my $failed_before = grep { !$_ } _tb()->summary;

    if (defined $block->http2 || defined $block->http3 || defined $block->stap
        || defined $block->udp_listen)
    {
        _extra_fail("$name - http2/http3/stap/udp_listen are not supported by the Nexus runner");
        return;
    }

    eval { _expand_block($block) };
    if ($@) {
        _extra_fail($@);
        return;
    }

    my ($skip_n, $skip_reason) = _skip_spec($block);

    my $config = $block->config;
    my $must_die = $block->must_die;

    if ($skip_n) {
        for my $i (1 .. $RepeatEach) {
            SKIP: { Test::More::skip("$name - $skip_reason", $skip_n) }
        }
        return;
    }

    if (!defined $config) {
        if (!$NoNginxManager && !defined $PrevConfig) {
            bail_out("$name - No '--- config' section specified and could not get previous one.");
        }
        $config = $PrevConfig;
    }

    my $reuse = !$NoNginxManager && !defined $block->config
        && defined $NginxPid && !defined $must_die;

    if (defined $must_die) {
        $PrevConfig = $config;
        _stop_nginx($name) unless $NoNginxManager;
        for my $i (1 .. $RepeatEach) {
            _run_must_die($block, $config, $i - 1);
        }
        _after_block($block, $failed_before);
        return;
    }

    if (!$NoNginxManager && !$reuse) {
        _stop_nginx($name);
        setup_server_root();
        _write_user_files($block);
        write_config_file($block, $config);
        $PrevConfig = $config;
        my ($ok, $status) = _spawn_nginx($UseValgrind);
        if (!$ok && defined $status
            && (_read_file($ErrLogFile) // '') =~ /Address already in use/)
        {
            # a previous nginx (ours or another test file's) still holds
            # the port: give it a moment
            for (1 .. 20) {
                sleep 0.25;
                truncate $ErrLogFile, 0;
                ($ok, $status) = _spawn_nginx($UseValgrind);
                last if $ok || !defined $status;
            }
        }
        if (!$ok) {
            my $why = defined $status
                ? sprintf("exited with status %d during startup", $status >> 8)
                : "did not write its pid file in time";
            _stop_nginx($name) unless defined $status;
            _extra_fail("$name - nginx $why\n"
                . "--- $ErrLogFile (tail):\n" . _tail($ErrLogFile, 25)
                . "\n--- $LogDir/nginx.stdout (tail):\n" . _tail("$LogDir/nginx.stdout", 10)
                . "\n--- config: $ConfFile");
            return;
        }
    } elsif ($reuse) {
        _write_user_files($block);
    }

    if (defined(my $init = $block->init)) {
        local $@;
        eval "package Test::Nginx::Util; no warnings; $init; 1"
            or bail_out("$name - init failed: $@");
    }

    $ErrLogFilePos = 0;
    for my $i (1 .. $RepeatEach) {
        _run_tcp_server($block);
        run_test_helper($block, $i - 1);
        _finish_tcp_server($block);
    }

    if (my $total = $ENV{TEST_NGINX_ERROR_LOG}) {
        if (open my $out, '>>', $total) {
            print $out "\n=== $name\n", _read_file($CurrentErrLogFile) // '';
            close $out;
        }
    }

    if ($UseValgrind && !$NoNginxManager) {
        _stop_nginx($name);
        _check_valgrind($name);
    }

    _after_block($block, $failed_before);
}

sub _after_block {
    my ($block, $failed_before) = @_;
    my $failed_now = grep { !$_ } _tb()->summary;
    if ($failed_now > $failed_before) {
        _tb()->diag("--- last lines of $CurrentErrLogFile for "
            . $block->name . ":\n" . _tail($CurrentErrLogFile, 30)
            . "\n--- (config: $ConfFile)");
    }
}

sub _run_must_die {
    my ($block, $config, $rep) = @_;
    my $name = $block->name;
    my $must_die = $block->must_die;
    setup_server_root();
    _write_user_files($block);
    write_config_file($block, $config);
    $ErrLogFilePos = 0;
    my ($ok, $status) = _spawn_nginx(0);
    if ($ok || !defined $status) {
        _stop_nginx($name);
        Test::More::fail("$name - die as expected (nginx must die but it does not, req $rep)");
    } elsif ($status & 127) {
        Test::More::fail("$name - nginx died on signal " . ($status & 127));
    } elsif (looks_like_number($must_die)) {
        Test::More::is($status >> 8, $must_die, "$name - die with the expected exit code");
    } else {
        Test::More::isnt($status, 0, "$name - die as expected");
    }
    check_error_log($block, undef, $rep, 0);
}

# ------------------------------------------------- embedded TCP server

our ($TcpServerPid, $TcpQueryFile, $TcpListener);

sub _run_tcp_server {
    my ($block) = @_;
    my $target = $block->tcp_listen;
    return unless defined $target;
    my $name = $block->name;
    bail_out("$name - only a port number is supported in --- tcp_listen")
        unless $target =~ /^\d+$/;
    my $reply = $block->tcp_reply;
    bail_out("$name - --- tcp_listen needs --- tcp_reply")
        if !defined $reply && !defined $block->tcp_shutdown;
    my $len = $block->tcp_query_len;
    $len = length $block->tcp_query if !defined $len && defined $block->tcp_query;
    $TcpQueryFile = "$ServRoot/tcp_query.bin";
    unlink $TcpQueryFile;
    for (1 .. 30) {
        $TcpListener = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
            LocalPort => $target, Proto => 'tcp', ReuseAddr => 1, Listen => 5);
        last if $TcpListener;
        sleep 0.1;
    }
    bail_out("$name - cannot listen on 127.0.0.1:$target: $!") unless $TcpListener;
    my $pid = fork();
    bail_out("fork: $!") unless defined $pid;
    if ($pid == 0) {
        my $c = $TcpListener->accept or POSIX::_exit(1);
        my ($no_read, $no_write);
        if (defined(my $sd = $block->tcp_shutdown)) {
            shutdown($c, $sd);
            $no_read = 1 if $sd == 0 || $sd == 2;
            $no_write = 1 if $sd == 1 || $sd == 2;
        }
        my $buf = '';
        unless ($no_read) {
            while (1) {
                my $n = sysread($c, my $b, 65536);
                last unless $n;
                $buf .= $b;
                last if !$len || length($buf) >= $len;
            }
            if (open my $o, '>', $TcpQueryFile) { binmode $o; print $o $buf; close $o }
        }
        my $delay = parse_time($block->tcp_reply_delay);
        sleep $delay if $delay;
        if (!$no_write && defined $reply) {
            $reply = $reply->($buf) if ref $reply eq 'CODE';
            for my $r (ref $reply eq 'ARRAY' ? @$reply : ($reply)) {
                syswrite($c, $r);
            }
        }
        if (defined $block->tcp_no_close) { sleep 1 while 1 }
        close $c;
        POSIX::_exit(0);
    }
    $TcpServerPid = $pid;
}

sub _finish_tcp_server {
    my ($block) = @_;
    return unless defined $TcpServerPid;
    my $name = $block->name;
    my $deadline = time + 1;
    while (time < $deadline && waitpid($TcpServerPid, WNOHANG) == 0) { sleep 0.01 }
    if (waitpid($TcpServerPid, WNOHANG) == 0) {
        kill SIGKILL, $TcpServerPid;
        waitpid($TcpServerPid, 0);
    }
    undef $TcpServerPid;
    close $TcpListener if $TcpListener;
    undef $TcpListener;
    my $got = _read_file($TcpQueryFile) // '';
    if (defined $block->tcp_query) {
        is_str($got, $block->tcp_query, "$name - tcp_query ok");
    }
    if (defined $block->tcp_query_len) {
        Test::More::is(length($got), $block->tcp_query_len, "$name - TCP query length ok");
    }
}

# --------------------------------------------------------------- requests

sub _parse_more_headers {
    my ($in) = @_;
    my ($out, $chunked) = ('', 0);
    for my $h (split /\n+/, $in // '') {
        next if $h =~ /^\s*#/;
        next unless length $h;
        my ($k, $v) = split /:\s*/, $h, 2;
        $v //= '';
        $chunked = 1 if lc($k) eq 'transfer-encoding' && $v eq 'chunked';
        $out .= "$k: $v\r\n";
    }
    return ($out, $chunked);
}

# Turns a request spec split into packets into the wire packets: the
# request line gets its defaults, Host/Connection/more_headers and
# Content-Length are added, and the body is trimmed as Test::Nginx does.
sub _transform_request {
    my ($name, $hdrs, $chunked, $conn, $packets) = @_;
    my $full = join '', map { $_->{value} // '' } @$packets;
    $full =~ /\A([^\n]*(?:\n|\z))/;
    my $first = $1;
    $first =~ /^\s*(\S+)[ ]*(?:(\S+)[ ]*)?(?:(\S+)[ ]*)?\s*$/
        or bail_out("$name - Request line is not valid. Should be 'meth [url [version]]' but got \"$first\".");
    my ($meth, $uri, $ver) = ($1, $2 // '/', $3 // 'HTTP/1.1');
    my $body_start = length $first;
    my $body_end = length $full;
    my $content = substr($full, $body_start);
    my $len_header = '';
    if (!$chunked && $content ne '' && $hdrs !~ /(?:^|\n)Content-Length:/) {
        $content =~ /\A(\s*)/;
        $body_start += length $1;
        $content =~ /(\s*)\z/;
        $body_end -= length $1;
        $body_end = $body_start if $body_end < $body_start;
        $len_header = "Content-Length: " . ($body_end - $body_start) . "\r\n";
    }
    my $head = "$meth $uri $ver\r\n";
    $head .= "Host: $ServerName\r\n" if $hdrs !~ /(?:^|\n)Host:/i;
    $head .= "Connection: $conn\r\n" if $hdrs !~ /(?:^|\n)Connection/i;
    $head .= "$hdrs$len_header\r\n";

    my @out;
    my $pos = 0;
    for my $i (0 .. $#$packets) {
        my $p = $packets->[$i];
        my $v = $p->{value} // '';
        my ($s, $e) = ($pos, $pos + length $v);
        $pos = $e;
        my ($bs, $be) = ($s > $body_start ? $s : $body_start, $e < $body_end ? $e : $body_end);
        my $part = $be > $bs ? substr($full, $bs, $be - $bs) : '';
        push @out, { %$p, value => ($i == 0 ? $head : '') . $part };
    }
    return \@out;
}

sub _packets_of {
    my ($name, $r) = @_;
    return [{ value => $r }] unless ref $r;
    if (ref $r eq 'ARRAY') {
        return [ map {
            !ref $_ ? { value => $_ }
            : ref $_ eq 'HASH' ? { %$_ }
            : bail_out("$name - Invalid syntax. $_ should be a string or hash with value.")
        } @$r ];
    }
    bail_out("$name - invalid request spec: $r");
}

sub get_req_from_block ($) {
    my ($block) = @_;
    my $name = $block->name;

    if (defined(my $raw = $block->raw_request)) {
        return [ _packets_of($name, $raw) ];
    }

    my $more = $block->more_headers // '';
    my $hdr_for = sub {
        my ($i) = @_;
        my $m = $more;
        if (ref $m eq 'ARRAY') {
            $m = $m->[$i];
            bail_out("$name - --- more_headers lacks data for request $i") unless defined $m;
        }
        return _parse_more_headers($m);
    };

    if (defined(my $reqs = $block->pipelined_requests)) {
        bail_out("$name - invalid entries in --- pipelined_requests") unless ref $reqs eq 'ARRAY';
        my $all = '';
        for my $i (0 .. $#$reqs) {
            my ($h, $ch) = $hdr_for->($i);
            my $pk = _transform_request($name, $h, $ch,
                $i == $#$reqs ? 'close' : 'keep-alive', [{ value => $reqs->[$i] }]);
            $all .= join '', map { $_->{value} } @$pk;
        }
        return [ [{ value => $all }] ];
    }

    my $request = $block->request;
    bail_out("$name - no --- request, --- raw_request or --- pipelined_requests") unless defined $request;
    if (!ref $request) {
        1 while $request =~ s/^\s*#[^\n]*\n|^\s+//s;
        my ($h, $ch) = $hdr_for->(0);
        return [ _transform_request($name, $h, $ch, 'close', [{ value => $request }]) ];
    }
    bail_out("$name - --- request must be a string or an array of requests")
        unless ref $request eq 'ARRAY';
    my @list;
    for my $i (0 .. $#$request) {
        my ($h, $ch) = $hdr_for->($i);
        push @list, _transform_request($name, $h, $ch, 'close',
                                       _packets_of($name, $request->[$i]));
    }
    return \@list;
}

sub _curl_hint {
    my ($block, $packets) = @_;
    my $req = join '', map { $_->{value} } @$packets;
    my ($meth, $uri) = $req =~ /^(\S+)\s+(\S+)/;
    my @args = ('curl', '-i', '-sS', '-X', $meth);
    my ($head, $body) = split /\r\n\r\n/, $req, 2;
    for my $h ((split /\r\n/, $head)[1 .. 100]) {
        next unless defined $h;
        next if $h =~ /^(?:Connection|Content-Length):/i;
        push @args, '-H', "'$h'";
    }
    push @args, '--data-binary', "'$body'" if defined $body && length $body;
    push @args, "'http://$ServerAddr:$ServerPortForClient$uri'";
    Test::More::diag("# @args");
}

sub send_request ($$$$) {
    my ($packets, $middle_delay, $timeout, $block) = @_;
    my $name = $block->name;
    my $addr = $block->server_addr_for_client // $ServerAddr;
    my @bits = map { { %$_ } } @$packets;
    my $head_req = (join '', map { $_->{value} } @bits) =~ /^\s*HEAD\s/ ? 1 : 0;

    my $sock;
    for my $try (1 .. 20) {
        $sock = IO::Socket::INET->new(PeerAddr => $addr, PeerPort => $ServerPortForClient,
                                      Proto => 'tcp', Timeout => $timeout);
        last if $sock;
        last if defined $NginxPid && waitpid($NginxPid, WNOHANG) == $NginxPid;
        sleep 0.05 * $try;
    }
    if (!$sock) {
        _extra_fail("$name - Can't connect to $addr:$ServerPortForClient: $!");
        return (undef, $head_req);
    }
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';

    my $cur = shift @bits;
    my ($buf, $off) = ($cur->{value} // '', 0);
    my $writing = 1;
    my $resp = '';
    my $rsel = IO::Select->new($sock);
    while (1) {
        my $wsel = $writing ? IO::Select->new($sock) : undef;
        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, $timeout);
        if (!$r && !$w) {
            if (!defined $block->abort) {
                _extra_fail("ERROR: client socket timed out - $name\n");
            }
            last;
        }
        if ($w && @$w && $writing) {
            while (1) {
                if ($off < length $buf) {
                    my $n = syswrite($sock, $buf, length($buf) - $off, $off);
                    if (!defined $n) {
                        last if $!{EAGAIN} || $!{EWOULDBLOCK};
                        _verbose("$name - write failed: $!");
                        $writing = 0;
                        last;
                    }
                    $off += $n;
                    next;
                }
                my $next = shift @bits;
                if (!$next) {
                    $writing = 0;
                    if (defined(my $sd = $block->shutdown)) {
                        $sd = 1 if $sd !~ /\S/;
                        shutdown($sock, $sd);
                    }
                    last;
                }
                my $delay = defined $next->{delay_before} ? $next->{delay_before} : $middle_delay;
                sleep $delay if $delay;
                ($buf, $off) = ($next->{value} // '', 0);
            }
        }
        if ($r && @$r) {
            my $n = sysread($sock, my $chunk, 65536);
            if (!defined $n) {
                next if $!{EAGAIN} || $!{EWOULDBLOCK};
                warn "WARNING: $name - HTTP response read failure: $!\n"
                    unless $!{ECONNRESET} && length $resp;
                last;
            }
            last if $n == 0;
            $resp .= $chunk;
        }
    }
    close $sock;
    return ($resp, $head_req);
}

# Minimal HTTP/1.x response parser. Returns ($res, $raw_headers, $left)
# where $res = { code, status_line, headers => [[name, value], ...], content }.
sub parse_response ($$$) {
    my ($name, $raw, $head_req) = @_;
    my $res = { code => undef, headers => [], content => '' };
    return ($res, '', undef) unless defined $raw && length $raw;

    my ($raw_headers, $rest) = ('', '');
    if ($raw =~ /\A(.*?\r\n)\r\n/s) {
        $raw_headers = $1;
        $rest = substr($raw, length($1) + 2);
    } elsif ($raw =~ /\A(.*?\n)\n/s) {
        $raw_headers = $1;
        $rest = substr($raw, length($1) + 1);
    } else {
        $raw_headers = $raw;
    }
    my @lines = split /\r?\n/, $raw_headers;
    my $status = shift(@lines) // '';
    $res->{status_line} = $status;
    if ($status =~ m{^HTTP/\d+(?:\.\d+)?\s+(\d{3})\b}) {
        $res->{code} = $1;
    }
    for my $l (@lines) {
        if ($l =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/) {
            push @{ $res->{headers} }, [$1, $2];
        } elsif ($l =~ /^\s+(.*?)\s*$/ && @{ $res->{headers} }) {
            $res->{headers}[-1][1] .= " $1";
        }
    }
    my $code = $res->{code} // 0;
    if ($head_req || $code == 204 || $code == 304 || ($code >= 100 && $code < 200)) {
        return ($res, $raw_headers, length $rest ? $rest : undef);
    }
    my $te = _hdr($res, 'Transfer-Encoding');
    my $cl = _hdr($res, 'Content-Length');
    my $left;
    if (defined $te && $te =~ /\bchunked\b/i) {
        my ($decoded, $pos) = ('', 0);
        while (1) {
            pos($rest) = $pos;
            if ($rest =~ /\G[ \t]*([0-9A-Fa-f]+)[^\r\n]*\r\n/gc) {
                my $size = hex $1;
                $pos = pos($rest);
                if ($size == 0) {
                    # optional trailers, then the final CRLF
                    if ($rest =~ /\G((?:[^\r\n]+\r\n)*)\r\n/gc) {
                        $pos = pos($rest);
                        $left = substr($rest, $pos) if $pos < length $rest;
                    } else {
                        _extra_fail("$name - invalid chunked response: no CRLF after the last chunk");
                    }
                    last;
                }
                if (length($rest) - $pos < $size + 2) {
                    _extra_fail("$name - invalid chunked response: truncated chunk data "
                        . "(need $size bytes)");
                    $decoded .= substr($rest, $pos);
                    last;
                }
                $decoded .= substr($rest, $pos, $size);
                $pos += $size;
                if (substr($rest, $pos, 2) ne "\r\n") {
                    _extra_fail("$name - invalid chunked response: expected CRLF after chunk data");
                    last;
                }
                $pos += 2;
            } elsif ($pos >= length $rest) {
                _extra_fail("$name - invalid chunked response: no last chunk found");
                last;
            } else {
                _extra_fail("$name - invalid chunked response: bad chunk size line: "
                    . _printable(substr($rest, $pos, 60)));
                last;
            }
        }
        $res->{content} = $decoded;
    } elsif (defined $cl && $cl =~ /^\d+$/) {
        if (length $rest > $cl) {
            $left = substr($rest, $cl);
            $res->{content} = substr($rest, 0, $cl);
        } else {
            warn "WARNING: $name - response body truncated: $cl expected, but got "
                . length($rest) . "\n" if length $rest < $cl;
            $res->{content} = $rest;
        }
    } else {
        $res->{content} = $rest;
    }
    return ($res, $raw_headers, $left);
}

sub _hdr {
    my ($res, $key) = @_;
    return undef unless $res;
    my @v = map { $_->[1] } grep { lc $_->[0] eq lc $key } @{ $res->{headers} };
    return @v ? join(', ', @v) : undef;
}

# --------------------------------------------------------------- checks

sub get_indexed_value ($$$$) {
    my ($name, $value, $idx, $need_array) = @_;
    if ($need_array) {
        return $value->[$idx] if ref $value eq 'ARRAY';
        bail_out("$name - You asked for many requests, the expected results should be arrays as well.");
    }
    if (ref $value eq 'ARRAY') {
        return $value->[0];
    }
    return $value;
}

sub _parse_header_spec {
    my ($s) = @_;
    my @out;
    for my $l (split /\n/, $s // '') {
        $l =~ s/^\s+|\s+$//g;
        next unless length $l;
        if ($l =~ s/^!\s*//) {
            push @out, [$l, undef];
        } else {
            my ($k, $v) = split /\s*:\s*/, $l, 2;
            push @out, [$k, $v // ''];
        }
    }
    return @out;
}

sub _subst_port {
    my ($s) = @_;
    return $s if !defined $s || ref $s;
    $s =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
    $s =~ s/\$ServerPort\b/$ServerPort/g;
    return $s;
}

sub check_error_code {
    my ($block, $res, $idx, $need_array) = @_;
    my $name = $block->name;
    my $code = ($res && $res->{code}) || '';
    if (defined $block->error_code_like) {
        my $pat = get_indexed_value($name, $block->error_code_like, $idx, $need_array);
        Test::More::like($code, qr/$pat/sm, "$name - status code ok");
    } elsif (defined $block->error_code) {
        my $exp = get_indexed_value($name, $block->error_code, $idx, $need_array);
        Test::More::is($code, $exp, "$name - status code ok");
    } else {
        Test::More::is($code, 200, "$name - status code ok");
    }
}

sub check_raw_response_headers {
    my ($block, $raw_headers, $idx, $need_array) = @_;
    my $name = $block->name;
    if (defined $block->raw_response_headers_like) {
        my $pat = get_indexed_value($name, $block->raw_response_headers_like, $idx, $need_array);
        Test::More::like($raw_headers, qr/$pat/s, "$name - raw resp headers like");
    }
    if (defined $block->raw_response_headers_unlike) {
        my $pat = get_indexed_value($name, $block->raw_response_headers_unlike, $idx, $need_array);
        Test::More::unlike($raw_headers, qr/$pat/s, "$name - raw resp headers unlike");
    }
}

sub check_response_headers {
    my ($block, $res, $raw_headers, $idx, $need_array) = @_;
    my $name = $block->name;
    if (defined $block->response_headers) {
        my $spec = get_indexed_value($name, $block->response_headers, $idx, $need_array);
        for my $h (_parse_header_spec($spec)) {
            my ($k, $v) = @$h;
            if (!defined $v) {
                Test::More::unlike($raw_headers, qr/^\s*\Q$k\E\s*:/mi,
                    "$name - header $k not present in the raw headers");
                next;
            }
            is_str(_hdr($res, $k) // '', _subst_port($v), "$name - header $k ok");
        }
    } elsif (defined $block->response_headers_like) {
        my $spec = get_indexed_value($name, $block->response_headers_like, $idx, $need_array);
        for my $h (_parse_header_spec($spec)) {
            my ($k, $v) = @$h;
            Test::More::like(_hdr($res, $k) // '', qr/^$v$/, "$name - header $k like ok");
        }
    }
}

my %BodyFilters = (
    uc => sub { uc $_[0] }, lc => sub { lc $_[0] },
    ucfirst => sub { ucfirst $_[0] }, lcfirst => sub { lcfirst $_[0] },
    length => sub { length $_[0] },
    md5_hex => sub { require Digest::MD5; Digest::MD5::md5_hex($_[0]) },
    sha1_hex => sub { require Digest::SHA; Digest::SHA::sha1_hex($_[0]) },
);

sub _transform_body {
    my ($block, $res, $idx) = @_;
    my $f = $block->response_body_filters;
    return unless defined $f && $res && defined $res->{content};
    my $name = $block->name;
    if (!ref $f) { $f =~ s/^\s+|\s+$//g; $f = [split /\s+/, $f] }
    elsif (ref $f ne 'ARRAY') { $f = [$f] }
    $f = $f->[$idx] // bail_out("$name - no --- response_body_filters for request $idx")
        if ref $f->[0] eq 'ARRAY';
    my $c = $res->{content};
    for my $one (ref $f eq 'ARRAY' ? @$f : ($f)) {
        if (ref $one eq 'CODE') { $c = $one->($c) }
        elsif ($BodyFilters{$one}) { $c = $BodyFilters{$one}->($c) }
        else { bail_out("$name - unknown filter \"$one\" in --- response_body_filters") }
    }
    $res->{content} = $c;
}

sub check_response_body {
    my ($block, $res, $idx, $rep, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->{content} : undef;
    if (defined $block->response_body) {
        my $exp = get_indexed_value($name, $block->response_body, $idx, $need_array);
        $exp = _subst_port($exp);
        if (ref $exp) {
            Test::More::like($content, $exp,
                "$name - response_body - like (repeated req $rep, req $idx)");
        } else {
            is_str($content, $exp,
                "$name - response_body - response is expected (repeated req $rep, req $idx)");
        }
    } elsif (defined $block->response_body_like || defined $block->response_body_unlike) {
        my $like = defined $block->response_body_like;
        my $pat = get_indexed_value($name,
            $like ? $block->response_body_like : $block->response_body_unlike,
            $idx, $need_array);
        $pat = _subst_port($pat);
        my $summary = $content // '';
        $summary =~ s/\s+/ /g;
        $summary = substr($summary, 0, 200) . '...' if length $summary > 200;
        my $type = $like ? 'like' : 'unlike';
        my $re = ref $pat eq 'Regexp' ? $pat : qr/$pat/s;
        if ($like) {
            Test::More::like($content, $re, "$name - response_body_$type - response is expected ($summary)");
        } else {
            Test::More::unlike($content, $re, "$name - response_body_$type - response is expected ($summary)");
        }
    }
    for my $check (@ResponseBodyChecks) {
        $check->($block, $content, $idx, $rep, 0);
    }
}

sub error_log_data () {
    sleep $TestNginxSleep * 3;    # lines of the log phase come after the response
    open my $in, '<', $CurrentErrLogFile or return [];
    seek $in, $ErrLogFilePos, 0 if !$CheckAccumErrLog && $ErrLogFilePos > 0;
    my @lines = <$in>;
    $ErrLogFilePos = tell($in) unless $CheckAccumErrLog;
    close $in;
    return \@lines;
}

sub access_log_data () {
    sleep $TestNginxSleep * 3;
    open my $in, '<', $AccLogFile or return [];
    my @lines = <$in>;
    close $in;
    return \@lines;
}

sub _pattern_list {
    my ($pats) = @_;
    if (!ref $pats) { chomp $pats; return [ grep { length } split /\n+/, $pats ] }
    return [$pats] if ref $pats eq 'Regexp';
    return [@$pats];
}

sub _line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ /$pat/ : index($line, $pat) >= 0;
}

sub _check_log_patterns {
    my ($block, $what, $lines, $must, $must_not, $rep) = @_;
    my $name = $block->name;
    if (defined $must) {
        my $pats = _pattern_list($must);
        for my $line (@$lines) {
            for my $p (@$pats) {
                next unless defined $p;
                if (_line_matches($line, $p)) {
                    Test::More::pass("$name - pattern \"$p\" matches a line in $what (req $rep)");
                    undef $p;
                }
            }
        }
        for my $p (grep { defined } @$pats) {
            Test::More::fail("$name - pattern \"$p\" should match a line in $what (req $rep)");
        }
    }
    if (defined $must_not) {
        my $pats = _pattern_list($must_not);
        for my $p (@$pats) {
            my @hits = grep { _line_matches($lines->[$_], $p) } 0 .. $#$lines;
            if (@hits) {
                my $first = $lines->[$hits[0]];
                chomp $first;
                my $more = @hits > 1 ? sprintf(" (and %d more lines)", @hits - 1) : '';
                Test::More::fail("$name - pattern \"$p\" should not match any line in $what "
                    . "but matches line \"$first\"$more (req $rep)");
            } else {
                Test::More::pass("$name - pattern \"$p\" does not match a line in $what (req $rep)");
            }
        }
    }
}

sub check_error_log {
    my ($block, $res, $rep, $need_array) = @_;
    my $name = $block->name;
    my $lines;

    my $grep_pat = $block->grep_error_log;
    if (defined $grep_pat) {
        $grep_pat = $grep_pat->[$rep] if ref $grep_pat eq 'ARRAY';
        my $expected = $block->grep_error_log_out;
        bail_out("$name - No --- grep_error_log_out defined but --- grep_error_log is defined")
            unless defined $expected;
        $expected = $expected->[$rep] if ref $expected eq 'ARRAY';
        $lines ||= error_log_data();
        my $matched = '';
        for my $line (@$lines) {
            if (ref $grep_pat ? $line =~ /$grep_pat/ : $line =~ /\Q$grep_pat\E/) {
                my $m = $&;
                $matched .= "$m\n" if $m !~ /\n/;
            }
        }
        if (ref $expected eq 'Regexp') {
            Test::More::like($matched, $expected, "$name - grep_error_log_out (req $rep)");
        } else {
            is_str($matched, $expected, "$name - grep_error_log_out (req $rep)");
        }
    } elsif (defined $block->grep_error_log_out) {
        bail_out("$name - No --- grep_error_log defined but --- grep_error_log_out is defined");
    }

    if (defined $block->error_log || defined $block->no_error_log) {
        $lines ||= error_log_data();
        _check_log_patterns($block, 'error.log', $lines, scalar($block->error_log),
                            scalar($block->no_error_log), $rep);
    }

    $lines ||= error_log_data();
    my $wanted = join "\n", map { ref $_ eq 'ARRAY' ? @$_ : ($_ // '') }
        (scalar($block->error_log), scalar($block->no_error_log));
    for my $line (@$lines) {
        if ($line =~ /\bAssertion .*?failed\b/) {
            chomp $line;
            _extra_fail("$name - $line");
        } elsif ($line =~ /\bexited on signal (\d+)/ && $wanted !~ /exited on signal/) {
            chomp $line;
            _extra_fail("$name - an nginx process crashed: $line");
        } elsif ($line =~ /\[(alert|crit|emerg)\]/ && $wanted !~ /\[\Q$1\E/
                 && !($1 eq 'emerg' && defined $block->must_die)) {
            chomp(my $l = $line);
            warn "WARNING: $name - $l\n";
        }
    }
}

sub check_access_log {
    my ($block, $rep) = @_;
    return unless defined $block->access_log || defined $block->no_access_log;
    _check_log_patterns($block, 'access.log', access_log_data(),
                        scalar($block->access_log), scalar($block->no_access_log), $rep);
}

sub run_test_helper ($$) {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my $reqs = get_req_from_block($block);
    bail_out("$name - request empty") unless @$reqs;

    _curl_hint($block, $reqs->[0]) if defined $block->curl;

    my $timeout = parse_time($block->timeout) // $Timeout;
    my $middle_delay = parse_time($block->raw_request_middle_delay);
    my $n_pipelined = defined $block->pipelined_requests
        ? scalar @{ $block->pipelined_requests } : 0;
    my $need_array = $n_pipelined ? 1 : @$reqs > 1;
    my $idx = 0;
    my $res;

    for my $i (0 .. $#$reqs) {
        my ($raw, $head_req) = send_request($reqs->[$i], $middle_delay, $timeout, $block);
        $raw //= '';
        my $remaining = $n_pipelined;
        while (1) {
            my ($raw_headers, $left) = ('', undef);
            if (!defined $block->ignore_response) {
                if (defined $block->http09) {
                    $res = { code => 200, headers => [], content => $raw };
                } else {
                    ($res, $raw_headers, $left) = parse_response($name, $raw, $head_req);
                }
            }
            if ($remaining) {
                $raw = $left // '';
                $remaining--;
            } elsif (defined $left && length $left) {
                (my $l = $left) =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                warn "WARNING: $name - unexpected extra bytes after the response: \"$l\"\n";
            }
            if (!defined $block->ignore_response) {
                check_error_code($block, $res, $idx, $need_array);
                check_raw_response_headers($block, $raw_headers, $idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $idx, $need_array);
                _transform_body($block, $res, $idx);
                check_response_body($block, $res, $idx, $rep, $need_array);
            }
            my $last = !$remaining && $i == $#$reqs;
            if (!$last) {
                sleep parse_time($block->wait) if $block->wait;
                check_error_log($block, $res, $rep, $need_array);
                check_access_log($block, $rep) unless defined $block->ignore_response;
            }
            $idx++;
            last unless $remaining;
        }
    }

    sleep parse_time($block->wait) if $block->wait;
    check_error_log($block, $res, $rep, $need_array);
    check_access_log($block, $rep) unless defined $block->ignore_response;
}

1;
