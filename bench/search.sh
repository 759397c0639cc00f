# Sourced by bench/run after the accounts set-up: the search and faceted
# listing workloads and the product writes of the mixed runs. Uses run's
# helpers (fetch, capture_all, log_params, rotation, pg_statement_log) and
# variables (work, host, ports, category, min_price, max_price, pgb_base).
#
#   search.paths   GET /api/search?q=..: single words of the catalog's names
#                  and tags that find 100..5,000 products (what shoppers
#                  type), two-word queries from product names, and
#                  misspelled words (the lexicon correction)
#   facet.paths    faceted listings (no q): 12 subcategories with products
#                  in the list's price window, that window, sorted by price
#                  (a category page with its facets)
#   pgbench-search.sql, pgbench-facet.sql
#                  the module's nexus_search statement with the parameters it
#                  sent for each path (checked in the PostgreSQL log): one
#                  prepared statement, a path picked at random per
#                  transaction, its values read from bench_search /
#                  bench_facet with \gset (a primary key lookup per
#                  transaction, which pgbench pays and the module does not)
#   pgbench-write.sql
#                  product writes as the seller API runs them: nexus_api
#                  ('seller_product_update' | 'seller_variant_update', ...)
#                  by the store's owner, a description or a price change

log "choosing the search queries"
nexus_psql $pg_port $db -tA -v cat="$category" -v lo="$min_price" -v hi="$max_price" \
    >"$work/search.queries" <<'SQL'
SET client_min_messages = warning;
CREATE TEMP TABLE bench_words AS
SELECT word, (SELECT count(*) FROM search_items
               WHERE doc @@ websearch_to_tsquery('english', word)) AS n
  FROM (SELECT word FROM search_words WHERE word ~ '^[a-z]{4,}$'
         ORDER BY md5(word) LIMIT 150) w;
CREATE TEMP TABLE bench_ok AS
SELECT word, row_number() OVER (ORDER BY md5(word || 'q')) AS k
  FROM bench_words WHERE n BETWEEN 100 AND 5000;
(SELECT 'search q=' || word FROM bench_ok WHERE k <= 24 ORDER BY k)
UNION ALL
(SELECT 'search q=' || replace(pair, ' ', '%20')
   FROM (SELECT DISTINCT lower(substring(name FROM '^\S+\s+([A-Za-z]+\s+[A-Za-z]+)(\s|$)')) AS pair
           FROM search_items) p
  WHERE pair IS NOT NULL
  ORDER BY md5(pair) LIMIT 12)
UNION ALL
(SELECT 'search q=' || overlay(word PLACING reverse(substr(word, 2, 2)) FROM 2 FOR 2)
   FROM bench_ok WHERE k > 24 AND k <= 28 ORDER BY k)
UNION ALL
(SELECT 'facet category=' || c.slug || '&min_price=' || :'lo' || '&max_price=' || :'hi'
        || '&sort=price'
   FROM categories c
  WHERE c.parent_id IS NOT NULL
    AND EXISTS (SELECT 1 FROM catalog_listing l
                 WHERE l.category_id = c.id
                   AND l.price_min BETWEEN :'lo'::bigint AND :'hi'::bigint)
  ORDER BY md5(c.slug) LIMIT 12);
SQL
sed -n 's|^search |/api/search?|p' "$work/search.queries" >"$work/search.paths"
sed -n 's|^facet |/api/search?|p' "$work/search.queries" >"$work/facet.paths"
nsearch=$(wc -l <"$work/search.paths")
nfacet=$(wc -l <"$work/facet.paths")
[ "$nsearch" -ge 16 ] || die "only $nsearch search queries found (see $work/search.queries)"
[ "$nfacet" -ge 4 ] || die "only $nfacet faceted listings found (see $work/search.queries)"

search_sql=$(strings -n 40 "$module" | grep '^SELECT status, body FROM nexus_search(\$1, ' || true)
[ "$(printf '%s\n' "$search_sql" | grep -c .)" -eq 1 ] || die "cannot find the nexus_search statement in $module"

# search_capture NAME: every path of NAME.paths once through the uncached
# server, checking the answers; the module's statements into NAME-module.txt,
# the pgbench script (NAME_vars, pgbench-NAME.sql) and a check that pgbench
# replays them byte for byte
search_capture() {
    local name=$1 paths=$work/$1.paths code p k n items totals=0
    local -n vars=${1}_vars
    vars=()
    pg_statement_log on
    mark=$(stat -c %s "$pg_log")
    while read -r p; do
        code=$(curl -sS -H 'User-Agent:' -o "$work/search.json" -w '%{http_code}' \
                    "http://$host:$api_port$p") || die "GET $p failed"
        [ "$code" = 200 ] || die "GET $p: the module answered $code: $(head -c 300 "$work/search.json")"
        items=$(grep -o '"total":[0-9]*' "$work/search.json" | cut -d: -f2)
        [ -n "$items" ] || die "GET $p: no total in the answer"
        totals=$((totals + items))
    done <"$paths"
    sleep 0.3
    tail -c +$((mark + 1)) "$pg_log" >"$work/$name-statements.log"
    capture_all "$work/$name-statements.log" >"$work/$name-module.txt"
    n=$(wc -l <"$paths")
    [ "$(wc -l <"$work/$name-module.txt")" -eq "$n" ] \
        || die "$name: expected 1 statement a request, the log has $(wc -l <"$work/$name-module.txt") for $n requests"
    # One prepared statement with varying parameters, as the module runs
    # it (PostgreSQL's plan cache then sees what it sees for the module):
    # each transaction picks a query at random, reads its varying values
    # from a table (\gset; pgbench has no string expressions) and runs the
    # statement; constant parameters are -D variables (NULL: undefined).
    local -A val=()
    local -a vary=()
    k=0
    while IFS=$'\t' read -r sn ss sp; do
        [ "$sn" = nexus_search ] || die "$name: the module ran $sn"
        [ "$ss" = "$search_sql" ] || die "$name: the module sent a search statement other than the one found in $module"
        local pn pv
        while IFS=$'\t' read -r pn pv; do val[$k,$pn]=$pv; done < <(log_params "$sp")
        k=$((k + 1))
    done <"$work/$name-module.txt"
    local comment= cols= sel= np
    np=$(printf '%s' "$search_sql" | grep -o '\$[0-9]*' | sort -u | wc -l)
    for ((pn = 1; pn <= np; pn++)); do
        local same=1
        for ((k = 1; k < n; k++)); do [ "${val[$k,$pn]}" = "${val[0,$pn]}" ] || same=; done
        if [ -n "$same" ]; then
            comment+=" :c$pn"
            [ "${val[0,$pn]}" = NULL ] || vars+=(-D "c$pn=${val[0,$pn]}")
        else
            for ((k = 0; k < n; k++)); do
                [ "${val[$k,$pn]}" != NULL ] || die "$name: parameter \$$pn is NULL for some paths only"
            done
            vary+=("$pn")
            comment+=" :v$pn"
            cols+=", p$pn text"
            sel+="${sel:+, }p$pn AS v$pn"
        fi
    done
    [ ${#vary[@]} -gt 0 ] || die "$name: every path sends the same parameters"
    nexus_psql $pg_port $db -c "DROP TABLE IF EXISTS bench_$name; CREATE TABLE bench_$name (k int PRIMARY KEY$cols)"
    for ((k = 0; k < n; k++)); do
        printf '%s' "$k"
        for pn in "${vary[@]}"; do printf '\t%s' "${val[$k,$pn]}"; done
        printf '\n'
    done | nexus_psql $pg_port $db -c "COPY bench_$name FROM STDIN"
    local pick="SELECT $sel FROM bench_$name WHERE k = :k \\gset" stmt="$search_sql /*$comment */;"
    printf '\\set k random(0, %d)\n%s\n%s\n' $((n - 1)) "$pick" "$stmt" >"$work/pgbench-$name.sql"
    for ((k = 0; k < n; k++)); do
        printf '\\set k %d\n%s\n%s\n' $k "$pick" "$stmt"
    done >"$work/pgbench-$name-check.sql"
    mark=$(stat -c %s "$pg_log")
    "${pgb_base[@]}" -c 1 -t 1 -f "$work/pgbench-$name-check.sql" "${vars[@]}" "$db" >/dev/null
    sleep 0.3
    tail -c +$((mark + 1)) "$pg_log" >"$work/pgbench-$name-statements.log"
    pg_statement_log off
    while IFS=$'\t' read -r _ stmt params; do
        printf '%s /* %s */;\t%s\n' "$stmt" "$(log_params "$params" | cut -f1 | sed 's/^/$/' | paste -sd ' ')" "$params"
    done <"$work/$name-module.txt" >"$work/$name-module-expected.txt"
    capture_all "$work/pgbench-$name-statements.log" | cut -f2- \
        | grep -F "$search_sql /*" >"$work/$name-pgbench.txt" || true
    cmp -s "$work/$name-module-expected.txt" "$work/$name-pgbench.txt" \
        || die "pgbench does not send the module's $name statements: diff $work/$name-module-expected.txt $work/$name-pgbench.txt"
    eval "${name}_avg_total=$((totals / n))"
    log "checked: pgbench runs the module's nexus_search with the same parameters, for each of the $n $name paths"
}
search_vars=() facet_vars=()
search_capture search
search_capture facet

# the cached server answers every search from the cache, with the same bytes
for pass in fill check; do
    out=$(fetch $cached_port "$work/search.paths" "$work/search-cached")
    [ $pass = check ] || continue
    bad=$(echo "$out" | grep -cv '^200 HIT' || true)
    [ "$bad" -eq 0 ] || die "cached server: $bad search answers were not '200 HIT'"
done

# product writes for the mixed runs: a random product of the first 100,000
# (its store's owner as the actor): its description gets a new revision
# mark, or its first variant's price moves by one cent and back
cat >"$work/pgbench-write.sql" <<'SQL'
\set pid random(1, 100000)
\set kind random(0, 1)
\if :kind = 0
SELECT status FROM nexus_api('seller_product_update',
    (SELECT s.user_id FROM vendor_staff s JOIN products p ON p.vendor_id = s.vendor_id
      WHERE p.id = :pid AND s.role = 'owner' LIMIT 1),
    :pid::text, NULL,
    (SELECT jsonb_build_object('description',
                regexp_replace(description, ' \(rev [0-9]+\)$', '') || ' (rev ' || :client_id || ')')
       FROM products WHERE id = :pid),
    '{"ip": "127.0.0.1", "request_id": "bench-write"}');
\else
SELECT status FROM nexus_api('seller_variant_update',
    (SELECT s.user_id FROM vendor_staff s JOIN products p ON p.vendor_id = s.vendor_id
      WHERE p.id = :pid AND s.role = 'owner' LIMIT 1),
    (SELECT min(id) FROM product_variants WHERE product_id = :pid)::text, NULL,
    (SELECT jsonb_build_object('price', price + CASE WHEN price % 2 = 0 THEN 1 ELSE -1 END)
       FROM product_variants WHERE id = (SELECT min(id) FROM product_variants WHERE product_id = :pid)),
    '{"ip": "127.0.0.1", "request_id": "bench-write"}');
\endif
SQL
ok=$("${pgb_base[@]}" -c 1 -t 20 -f "$work/pgbench-write.sql" "$db" 2>&1) \
    || die "the product writes fail: $ok"
