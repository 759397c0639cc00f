# Inventory: single stock adjustments and bulk updates through the seller
# API, each one a ledger row with who and why; bulk updates are all or
# nothing with every bad item named; low-stock thresholds (variant, else
# store) and the one outbox event per downward crossing; the low-stock list
# and the ledger, paged; other stores' variants and SKUs are not found;
# concurrent decrements never oversell; stock reaches shoppers through the
# cached catalog; and the ledger invariant (nexus_stock_verify) holds after
# all of it.
#
# Users are signed in without a log-in (Nexus::Test::access_tokens). Blocks
# share the database and run in order.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Nexus::Test;
use JSON::PP ();

Nexus::Test::ctl_server();
Nexus::Test::reset_fixture();
END { Nexus::Test::reset_fixture() if $ENV{NEXUS_TEST_PG_PORT} }

our %Tok = Nexus::Test::access_tokens(alice => 1, bob => 2, carol => 3,
    erin => 5);

# JSON answers as canonical JSON (sorted keys) without timestamps, so a
# block states the whole document; anything else as it is
sub main::canon {
    my ($body) = @_;
    my $d = eval { JSON::PP::decode_json($body) } // return $body;
    my $strip;
    $strip = sub {
        my ($x) = @_;
        if (ref $x eq 'HASH') {
            delete $x->{created_at};
            $strip->($_) for values %$x;
        } elsif (ref $x eq 'ARRAY') {
            $strip->($_) for @$x;
        }
    };
    $strip->($d);
    return JSON::PP->new->canonical->encode($d) . "\n";
}

# lists one item a line: low-stock variants, ledger movements, products
sub main::list {
    my ($body) = @_;
    my $d = eval { JSON::PP::decode_json($body) } // return $body;
    return main::canon($body) unless ref $d eq 'HASH';
    if (ref $d->{variants} eq 'ARRAY') {
        return "product $d->{slug} in_stock=" . ($d->{in_stock} ? 1 : 0) . ' '
             . join(',', map { "$_->{sku}:$_->{stock}" } @{$d->{variants}}) . "\n";
    }
    return main::canon($body) unless ref $d->{items} eq 'ARRAY'
        && !grep { !exists $_->{threshold_from} && !exists $_->{reason}
                   && !exists $_->{slug} } @{$d->{items}};
    my @out;
    for my $i (@{$d->{items}}) {
        if (exists $i->{threshold_from}) {
            push @out, "low $i->{id} $i->{sku} $i->{stock}/$i->{threshold}"
                . " $i->{threshold_from} $i->{product}{slug} $i->{store}{slug}";
        } elsif (exists $i->{reason}) {
            push @out, "mv $i->{id} $i->{variant_id} $i->{sku} $i->{delta}"
                . " $i->{stock_after} $i->{reason} " . ($i->{actor_user_id} // '-')
                . ' ' . ($i->{note} // '-');
        } else {
            push @out, "$i->{slug} in_stock=" . ($i->{in_stock} ? 1 : 0);
        }
    }
    return join('', map { "$_\n" } @out)
        . (exists $d->{next_cursor} ? 'next: ' . ($d->{next_cursor} // 'null') . "\n" : '');
}

# a /_ctl/bg request: n clients POSTing body to path as user who
sub main::bg {
    my ($n, $who, $path, $body) = @_;
    my $esc = sub { my $s = shift; $s =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge; $s };
    return "GET /_ctl/bg?n=$n&method=POST&path=" . $esc->($path)
         . '&body=' . $esc->($body)
         . '&hdr=' . $esc->("Authorization: Bearer $main::Tok{$who}");
}

# the ledger of some variants (after a movement id), one movement a line
sub main::ledger {
    my ($ids, $after) = @_;
    return "POST /_ctl/sql\nSELECT variant_id, delta, stock_after, reason,"
         . " coalesce(actor_user_id::text, '-'), coalesce(note, '-')"
         . " FROM stock_movements WHERE variant_id IN ($ids)"
         . ($after ? " AND id > $after" : '')
         . " ORDER BY id";
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_') unless defined $block->http_config;
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem;
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

    $block->set_value("response_body_filters", \&main::canon)
        unless defined $block->response_body_filters;

    Nexus::Test::expand_who($block, \%main::Tok);
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: single adjustments by the owner and by staff: delta and set, each a ledger row with actor, reason and note
--- request eval
['[bob] POST /api/seller/variants/1/stock
{"delta": -3, "reason": "sold", "note": "counter sale"}',
 '[erin] POST /api/seller/variants/1/stock
{"set": 12, "reason": "received", "note": "delivery #7"}',
 '[bob] POST /api/seller/variants/1/stock
{"delta": 5, "reason": "returned"}',
 '[bob] POST /api/seller/variants/1/stock
{"set": 17, "reason": "adjusted"}',
 main::ledger(1)]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body eval
['{"low_stock":false,"low_stock_threshold":null,"movement":{"actor_user_id":2,"delta":-3,"id":15,"note":"counter sale","order_id":null,"reason":"sold","sku":"ACME-TEE-S","stock_after":7,"variant_id":1},"product_id":1,"sku":"ACME-TEE-S","stock":7,"store_id":1,"threshold":5,"variant_id":1}
',
 '{"low_stock":false,"low_stock_threshold":null,"movement":{"actor_user_id":5,"delta":5,"id":16,"note":"delivery #7","order_id":null,"reason":"received","sku":"ACME-TEE-S","stock_after":12,"variant_id":1},"product_id":1,"sku":"ACME-TEE-S","stock":12,"store_id":1,"threshold":5,"variant_id":1}
',
 '{"low_stock":false,"low_stock_threshold":null,"movement":{"actor_user_id":2,"delta":5,"id":17,"note":null,"order_id":null,"reason":"returned","sku":"ACME-TEE-S","stock_after":17,"variant_id":1},"product_id":1,"sku":"ACME-TEE-S","stock":17,"store_id":1,"threshold":5,"variant_id":1}
',
 '{"low_stock":false,"low_stock_threshold":null,"movement":null,"product_id":1,"sku":"ACME-TEE-S","stock":17,"store_id":1,"threshold":5,"variant_id":1}
',
 "1|10|10|received|-|-
1|-3|7|sold|2|counter sale
1|5|12|received|5|delivery #7
1|5|17|returned|2|-
"]
--- no_error_log
[error]
[alert]



=== TEST 2: single adjustment rejections: other stores' and unknown variants are 404, a customer 403, bad bodies 422, an oversell 409; nothing changes
--- request eval
['[carol] POST /api/seller/variants/1/stock
{"delta": -1, "reason": "sold"}',
 '[bob] POST /api/seller/variants/5/stock
{"delta": -1, "reason": "sold"}',
 '[erin] POST /api/seller/variants/14/stock
{"delta": 1, "reason": "received"}',
 '[bob] POST /api/seller/variants/abc/stock
{"delta": 1, "reason": "received"}',
 '[bob] POST /api/seller/variants/999/stock
{"delta": 1, "reason": "received"}',
 '[alice] POST /api/seller/variants/1/stock
{"delta": 1, "reason": "received"}',
 '[bob] POST /api/seller/variants/1/stock
{"delta": 1, "set": 3, "reason": "adjusted"}',
 '[bob] POST /api/seller/variants/1/stock
{"reason": "adjusted"}',
 '[bob] POST /api/seller/variants/1/stock
{"delta": 0, "reason": "adjusted"}',
 '[bob] POST /api/seller/variants/1/stock
{"delta": 2, "reason": "sold"}',
 '[bob] POST /api/seller/variants/1/stock
{"set": 1, "reason": "received"}',
 '[bob] POST /api/seller/variants/1/stock
{"delta": -18, "reason": "sold"}',
 '[bob] POST /api/seller/variants/1/stock
{"delta": "-1", "reason": "gift", "note": "", "why": 1}',
 '[bob] POST /api/seller/variants/1/stock
{"set": -1}',
 '[bob] POST /api/seller/variants/1/stock
{"delta": 2000000000, "reason": "received"}',
 main::ledger(1)]
--- error_code eval
[404, 404, 404, 404, 404, 403, 422, 422, 422, 422, 422, 409, 422, 422, 422, 200]
--- response_body eval
[('{"code":"not_found","detail":"No such variant in your stores.","status":404,"title":"Not Found","type":"https://nexus.dev/problems/not_found"}
') x 5,
 '{"code":"forbidden","detail":"This needs a seller account: staff of an active store.","status":403,"title":"Forbidden","type":"https://nexus.dev/problems/forbidden"}
',
 '{"code":"invalid_body","detail":"Give either delta or set.","invalid_params":[{"name":"delta","reason":"give either delta or set"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"Give either delta or set.","invalid_params":[{"name":"delta","reason":"give either delta or set"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"A delta of 0 changes nothing.","invalid_params":[{"name":"delta","reason":"must not be 0"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"The reason does not fit the change.","invalid_params":[{"name":"reason","reason":"must be received, returned or adjusted when stock goes up"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"The reason does not fit the change.","invalid_params":[{"name":"reason","reason":"must be adjusted or sold when stock goes down"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"insufficient_stock","detail":"Not enough stock for this decrement.","status":409,"stock":17,"title":"Conflict","type":"https://nexus.dev/problems/insufficient_stock"}
',
 '{"code":"invalid_body","detail":"Some fields are missing or invalid; see invalid_params.","invalid_params":[{"name":"why","reason":"is not a known field"},{"name":"delta","reason":"must be an integer"},{"name":"reason","reason":"is not one of the allowed values"},{"name":"note","reason":"must not be empty"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"Some fields are missing or invalid; see invalid_params.","invalid_params":[{"name":"set","reason":"is out of range"},{"name":"reason","reason":"is required"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"Some fields are missing or invalid; see invalid_params.","invalid_params":[{"name":"delta","reason":"is out of range"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 "1|10|10|received|-|-
1|-3|7|sold|2|counter sale
1|5|12|received|5|delivery #7
1|5|17|returned|2|-
"]
--- no_error_log
[error]
[alert]



=== TEST 3: bulk update sets quantities: one statement, ledger rows only for the SKUs that change, staff may do it
--- request eval
['[bob] POST /api/seller/stock
{"items": [{"sku": "ACME-TEE-S", "quantity": 4}, {"sku": "ACME-TEE-M", "quantity": 5},
           {"sku": "ACME-USB-1", "quantity": 150}], "note": "stocktake"}',
 '[erin] POST /api/seller/stock
{"items": [{"sku": "ACME-TEE-L", "quantity": 9}], "reason": "received"}',
 main::ledger('1,2,3,10', 17)]
--- error_code eval
[200, 200, 200]
--- response_body eval
['{"changed":2,"items":[{"delta":-13,"previous":17,"sku":"ACME-TEE-S","stock":4,"variant_id":1},{"delta":0,"previous":5,"sku":"ACME-TEE-M","stock":5,"variant_id":2},{"delta":50,"previous":100,"sku":"ACME-USB-1","stock":150,"variant_id":10}]}
',
 '{"changed":1,"items":[{"delta":9,"previous":0,"sku":"ACME-TEE-L","stock":9,"variant_id":3}]}
',
 "1|-13|4|adjusted|2|stocktake
10|50|150|adjusted|2|stocktake
3|9|9|received|5|-
"]
--- no_error_log
[error]
[alert]



=== TEST 4: bulk update is all or nothing: every bad item is named (unknown, another store's, duplicate, negative, missing, not an integer, not an object, unknown member) and nothing changes, not even the good items; at most 1000 items
--- request eval
['[bob] POST /api/seller/stock
{"items": [{"sku": "ACME-TEE-S", "quantity": 1}, {"sku": "GLX-OXF-1", "quantity": 3},
           {"sku": "NOPE-1", "quantity": 1}, {"sku": "ACME-TEE-S", "quantity": 2},
           {"sku": "ACME-RUN-42", "quantity": -1}, {"sku": "ACME-RUN-43"},
           {"quantity": 1}, {"sku": "ACME-CAFE-1", "quantity": 1.5}, 7,
           {"sku": "ACME-OCT-1", "quantity": 1, "x": 1}, {"sku": 5, "quantity": "2"},
           {"sku": "SHADY-1", "quantity": 1}]}',
 '[carol] POST /api/seller/stock
{"items": [{"sku": "GLX-OXF-1", "quantity": 3}, {"sku": "ACME-TEE-S", "quantity": 0}]}',
 '[bob] POST /api/seller/stock
{"items": [{"sku": "ACME-TEE-S", "quantity": 1}], "reason": "received"}',
 '[bob] POST /api/seller/stock
{"items": [], "reason": "sold"}',
 '[bob] POST /api/seller/stock
{"items": {"sku": "ACME-TEE-S"}}',
 '[alice] POST /api/seller/stock
{"items": [{"sku": "ACME-TEE-S", "quantity": 1}]}',
 "[bob] POST /api/seller/stock\n{\"items\": [" . CORE::join(',', ('{}') x 1001) . ']}',
 "POST /_ctl/sql\nSELECT string_agg(sku || '=' || stock, ' ' ORDER BY id) FROM product_variants WHERE id IN (1, 5, 6, 7, 4, 14, 15); SELECT count(*) FROM stock_movements"]
--- error_code eval
[422, 422, 422, 422, 422, 403, 422, 200]
--- response_body eval
['{"code":"invalid_body","detail":"Some items are invalid; see invalid_params. Nothing was changed.","invalid_params":[{"name":"items[1].sku","reason":"is not a SKU of your stores"},{"name":"items[2].sku","reason":"is not a SKU of your stores"},{"name":"items[3].sku","reason":"is a duplicate of items[0]"},{"name":"items[4].quantity","reason":"must not be negative"},{"name":"items[5].quantity","reason":"is required"},{"name":"items[6].sku","reason":"is required"},{"name":"items[7].quantity","reason":"must be an integer"},{"name":"items[8]","reason":"must be an object"},{"name":"items[9].x","reason":"is not a known field"},{"name":"items[10].sku","reason":"must be a string"},{"name":"items[10].quantity","reason":"must be an integer"},{"name":"items[11].sku","reason":"is not a SKU of your stores"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"Some items are invalid; see invalid_params. Nothing was changed.","invalid_params":[{"name":"items[1].sku","reason":"is not a SKU of your stores"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"Some items are invalid; see invalid_params. Nothing was changed.","invalid_params":[{"name":"items[0].quantity","reason":"must be adjusted or sold when stock goes down"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"Some fields are missing or invalid; see invalid_params.","invalid_params":[{"name":"items","reason":"must not be empty"},{"name":"reason","reason":"is not one of the allowed values"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"Some fields are missing or invalid; see invalid_params.","invalid_params":[{"name":"items","reason":"must be an array"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"forbidden","detail":"This needs a seller account: staff of an active store.","status":403,"title":"Forbidden","type":"https://nexus.dev/problems/forbidden"}
',
 '{"code":"invalid_body","detail":"Some fields are missing or invalid; see invalid_params.","invalid_params":[{"name":"items","reason":"has too many elements"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 "ACME-TEE-S=4 ACME-OCT-1=20 GLX-OXF-1=7 ACME-RUN-42=3 ACME-RUN-43=2 SHADY-1=50 ACME-CAFE-1=8
20
"]
--- no_error_log
[error]
[alert]



=== TEST 5: crossing the threshold downward writes ONE inventory.low_stock event in the same transaction; further decrements while low write none; going back above re-arms; a refused bulk update writes none
--- request eval
["POST /_ctl/sql\nDELETE FROM outbox WHERE topic = 'inventory.low_stock'",
 '[bob] POST /api/seller/variants/4/stock
{"delta": -14, "reason": "sold"}',
 '[bob] POST /api/seller/variants/4/stock
{"delta": -1, "reason": "sold"}',
 '[erin] POST /api/seller/variants/4/stock
{"delta": -1, "reason": "sold"}',
 '[bob] POST /api/seller/stock
{"items": [{"sku": "ACME-OCT-1", "quantity": 10}], "reason": "received"}',
 '[bob] POST /api/seller/stock
{"items": [{"sku": "ACME-RUN-43", "quantity": 0}, {"sku": "ACME-OCT-1", "quantity": 3}]}',
 '[bob] POST /api/seller/stock
{"items": [{"sku": "ACME-USB-1", "quantity": 1}, {"sku": "GLX-WH-1", "quantity": 1}]}',
 "POST /_ctl/sql\nSELECT payload::text FROM outbox WHERE topic = 'inventory.low_stock' ORDER BY id"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 422, 200]
--- response_body_like eval
['^$',
 '"low_stock":false,.*"stock":6,', '"low_stock":true,.*"stock":5,',
 '"low_stock":true,.*"stock":4,', '"changed":1,', '"changed":2,',
 '"name":"items\[1\]\.sku","reason":"is not a SKU of your stores"',
 '^\{"sku": "ACME-OCT-1", "stock": 5, "threshold": 5, "vendor_id": 1, "product_id": 2, "variant_id": 4\}
\{"sku": "ACME-OCT-1", "stock": 3, "threshold": 5, "vendor_id": 1, "product_id": 2, "variant_id": 4\}
$']
--- no_error_log
[error]
[alert]



=== TEST 6: thresholds: a variant's own, null for the store's, the store default; only the caller's stores and variants; the event uses the effective threshold
--- request eval
['[bob] PATCH /api/seller/variants/4/inventory
{"low_stock_threshold": 2}',
 '[bob] POST /api/seller/variants/4/stock
{"delta": -1, "reason": "sold"}',
 '[erin] PATCH /api/seller/variants/4/inventory
{"low_stock_threshold": null}',
 '[bob] PATCH /api/seller/stores/1/inventory
{"low_stock_threshold": 1}',
 '[bob] POST /api/seller/variants/4/stock
{"delta": -1, "reason": "sold"}',
 '[carol] PATCH /api/seller/stores/1/inventory
{"low_stock_threshold": 3}',
 '[erin] PATCH /api/seller/stores/2/inventory
{"low_stock_threshold": 3}',
 '[bob] PATCH /api/seller/stores/x/inventory
{"low_stock_threshold": 3}',
 '[bob] PATCH /api/seller/variants/5/inventory
{"low_stock_threshold": 3}',
 '[bob] PATCH /api/seller/variants/4/inventory
{}',
 '[bob] PATCH /api/seller/stores/1/inventory
{"low_stock_threshold": -1}',
 '[bob] PATCH /api/seller/stores/1/inventory
{}',
 '[bob] PATCH /api/seller/variants/4/inventory
{"low_stock_threshold": "2"}',
 "POST /_ctl/sql\nSELECT payload->>'sku', payload->>'stock', payload->>'threshold' FROM outbox WHERE topic = 'inventory.low_stock' ORDER BY id; SELECT id, low_stock_threshold FROM vendors ORDER BY id",
 '[bob] PATCH /api/seller/stores/1/inventory
{"low_stock_threshold": 5}']
--- error_code eval
[200, 200, 200, 200, 200, 404, 404, 404, 404, 422, 422, 422, 422, 200, 200]
--- response_body eval
['{"low_stock":false,"low_stock_threshold":2,"product_id":2,"sku":"ACME-OCT-1","stock":3,"store_id":1,"threshold":2,"variant_id":4}
',
 '{"low_stock":true,"low_stock_threshold":2,"movement":{"actor_user_id":2,"delta":-1,"id":27,"note":null,"order_id":null,"reason":"sold","sku":"ACME-OCT-1","stock_after":2,"variant_id":4},"product_id":2,"sku":"ACME-OCT-1","stock":2,"store_id":1,"threshold":2,"variant_id":4}
',
 '{"low_stock":true,"low_stock_threshold":null,"product_id":2,"sku":"ACME-OCT-1","stock":2,"store_id":1,"threshold":5,"variant_id":4}
',
 '{"low_stock_threshold":1,"store_id":1}
',
 '{"low_stock":true,"low_stock_threshold":null,"movement":{"actor_user_id":2,"delta":-1,"id":28,"note":null,"order_id":null,"reason":"sold","sku":"ACME-OCT-1","stock_after":1,"variant_id":4},"product_id":2,"sku":"ACME-OCT-1","stock":1,"store_id":1,"threshold":1,"variant_id":4}
',
 ('{"code":"not_found","detail":"No such store.","status":404,"title":"Not Found","type":"https://nexus.dev/problems/not_found"}
') x 3,
 '{"code":"not_found","detail":"No such variant in your stores.","status":404,"title":"Not Found","type":"https://nexus.dev/problems/not_found"}
',
 '{"code":"invalid_body","detail":"Some fields are missing or invalid; see invalid_params.","invalid_params":[{"name":"low_stock_threshold","reason":"is required (null: the store\'s)"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"Some fields are missing or invalid; see invalid_params.","invalid_params":[{"name":"low_stock_threshold","reason":"is out of range"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"Some fields are missing or invalid; see invalid_params.","invalid_params":[{"name":"low_stock_threshold","reason":"is required"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 '{"code":"invalid_body","detail":"Some fields are missing or invalid; see invalid_params.","invalid_params":[{"name":"low_stock_threshold","reason":"must be an integer"}],"status":422,"title":"Unprocessable Content","type":"https://nexus.dev/problems/invalid_body"}
',
 "ACME-OCT-1|5|5
ACME-OCT-1|3|5
ACME-OCT-1|2|2
ACME-OCT-1|1|1
1|1
2|5
3|5
",
 '{"low_stock_threshold":5,"store_id":1}
']
--- no_error_log
[error]
[alert]



=== TEST 7: the low-stock list: the caller's variants at or below their threshold (own or store's), newest first, keyset paged; filtered by store; other stores never show
--- response_body_filters eval
\&main::list
--- request eval
['[bob] GET /api/seller/stock/low?limit=3',
 '[bob] GET /api/seller/stock/low?limit=3&cursor=12',
 '[bob] GET /api/seller/stock/low?limit=3&cursor=4',
 '[erin] PATCH /api/seller/variants/6/inventory
{"low_stock_threshold": 2}',
 '[erin] GET /api/seller/stock/low?store=1',
 '[carol] GET /api/seller/stock/low',
 '[bob] GET /api/seller/stock/low?store=2',
 '[bob] GET /api/seller/stock/low?store=x',
 '[alice] GET /api/seller/stock/low']
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 400, 403]
--- response_body eval
["low 16 ACME-CAP-1 5/5 store no-variant-cap acme
low 13 ACME-HOOD-1 3/5 store draft-hoodie acme
low 12 ACME-JKT-1 3/5 store archived-jacket acme
next: 12
",
 "low 7 ACME-RUN-43 0/5 store running-shoe acme
low 6 ACME-RUN-42 3/5 store running-shoe acme
low 4 ACME-OCT-1 1/5 store organic-cotton-tee acme
next: 4
",
 "low 2 ACME-TEE-M 5/5 store classic-tee acme
low 1 ACME-TEE-S 4/5 store classic-tee acme
next: null
",
 '{"low_stock":false,"low_stock_threshold":2,"product_id":4,"sku":"ACME-RUN-42","stock":3,"store_id":1,"threshold":2,"variant_id":6}
',
 "low 16 ACME-CAP-1 5/5 store no-variant-cap acme
low 13 ACME-HOOD-1 3/5 store draft-hoodie acme
low 12 ACME-JKT-1 3/5 store archived-jacket acme
low 7 ACME-RUN-43 0/5 store running-shoe acme
low 4 ACME-OCT-1 1/5 store organic-cotton-tee acme
low 2 ACME-TEE-M 5/5 store classic-tee acme
low 1 ACME-TEE-S 4/5 store classic-tee acme
next: null
",
 "low 11 GLX-SW-1 4/5 store smart-watch globex
low 8 GLX-BOOT-1 0/5 store leather-boot globex
next: null
",
 "next: null
",
 '{"code":"invalid_parameter","detail":"Parameter \"store\" must be a store id.","status":400,"title":"Bad Request","type":"https://nexus.dev/problems/invalid_parameter"}
',
 '{"code":"forbidden","detail":"This needs a seller account: staff of an active store.","status":403,"title":"Forbidden","type":"https://nexus.dev/problems/forbidden"}
']
--- no_error_log
[error]
[alert]



=== TEST 8: the ledger: one variant's movements newest first, keyset paged; all of the caller's stores; another store's variant is 404
--- response_body_filters eval
\&main::list
--- request eval
['[bob] GET /api/seller/stock/movements?variant=4&limit=3',
 '[erin] GET /api/seller/stock/movements?variant=4&limit=3&cursor=25',
 '[bob] GET /api/seller/stock/movements?variant=4&limit=3&cursor=22',
 '[bob] GET /api/seller/stock/movements?limit=2',
 '[carol] GET /api/seller/stock/movements',
 '[carol] GET /api/seller/stock/movements?variant=4',
 '[bob] GET /api/seller/stock/movements?variant=5',
 '[bob] GET /api/seller/stock/movements?variant=abc',
 '[alice] GET /api/seller/stock/movements?variant=4']
--- error_code eval
[200, 200, 200, 200, 200, 404, 404, 404, 403]
--- response_body eval
["mv 28 4 ACME-OCT-1 -1 1 sold 2 -
mv 27 4 ACME-OCT-1 -1 2 sold 2 -
mv 25 4 ACME-OCT-1 -7 3 adjusted 2 -
next: 25
",
 "mv 24 4 ACME-OCT-1 6 10 received 2 -
mv 23 4 ACME-OCT-1 -1 4 sold 5 -
mv 22 4 ACME-OCT-1 -1 5 sold 2 -
next: 22
",
 "mv 21 4 ACME-OCT-1 -14 6 sold 2 -
mv 3 4 ACME-OCT-1 20 20 received - -
next: null
",
 "mv 28 4 ACME-OCT-1 -1 1 sold 2 -
mv 27 4 ACME-OCT-1 -1 2 sold 2 -
next: 27
",
 "mv 9 11 GLX-SW-1 4 4 received - -
mv 7 9 GLX-WH-1 15 15 received - -
mv 4 5 GLX-OXF-1 7 7 received - -
next: null
",
 ('{"code":"not_found","detail":"No such variant in your stores.","status":404,"title":"Not Found","type":"https://nexus.dev/problems/not_found"}
') x 3,
 '{"code":"forbidden","detail":"This needs a seller account: staff of an active store.","status":403,"title":"Forbidden","type":"https://nexus.dev/problems/forbidden"}
']
--- no_error_log
[error]
[alert]



=== TEST 9: never oversell: 20 concurrent decrements of a variant with stock 10 through the API: exactly 10 succeed, stock 0, 10 ledger rows, one low-stock event
--- request eval
['[bob] POST /api/seller/stock
{"items": [{"sku": "ACME-USB-1", "quantity": 10}]}',
 main::bg(20, 'bob', '/api/seller/variants/10/stock',
          '{"delta": -1, "reason": "sold", "note": "rush"}'),
 "GET /_ctl/bg_wait",
 "POST /_ctl/sql\nSELECT stock FROM product_variants WHERE id = 10; SELECT count(*), sum(delta), min(stock_after), max(stock_after), count(DISTINCT stock_after) FROM stock_movements WHERE variant_id = 10 AND note = 'rush'; SELECT count(*) FROM outbox WHERE topic = 'inventory.low_stock' AND payload->>'sku' = 'ACME-USB-1'; SELECT count(*) FROM nexus_stock_verify()"]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
['{"changed":1,"items":[{"delta":-140,"previous":150,"sku":"ACME-USB-1","stock":10,"variant_id":10}]}
',
 "ok\n",
 "200 200 200 200 200 200 200 200 200 200 409 409 409 409 409 409 409 409 409 409\n",
 "0
10|-10|0|9|10
1
0
"]
--- timeout: 20
--- no_error_log
[error]
[alert]



=== TEST 10: stock reaches shoppers through the cached catalog: in_stock in the product document and the listing follows every change, with nexus_cache on
--- http_config
    nexus_postgres "host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_PG_USER";
    nexus_jwt_key ed1 EdDSA file:$TEST_NGINX_KEYS/ed25519.pem;
    nexus_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/ {
        nexus_api;
        nexus_cache on;
        nexus_cache_ttl 60s;
    }
    location /_ctl/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT;
        proxy_set_header X-Nginx-Port $server_port;
    }
--- init
Nexus::Test::redis_flush(); Time::HiRes::sleep(0.4);
--- response_body_filters eval
\&main::list
--- request eval
['GET /api/products/usb-c-cable',
 'GET /api/products/usb-c-cable',
 'GET /api/products?category=electronics&sort=price',
 'GET /api/products?category=electronics&sort=price',
 '[bob] POST /api/seller/variants/10/stock
{"delta": 3, "reason": "received"}',
 'GET /_ctl/sleep?s=0.3',
 'GET /api/products/usb-c-cable',
 'GET /api/products?category=electronics&sort=price',
 'GET /api/products?category=electronics&in_stock=true&sort=price',
 '[erin] POST /api/seller/stock
{"items": [{"sku": "ACME-USB-1", "quantity": 0}]}',
 'GET /_ctl/sleep?s=0.3',
 'GET /api/products/usb-c-cable',
 'GET /api/products?category=electronics&in_stock=true&sort=price']
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_headers eval
['X-Cache: MISS', 'X-Cache: HIT', 'X-Cache: MISS', 'X-Cache: HIT', '', '',
 'X-Cache: MISS', 'X-Cache: MISS', 'X-Cache: MISS', '', '',
 'X-Cache: MISS', 'X-Cache: MISS']
--- response_body eval
["product usb-c-cable in_stock=0 ACME-USB-1:0\n",
 "product usb-c-cable in_stock=0 ACME-USB-1:0\n",
 "usb-c-cable in_stock=0\nwireless-headphones in_stock=1\nsmart-watch in_stock=1\nnext: null\n",
 "usb-c-cable in_stock=0\nwireless-headphones in_stock=1\nsmart-watch in_stock=1\nnext: null\n",
 qr/"stock":3,/,
 "ok\n",
 "product usb-c-cable in_stock=1 ACME-USB-1:3\n",
 "usb-c-cable in_stock=1\nwireless-headphones in_stock=1\nsmart-watch in_stock=1\nnext: null\n",
 "usb-c-cable in_stock=1\nwireless-headphones in_stock=1\nsmart-watch in_stock=1\nnext: null\n",
 qr/"changed":1,/,
 "ok\n",
 "product usb-c-cable in_stock=0 ACME-USB-1:0\n",
 "wireless-headphones in_stock=1\nsmart-watch in_stock=1\nnext: null\n"]
--- no_error_log
[error]
[alert]



=== TEST 11: the ledger invariant: nexus_stock_verify() is empty after all of the above; a movement inserted in SQL moves the stock; a stock change that bypasses the ledger is found
--- request eval
["POST /_ctl/sql\nSELECT count(*) FROM nexus_stock_verify(); SELECT count(*) FROM stock_movements",
 "POST /_ctl/sql\nSELECT set_config('nexus.actor_user_id', '2', false) \\g /dev/null\nINSERT INTO stock_movements (variant_id, delta, reason, note) VALUES (2, 3, 'returned', 'psql') RETURNING stock_after, actor_user_id; SELECT stock FROM product_variants WHERE id = 2",
 "POST /_ctl/sql\nBEGIN; ALTER TABLE product_variants DISABLE TRIGGER USER; UPDATE product_variants SET stock = stock + 1 WHERE id = 2; SELECT * FROM nexus_stock_verify(); ROLLBACK",
 "POST /_ctl/sql\nSELECT count(*) FROM nexus_stock_verify(); SELECT stock FROM product_variants WHERE id = 2"]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
["0\n41\n", "8|2\n8\n", "2|9|8|8\n", "0\n8\n"]
--- no_error_log
[error]
[alert]



=== TEST 12: concurrent bulk updates naming the same SKUs in opposite orders, and single changes of them, all go through (rows locked in id order: no deadlock) and keep the ledger
--- request eval
[main::bg(6, 'bob', '/api/seller/stock',
          '{"items": [{"sku": "ACME-TEE-S", "quantity": 30}, {"sku": "ACME-TEE-M", "quantity": 31}]}'),
 main::bg(6, 'erin', '/api/seller/stock',
          '{"items": [{"sku": "ACME-TEE-M", "quantity": 40}, {"sku": "ACME-TEE-S", "quantity": 41}]}'),
 main::bg(8, 'bob', '/api/seller/variants/2/stock',
          '{"delta": 1, "reason": "returned"}'),
 "GET /_ctl/bg_wait",
 "POST /_ctl/sql\nSELECT count(*) FROM nexus_stock_verify(); SELECT count(*) FROM stock_movements WHERE variant_id = 2 AND reason = 'returned' AND actor_user_id = 2 AND delta = 1"]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body eval
["ok\n", "ok\n", "ok\n", CORE::join(' ', ('200') x 20) . "\n", "0\n8\n"]
--- timeout: 20
--- no_error_log
[error]
[alert]
