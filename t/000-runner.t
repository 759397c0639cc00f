# Exercises the Test::Nginx runner itself with stock nginx directives only,
# so a broken runner (request building, response parsing, chunked decoding,
# log checks, multi-request blocks) fails here before it hides bugs in the
# Nexus suites. Valid for the real Test::Nginx too.
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: return, default status check, exact body
--- config
    location = /hello {
        return 200 "hello, world\n";
    }
--- request
GET /hello
--- response_body
hello, world



=== TEST 2: default request headers: Host localhost, Connection close, HTTP/1.1
--- config
    location = /t {
        return 200 "host=$host conn=$http_connection proto=$server_protocol method=$request_method\n";
    }
--- request
    GET /t
--- response_body
host=localhost conn=close proto=HTTP/1.1 method=GET



=== TEST 3: add_header; present, absent and pattern header checks
--- config
    location = /h {
        add_header X-Nexus-Test "abc 123";
        add_header Cache-Control "no-store";
        return 200 "ok";
    }
--- request
GET /h
--- response_headers
X-Nexus-Test: abc 123
Cache-Control: no-store
Content-Length: 2
!X-Not-There
--- response_body chomp
ok



=== TEST 4: response_headers_like is anchored and a regex
--- config
    location = /h {
        add_header X-Request-Id $request_id;
        return 204;
    }
--- request
GET /h
--- response_headers_like
X-Request-Id: [0-9a-f]{32}
Server: nginx.*
--- error_code: 204
--- response_body



=== TEST 5: non-200 status and response_body_like
--- config
    location = /missing {
        return 404 "no such thing: $uri\n";
    }
--- request
GET /missing?x=1
--- error_code: 404
--- response_body_like: ^no such thing: /missing$



=== TEST 6: several requests in one block, each checked against its element
--- config
    location /r/ {
        return 200 "uri=$uri args=$args\n";
    }
    location = /gone {
        return 410;
    }
--- request eval
["GET /r/a?x=1", "GET /gone", "GET /r/b"]
--- error_code eval
[200, 410, 200]
--- response_body_like eval
["^uri=/r/a args=x=1\$", "410 Gone", "^uri=/r/b args=\$"]



=== TEST 7: POST body is trimmed and gets a Content-Length (read by proxy_pass)
--- config
    location = /echo {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/show;
        proxy_set_header X-Body $request_body;
        proxy_set_header X-Len $http_content_length;
    }
    location = /show {
        return 200 "len=$http_x_len body=[$http_x_body]\n";
    }
--- request
POST /echo
hello body
--- response_body
len=10 body=[hello body]



=== TEST 8: request eval with escapes, more_headers, explicit Content-Length kept
--- config
    location = /echo {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/show;
        proxy_set_header X-Body $request_body;
    }
    location = /show {
        return 200 "foo=$http_x_foo type=$http_content_type body=[$http_x_body]\n";
    }
--- more_headers
X-Foo: bar baz
Content-Type: application/json
--- request eval
"POST /echo\n{\"a\":1}"
--- response_body
foo=bar baz type=application/json body=[{"a":1}]



=== TEST 9: chunked response is decoded (sub_filter drops Content-Length)
--- config
    location = /chunked {
        sub_filter_types text/plain;
        sub_filter 'world' 'nexus';
        return 200 "hello, world\n";
    }
--- request
GET /chunked
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body
hello, nexus



=== TEST 10: pipelined requests on one keep-alive connection
--- config
    location /p/ {
        return 200 "$uri\n";
    }
--- pipelined_requests eval
["GET /p/one", "GET /p/two", "GET /p/three"]
--- response_body eval
["/p/one\n", "/p/two\n", "/p/three\n"]



=== TEST 11: raw_request is sent verbatim (HTTP/1.0, no Host)
--- config
    location = /raw {
        return 200 "proto=$server_protocol host=[$http_host]\n";
    }
--- raw_request eval
"GET /raw HTTP/1.0\r\n\r\n"
--- response_body
proto=HTTP/1.0 host=[]



=== TEST 12: raw_request split in packets with a delay
--- config
    location = /raw {
        return 200 "x=$http_x\n";
    }
--- raw_request eval
["GET /raw HTTP/1.1\r\nHost: a\r\n", {value => "X: split\r\nConnection: close\r\n\r\n", delay_before => 0.05}]
--- response_body
x=split



=== TEST 13: error_log and no_error_log read this block's error.log
--- config
    location /files/ {
        alias $TEST_NGINX_SERVER_ROOT/html/;
    }
--- request
GET /files/nope.html
--- error_code: 404
--- error_log
No such file or directory
nope.html
--- no_error_log
[crit]
[alert]



=== TEST 14: grep_error_log collects the matches
--- config
    location /files/ {
        alias $TEST_NGINX_SERVER_ROOT/html/;
    }
--- request
GET /files/nope2.html
--- error_code: 404
--- grep_error_log eval
qr/failed \(2: No such file or directory\)/
--- grep_error_log_out
failed (2: No such file or directory)



=== TEST 15: the root location serves html/ and HEAD has no body
--- config
--- request
HEAD /index.html
--- response_headers
Content-Type: text/html
Content-Length: 72
--- response_body



=== TEST 16: a block without --- config reuses the previous one
--- request
GET /index.html
--- response_body_like: It works!



=== TEST 17: init runs Perl before the requests (html_dir is callable there)
--- config
--- init
my $dir = html_dir();
open my $fh, '>', "$dir/from-init.txt" or die "cannot write: $!";
print $fh "written by init\n";
close $fh;
--- request
GET /from-init.txt
--- response_body
written by init



=== TEST 18: user_files land in html/
--- config
--- user_files
>>> a/b.txt
file body
--- request
GET /a/b.txt
--- response_body
file body



=== TEST 19: must_die: a bad config must make nginx exit
--- config
    location = /t {
        return a b c;
    }
--- must_die
--- error_log
invalid number of arguments in "return" directive



=== TEST 20: timeout with abort is not a failure
--- config
    location = /slow {
        limit_rate 1;
        return 200 "this takes many seconds at one byte per second";
    }
--- request
GET /slow
--- timeout: 200ms
--- abort
--- ignore_response



=== TEST 21: skip_eval skips the given number of subtests
--- config
    location = /t { return 500; }
--- request
GET /t
--- skip_eval: 2: 1
--- response_body
never checked



=== TEST 22: main_config and http_config land at the right levels
--- main_config
    env NEXUS_RUNNER_T=42;
--- http_config
    map $uri $nexus_flag {
        default  "plain";
        /mapped  "mapped";
    }
--- config
    location = /mapped {
        return 200 "flag=$nexus_flag\n";
    }
--- request
GET /mapped
--- response_body
flag=mapped



=== TEST 23: comments before the request line, HTTP/1.0 request line
--- config
    location = /c {
        return 200 "$server_protocol $arg_a\n";
    }
--- request
# a comment line
GET /c?a=7 HTTP/1.0
--- response_body
HTTP/1.0 7
