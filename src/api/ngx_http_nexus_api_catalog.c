/*
 * The public catalog: product listing with filters, sorts and keyset
 * pagination; product, category and vendor documents; the category tree.
 *
 * Listing reads catalog_listing, a trigger-maintained table with one row
 * per (category scope, visible product), so a category page with a price
 * filter is one index range scan without joins (see sql/README.md). Each
 * sort has its own prepared statement, because a keyset condition is only
 * an index condition when its columns match the ORDER BY.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_pg.h"


#define NGX_HTTP_NEXUS_SLUG_MAX     200
#define NGX_HTTP_NEXUS_CURSOR_MAX   400
#define NGX_HTTP_NEXUS_MONEY_MAX    15      /* digits: < 10^15 minor units */


/*
 * Each item is stored ready in the listing row (catalog_listing.item, the
 * same shape as the documents); C only joins the items and adds the page
 * envelope.
 */
#define NGX_HTTP_NEXUS_LIST_SQL(key, cond, order)                             \
    "WITH f AS (SELECT "                                                      \
    "CASE WHEN $1::text IS NULL THEN 0::bigint "                              \
    "ELSE (SELECT id FROM categories WHERE slug = $1) END AS cat, "           \
    "CASE WHEN $2::text IS NULL THEN 0::bigint "                              \
    "ELSE (SELECT id FROM vendors WHERE slug = $2 AND status = 'active') "    \
    "END AS ven) "                                                            \
    "SELECT f.cat, f.ven, l.product_id, " key ", l.item "                    \
    "FROM f LEFT JOIN LATERAL (SELECT * FROM catalog_listing l "              \
    "WHERE l.category_id = f.cat "                                            \
    "AND ($2::text IS NULL OR l.vendor_id = f.ven) "                          \
    "AND l.price_min BETWEEN $3::bigint AND $4::bigint "                      \
    "AND ($5::text IS NULL OR l.tag_slugs @> ARRAY[$5::text]) "               \
    "AND ($6::text IS NULL OR l.attr_values @> ARRAY[$6::text]) "             \
    "AND (NOT $7::boolean OR l.in_stock) "                                    \
    "AND " cond " ORDER BY " order " LIMIT $10::int) l ON true"


enum {
    NGX_HTTP_NEXUS_COL_CAT = 0,
    NGX_HTTP_NEXUS_COL_VEN,
    NGX_HTTP_NEXUS_COL_ID,
    NGX_HTTP_NEXUS_COL_KEY,
    NGX_HTTP_NEXUS_COL_ITEM
};


typedef enum {
    NGX_HTTP_NEXUS_KEY_INT = 0,
    NGX_HTTP_NEXUS_KEY_DECIMAL,
    NGX_HTTP_NEXUS_KEY_TEXT
} ngx_http_nexus_key_type_e;


typedef struct {
    ngx_str_t                    name;
    u_char                       code;
    ngx_http_nexus_key_type_e    type;
    ngx_str_t                    first_key;
    ngx_str_t                    first_id;
    ngx_http_nexus_pg_stmt_t     stmt;
} ngx_http_nexus_sort_t;


static ngx_http_nexus_sort_t  ngx_http_nexus_sorts[] = {

    { ngx_string("price"), 'p', NGX_HTTP_NEXUS_KEY_INT,
      ngx_string("-1"), ngx_string("0"),
      { "nexus_list_price",
        NGX_HTTP_NEXUS_LIST_SQL("l.price_min::text",
            "(l.price_min, l.product_id) > ($8::bigint, $9::bigint)",
            "l.price_min, l.product_id"), 10, 0 } },

    { ngx_string("-price"), 'q', NGX_HTTP_NEXUS_KEY_INT,
      ngx_string("9223372036854775807"), ngx_string("9223372036854775807"),
      { "nexus_list_price_desc",
        NGX_HTTP_NEXUS_LIST_SQL("l.price_min::text",
            "(l.price_min, l.product_id) < ($8::bigint, $9::bigint)",
            "l.price_min DESC, l.product_id DESC"), 10, 0 } },

    /* created_at travels in the cursor as exact epoch microseconds */
    { ngx_string("newest"), 'n', NGX_HTTP_NEXUS_KEY_INT,
      ngx_string("32503680000000000"), ngx_string("9223372036854775807"),
      { "nexus_list_newest",
        NGX_HTTP_NEXUS_LIST_SQL(
            "(extract(epoch FROM l.created_at) * 1000000)::bigint::text",
            "(l.created_at, l.product_id) < ('epoch'::timestamptz + "
            "$8::bigint * interval '1 microsecond', $9::bigint)",
            "l.created_at DESC, l.product_id DESC"), 10, 0 } },

    { ngx_string("rating"), 'r', NGX_HTTP_NEXUS_KEY_DECIMAL,
      ngx_string("10"), ngx_string("9223372036854775807"),
      { "nexus_list_rating",
        NGX_HTTP_NEXUS_LIST_SQL("l.rating_avg::text",
            "(l.rating_avg, l.product_id) < ($8::numeric, $9::bigint)",
            "l.rating_avg DESC, l.product_id DESC"), 10, 0 } },

    { ngx_string("name"), 'a', NGX_HTTP_NEXUS_KEY_TEXT,
      ngx_string(""), ngx_string("0"),
      { "nexus_list_name",
        NGX_HTTP_NEXUS_LIST_SQL("l.name",
            "(l.name, l.product_id) > ($8::text, $9::bigint)",
            "l.name, l.product_id"), 10, 0 } },

    { ngx_null_string, 0, 0, ngx_null_string, ngx_null_string,
      { NULL, NULL, 0, 0 } }
};


static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_stmt_product = {
    "nexus_product", "SELECT nexus_api_product($1)", 1, 0
};

static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_stmt_vendor = {
    "nexus_vendor", "SELECT nexus_api_vendor($1)", 1, 0
};

static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_stmt_category = {
    "nexus_category", "SELECT nexus_api_category($1)", 1, 0
};

static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_stmt_tree = {
    "nexus_category_tree", "SELECT nexus_api_category_tree()", 0, 0
};


static const char  *ngx_http_nexus_list_args[] = {
    "category", "vendor", "min_price", "max_price", "tag", "attr",
    "in_stock", "sort", "limit", "cursor", NULL
};


typedef struct {
    ngx_http_nexus_sort_t  *sort;
    ngx_uint_t              limit;
} ngx_http_nexus_list_t;


static char *ngx_http_nexus_printable(ngx_http_request_t *r,
    ngx_str_t *name);
static ngx_int_t ngx_http_nexus_is_slug(ngx_str_t *s);
static ngx_int_t ngx_http_nexus_is_name(ngx_str_t *s);
static const char *ngx_http_nexus_parse_cursor(ngx_http_request_t *r,
    ngx_http_nexus_sort_t *sort, ngx_str_t *cursor, ngx_str_t *key,
    ngx_str_t *id);
static ngx_int_t ngx_http_nexus_make_cursor(ngx_http_request_t *r,
    ngx_http_nexus_sort_t *sort, ngx_str_t *key, ngx_str_t *id,
    ngx_str_t *out);
static void ngx_http_nexus_list_done(ngx_http_nexus_ctx_t *ctx,
    PGresult *res, ngx_int_t rc);
static ngx_int_t ngx_http_nexus_document(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_pg_stmt_t *stmt);
static void ngx_http_nexus_document_done(ngx_http_nexus_ctx_t *ctx,
    PGresult *res, ngx_int_t rc);
static void ngx_http_nexus_tree_done(ngx_http_nexus_ctx_t *ctx,
    PGresult *res, ngx_int_t rc);


ngx_int_t
ngx_http_nexus_api_products_list(ngx_http_nexus_ctx_t *ctx)
{
    ngx_int_t               rc;
    ngx_str_t               params[10], *v, *cursor;
    const char             *reason;
    ngx_http_request_t     *r;
    ngx_http_nexus_sort_t  *sort;
    ngx_http_nexus_list_t  *ls;

    r = ctx->request;

    if (ctx->nargs) {
        rc = ngx_http_nexus_check_args(ctx, ngx_http_nexus_list_args);
        if (ctx->request->header_sent || rc != NGX_OK) {
            return rc;
        }
    }

    ngx_memzero(params, sizeof(params));

    rc = ngx_http_nexus_list_filters(ctx, params);
    if (r->header_sent || rc != NGX_OK) {
        return rc;
    }

    sort = &ngx_http_nexus_sorts[0];
    v = ngx_http_nexus_arg(ctx, "sort");
    if (v) {
        for (sort = ngx_http_nexus_sorts; sort->name.len; sort++) {
            if (sort->name.len == v->len
                && ngx_strncmp(sort->name.data, v->data, v->len) == 0)
            {
                break;
            }
        }

        if (sort->name.len == 0) {
            return ngx_http_nexus_send_param_problem(r, "sort",
                       "must be one of price, -price, newest, rating, name");
        }
    }

    ls = ngx_pcalloc(r->pool, sizeof(ngx_http_nexus_list_t));
    if (ls == NULL) {
        return NGX_ERROR;
    }

    ls->sort = sort;
    rc = ngx_http_nexus_list_limit(ctx, &ls->limit);
    if (r->header_sent || rc != NGX_OK) {
        return rc;
    }

    cursor = ngx_http_nexus_arg(ctx, "cursor");
    if (cursor) {
        reason = ngx_http_nexus_parse_cursor(r, sort, cursor, &params[7],
                                             &params[8]);
        if (reason) {
            return ngx_http_nexus_send_param_problem(r, "cursor", reason);
        }

    } else {
        params[7] = sort->first_key;
        params[8] = sort->first_id;
    }

    /* one more row than asked tells whether there is a next page */
    params[9].data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (params[9].data == NULL) {
        return NGX_ERROR;
    }

    params[9].len = ngx_sprintf(params[9].data, "%ui", ls->limit + 1)
                    - params[9].data;

    ctx->data = ls;

    rc = ngx_http_nexus_pg_query(ctx, &sort->stmt, params,
                                 ngx_http_nexus_list_done);
    if (rc != NGX_OK) {
        return ngx_http_nexus_pg_send_error(ctx, NULL, rc);
    }

    return NGX_DONE;
}


/*
 * The page size, shared with GET /api/search: "limit" or the location's
 * nexus_page_size; out of 1..nexus_page_size_max it answers a 400 and
 * returns its rc.
 */

ngx_int_t
ngx_http_nexus_list_limit(ngx_http_nexus_ctx_t *ctx, ngx_uint_t *limit)
{
    u_char     *p;
    ngx_int_t   n;
    ngx_str_t  *v;

    *limit = ctx->lcf->page_size;

    v = ngx_http_nexus_arg(ctx, "limit");
    if (v == NULL) {
        return NGX_OK;
    }

    n = (ngx_http_nexus_is_digits(v, 4) == NGX_OK)
        ? ngx_atoi(v->data, v->len) : NGX_ERROR;

    if (n < 1 || (ngx_uint_t) n > ctx->lcf->page_size_max) {
        p = ngx_pnalloc(ctx->request->pool, 64);
        if (p == NULL) {
            return NGX_ERROR;
        }

        *ngx_snprintf(p, 63, "must be an integer from 1 to %ui",
                      ctx->lcf->page_size_max) = '\0';

        return ngx_http_nexus_send_param_problem(ctx->request, "limit",
                                                 (char *) p);
    }

    *limit = n;

    return NGX_OK;
}


/*
 * The listing filters, shared with GET /api/search: fills params[0..6]
 * (category, vendor, min_price, max_price, tag, attr as "name=value",
 * in_stock; unset ones stay null) or answers a 400 and returns its rc.
 */

ngx_int_t
ngx_http_nexus_list_filters(ngx_http_nexus_ctx_t *ctx, ngx_str_t *params)
{
    u_char              *p;
    ngx_str_t           *v;
    ngx_http_request_t  *r;

    r = ctx->request;

    v = ngx_http_nexus_arg(ctx, "category");
    if (v) {
        if (ngx_http_nexus_is_slug(v) != NGX_OK) {
            return ngx_http_nexus_send_param_problem(r, "category",
                       "must be a category slug (a-z, 0-9 and hyphens)");
        }

        params[0] = *v;
    }

    v = ngx_http_nexus_arg(ctx, "vendor");
    if (v) {
        if (ctx->single_seller) {
            return ngx_http_nexus_send_param_problem(r, "vendor",
                       "is not offered by a single-seller store");
        }

        if (ngx_http_nexus_is_slug(v) != NGX_OK) {
            return ngx_http_nexus_send_param_problem(r, "vendor",
                       "must be a vendor slug (a-z, 0-9 and hyphens)");
        }

        params[1] = *v;
    }

    ngx_str_set(&params[2], "0");
    v = ngx_http_nexus_arg(ctx, "min_price");
    if (v) {
        if (ngx_http_nexus_is_digits(v, NGX_HTTP_NEXUS_MONEY_MAX) != NGX_OK) {
            return ngx_http_nexus_send_param_problem(r, "min_price",
                       "must be a non-negative integer amount in minor "
                       "units (cents), below 10^15");
        }

        params[2] = *v;
    }

    ngx_str_set(&params[3], "999999999999999");
    v = ngx_http_nexus_arg(ctx, "max_price");
    if (v) {
        if (ngx_http_nexus_is_digits(v, NGX_HTTP_NEXUS_MONEY_MAX) != NGX_OK) {
            return ngx_http_nexus_send_param_problem(r, "max_price",
                       "must be a non-negative integer amount in minor "
                       "units (cents), below 10^15");
        }

        params[3] = *v;
    }

    if (ngx_atoof(params[2].data, params[2].len)
        > ngx_atoof(params[3].data, params[3].len))
    {
        return ngx_http_nexus_send_param_problem(r, "min_price",
                   "must not be greater than max_price");
    }

    v = ngx_http_nexus_arg(ctx, "tag");
    if (v) {
        if (ngx_http_nexus_is_slug(v) != NGX_OK) {
            return ngx_http_nexus_send_param_problem(r, "tag",
                       "must be a tag slug (a-z, 0-9 and hyphens)");
        }

        params[4] = *v;
    }

    v = ngx_http_nexus_arg(ctx, "attr");
    if (v) {
        /* attr=color:red, stored in the listing as "color=red" */
        p = ngx_strlchr(v->data, v->data + v->len, ':');

        if (p == NULL || p == v->data || p == v->data + v->len - 1
            || v->len > 200 || ngx_strlchr(v->data, v->data + v->len, '\0'))
        {
            return ngx_http_nexus_send_param_problem(r, "attr",
                       "must look like NAME:VALUE, e.g. color:red");
        }

        params[5].len = v->len;
        params[5].data = ngx_pnalloc(r->pool, v->len);
        if (params[5].data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(params[5].data, v->data, v->len);
        params[5].data[p - v->data] = '=';

        params[5].len = p - v->data;
        if (ngx_http_nexus_is_name(&params[5]) != NGX_OK) {
            return ngx_http_nexus_send_param_problem(r, "attr",
                       "must look like NAME:VALUE with a slug as NAME");
        }

        params[5].len = v->len;
    }

    ngx_str_set(&params[6], "false");
    v = ngx_http_nexus_arg(ctx, "in_stock");
    if (v) {
        if ((v->len == 4 && ngx_strncmp(v->data, "true", 4) == 0)
            || (v->len == 1 && v->data[0] == '1'))
        {
            ngx_str_set(&params[6], "true");

        } else if (!((v->len == 5 && ngx_strncmp(v->data, "false", 5) == 0)
                     || (v->len == 1 && v->data[0] == '0')))
        {
            return ngx_http_nexus_send_param_problem(r, "in_stock",
                       "must be true, false, 1 or 0");
        }
    }

    return NGX_OK;
}


static void
ngx_http_nexus_list_done(ngx_http_nexus_ctx_t *ctx, PGresult *res,
    ngx_int_t rc)
{
    int                     row, rows, shown;
    u_char                 *p;
    size_t                  len;
    ngx_str_t               body, key, id, next;
    ngx_http_request_t     *r;
    ngx_http_nexus_list_t  *ls;

    r = ctx->request;
    ls = ctx->data;

    if (rc != NGX_OK || PQresultStatus(res) != PGRES_TUPLES_OK) {
        ngx_http_nexus_finalize(ctx,
                                ngx_http_nexus_pg_send_error(ctx, res, rc));
        return;
    }

    ngx_http_nexus_pg_release(ctx);

    if (PQntuples(res) > 0 && PQgetisnull(res, 0, NGX_HTTP_NEXUS_COL_CAT)) {
        ngx_http_nexus_finalize(ctx, ngx_http_nexus_send_problem(r,
                                NGX_HTTP_NOT_FOUND, "category_not_found",
                                "No category has this slug.", NULL));
        return;
    }

    if (PQntuples(res) > 0 && PQgetisnull(res, 0, NGX_HTTP_NEXUS_COL_VEN)) {
        ngx_http_nexus_finalize(ctx, ngx_http_nexus_send_problem(r,
                                NGX_HTTP_NOT_FOUND, "vendor_not_found",
                                "No active vendor has this slug.", NULL));
        return;
    }

    rows = PQntuples(res);

    /* the LEFT JOIN gives one all-NULL row when nothing matched */
    if (rows == 1 && PQgetisnull(res, 0, NGX_HTTP_NEXUS_COL_ID)) {
        rows = 0;
    }

    shown = ((ngx_uint_t) rows > ls->limit) ? (int) ls->limit : rows;

    ngx_str_null(&next);

    if (rows > shown) {
        ngx_http_nexus_pg_value(res, shown - 1, NGX_HTTP_NEXUS_COL_KEY, &key);
        ngx_http_nexus_pg_value(res, shown - 1, NGX_HTTP_NEXUS_COL_ID, &id);

        if (ngx_http_nexus_make_cursor(r, ls->sort, &key, &id, &next)
            != NGX_OK)
        {
            ngx_http_nexus_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    /* {"items":[...],"next_cursor":"..."|null,"limit":N,"sort":"..."} */
    len = sizeof("{\"items\":[],\"next_cursor\":\"\",\"limit\":,\"sort\":\"\"}")
          + next.len + NGX_INT_T_LEN + ls->sort->name.len + 4;

    for (row = 0; row < shown; row++) {
        len += PQgetlength(res, row, NGX_HTTP_NEXUS_COL_ITEM) + 1;
    }

    body.data = ngx_pnalloc(r->pool, len);
    if (body.data == NULL) {
        ngx_http_nexus_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_cpymem(body.data, "{\"items\":[", sizeof("{\"items\":[") - 1);

    for (row = 0; row < shown; row++) {
        if (row) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, PQgetvalue(res, row, NGX_HTTP_NEXUS_COL_ITEM),
                       PQgetlength(res, row, NGX_HTTP_NEXUS_COL_ITEM));
    }

    /* a cursor is base64url: nothing in it needs escaping */
    if (next.len) {
        p = ngx_sprintf(p, "],\"next_cursor\":\"%V\"", &next);

    } else {
        p = ngx_cpymem(p, "],\"next_cursor\":null",
                       sizeof("],\"next_cursor\":null") - 1);
    }

    p = ngx_sprintf(p, ",\"limit\":%ui,\"sort\":\"%V\"}", ls->limit,
                    &ls->sort->name);

    body.len = p - body.data;

    ngx_http_nexus_finalize(ctx, ngx_http_nexus_send_cacheable(ctx, &body));
}


/*
 * A cursor is base64url("<sort code>.<key>.<id>"): the position after the
 * last row shown. It only says where to continue; the filters come from
 * the query string each time.
 */

static ngx_int_t
ngx_http_nexus_make_cursor(ngx_http_request_t *r, ngx_http_nexus_sort_t *sort,
    ngx_str_t *key, ngx_str_t *id, ngx_str_t *out)
{
    u_char     *p;
    ngx_str_t   plain;

    plain.len = 2 + key->len + 1 + id->len;
    plain.data = ngx_pnalloc(r->pool, plain.len);
    if (plain.data == NULL) {
        return NGX_ERROR;
    }

    p = plain.data;
    *p++ = sort->code;
    *p++ = '.';
    p = ngx_cpymem(p, key->data, key->len);
    *p++ = '.';
    ngx_memcpy(p, id->data, id->len);

    out->data = ngx_pnalloc(r->pool, ngx_base64_encoded_length(plain.len));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_encode_base64url(out, &plain);

    return NGX_OK;
}


static const char *
ngx_http_nexus_parse_cursor(ngx_http_request_t *r,
    ngx_http_nexus_sort_t *sort, ngx_str_t *cursor, ngx_str_t *key,
    ngx_str_t *id)
{
    u_char     *p, *last, *dot;
    size_t      i;
    ngx_str_t   plain;

    if (cursor->len == 0 || cursor->len > NGX_HTTP_NEXUS_CURSOR_MAX) {
        goto invalid;
    }

    plain.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(cursor->len));
    if (plain.data == NULL) {
        goto invalid;
    }

    if (ngx_decode_base64url(&plain, cursor) != NGX_OK || plain.len < 5) {
        goto invalid;
    }

    p = plain.data;
    last = p + plain.len;

    if (p[0] != sort->code || p[1] != '.') {
        return "belongs to another sort order; start again without it";
    }

    p += 2;

    /* the id is after the last dot: a name key may contain dots */
    for (dot = last - 1; dot > p && *dot != '.'; dot--) { /* void */ }

    if (dot <= p && sort->type != NGX_HTTP_NEXUS_KEY_TEXT) {
        goto invalid;
    }

    if (*dot != '.') {
        goto invalid;
    }

    key->data = p;
    key->len = dot - p;
    id->data = dot + 1;
    id->len = last - dot - 1;

    if (ngx_http_nexus_is_digits(id, 18) != NGX_OK) {
        goto invalid;
    }

    switch (sort->type) {

    case NGX_HTTP_NEXUS_KEY_INT:
        if (key->len && key->data[0] == '-') {
            ngx_str_t  digits = { key->len - 1, key->data + 1 };

            if (ngx_http_nexus_is_digits(&digits, 18) != NGX_OK) {
                goto invalid;
            }

        } else if (ngx_http_nexus_is_digits(key, 18) != NGX_OK) {
            goto invalid;
        }

        break;

    case NGX_HTTP_NEXUS_KEY_DECIMAL:
        if (key->len == 0 || key->len > 12) {
            goto invalid;
        }

        for (i = 0; i < key->len; i++) {
            if ((key->data[i] < '0' || key->data[i] > '9')
                && key->data[i] != '.')
            {
                goto invalid;
            }
        }

        break;

    default: /* NGX_HTTP_NEXUS_KEY_TEXT: PostgreSQL checks the encoding */
        if (key->len > 512 || ngx_strlchr(key->data, dot, '\0')) {
            goto invalid;
        }

        break;
    }

    return NULL;

invalid:

    return "is not a cursor this API returned";
}


/*
 * Rejects unknown and repeated parameters; answers the problem itself and
 * returns its rc, or NGX_OK when the query string is fine.
 */

ngx_int_t
ngx_http_nexus_check_args(ngx_http_nexus_ctx_t *ctx, const char **known)
{
    ngx_uint_t    i, j;
    const char  **k;

    for (i = 0; i < ctx->nargs; i++) {
        for (k = known; *k; k++) {
            if (ngx_strlen(*k) == ctx->args[i].name.len
                && ngx_strncmp(*k, ctx->args[i].name.data,
                               ctx->args[i].name.len) == 0)
            {
                break;
            }
        }

        if (*k == NULL) {
            return ngx_http_nexus_send_param_problem(ctx->request,
                       ngx_http_nexus_printable(ctx->request,
                                                &ctx->args[i].name),
                       "is not a parameter of this endpoint");
        }

        for (j = 0; j < i; j++) {
            if (ctx->args[j].name.len == ctx->args[i].name.len
                && ngx_strncmp(ctx->args[j].name.data, ctx->args[i].name.data,
                               ctx->args[i].name.len) == 0)
            {
                return ngx_http_nexus_send_param_problem(ctx->request, *k,
                                                   "is given more than once");
            }
        }
    }

    return NGX_OK;
}


/* a parameter name to echo back: only when it is short and plain */

static char *
ngx_http_nexus_printable(ngx_http_request_t *r, ngx_str_t *name)
{
    u_char  *p;
    size_t   i;

    if (name->len == 0 || name->len > 64) {
        return "(query)";
    }

    for (i = 0; i < name->len; i++) {
        if (name->data[i] < 0x21 || name->data[i] > 0x7e
            || name->data[i] == '"' || name->data[i] == '\\')
        {
            return "(query)";
        }
    }

    p = ngx_pnalloc(r->pool, name->len + 1);
    if (p == NULL) {
        return "(query)";
    }

    *ngx_cpymem(p, name->data, name->len) = '\0';

    return (char *) p;
}


static ngx_int_t
ngx_http_nexus_is_slug(ngx_str_t *s)
{
    size_t  i;

    if (s->len == 0 || s->len > NGX_HTTP_NEXUS_SLUG_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < s->len; i++) {
        if (!((s->data[i] >= 'a' && s->data[i] <= 'z')
              || (s->data[i] >= '0' && s->data[i] <= '9')
              || s->data[i] == '-'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* attribute names: slugs that may also hold underscores */

static ngx_int_t
ngx_http_nexus_is_name(ngx_str_t *s)
{
    size_t  i;

    if (s->len == 0 || s->len > NGX_HTTP_NEXUS_SLUG_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < s->len; i++) {
        if (!((s->data[i] >= 'a' && s->data[i] <= 'z')
              || (s->data[i] >= '0' && s->data[i] <= '9')
              || s->data[i] == '-' || s->data[i] == '_'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_nexus_is_digits(ngx_str_t *s, size_t max)
{
    size_t  i;

    if (s->len == 0 || s->len > max) {
        return NGX_DECLINED;
    }

    for (i = 0; i < s->len; i++) {
        if (s->data[i] < '0' || s->data[i] > '9') {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* product, vendor and category documents are composed by PostgreSQL */

ngx_int_t
ngx_http_nexus_api_product_get(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_document(ctx, &ngx_http_nexus_stmt_product);
}


ngx_int_t
ngx_http_nexus_api_vendor_get(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_document(ctx, &ngx_http_nexus_stmt_vendor);
}


ngx_int_t
ngx_http_nexus_api_category_get(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_document(ctx, &ngx_http_nexus_stmt_category);
}


static ngx_int_t
ngx_http_nexus_document(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_pg_stmt_t *stmt)
{
    ngx_int_t  rc;

    static const char  *none[] = { NULL };

    if (ctx->nargs) {
        /* none is known: any parameter is answered with a 400 */
        return ngx_http_nexus_check_args(ctx, none);
    }

    /* a slug that cannot exist is simply not found */
    if (ngx_http_nexus_is_slug(&ctx->path_param) != NGX_OK) {
        return ngx_http_nexus_send_problem(ctx->request, NGX_HTTP_NOT_FOUND,
                                           "not_found", "No such resource.",
                                           NULL);
    }

    rc = ngx_http_nexus_pg_query(ctx, stmt, &ctx->path_param,
                                 ngx_http_nexus_document_done);
    if (rc != NGX_OK) {
        return ngx_http_nexus_pg_send_error(ctx, NULL, rc);
    }

    return NGX_DONE;
}


static void
ngx_http_nexus_document_done(ngx_http_nexus_ctx_t *ctx, PGresult *res,
    ngx_int_t rc)
{
    ngx_str_t  body;

    if (rc != NGX_OK || PQresultStatus(res) != PGRES_TUPLES_OK) {
        ngx_http_nexus_finalize(ctx,
                                ngx_http_nexus_pg_send_error(ctx, res, rc));
        return;
    }

    ngx_http_nexus_pg_release(ctx);

    if (ngx_http_nexus_pg_value(res, 0, 0, &body) != NGX_OK) {
        ngx_http_nexus_finalize(ctx, ngx_http_nexus_send_problem(
                                ctx->request, NGX_HTTP_NOT_FOUND,
                                "not_found", "No such resource.", NULL));
        return;
    }

    /* the result is freed after this callback: copy the body */
    body.data = ngx_pstrdup(ctx->request->pool, &body);
    if (body.data == NULL) {
        ngx_http_nexus_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_nexus_finalize(ctx, ngx_http_nexus_send_cacheable(ctx, &body));
}


ngx_int_t
ngx_http_nexus_api_categories_tree(ngx_http_nexus_ctx_t *ctx)
{
    ngx_int_t  rc;

    static const char  *none[] = { NULL };

    if (ctx->nargs) {
        /* none is known: any parameter is answered with a 400 */
        return ngx_http_nexus_check_args(ctx, none);
    }

    rc = ngx_http_nexus_pg_query(ctx, &ngx_http_nexus_stmt_tree, NULL,
                                 ngx_http_nexus_tree_done);
    if (rc != NGX_OK) {
        return ngx_http_nexus_pg_send_error(ctx, NULL, rc);
    }

    return NGX_DONE;
}


static void
ngx_http_nexus_tree_done(ngx_http_nexus_ctx_t *ctx, PGresult *res,
    ngx_int_t rc)
{
    u_char     *p;
    ngx_str_t   tree, body;

    static ngx_str_t  head = ngx_string("{\"categories\":");

    if (rc != NGX_OK || PQresultStatus(res) != PGRES_TUPLES_OK) {
        ngx_http_nexus_finalize(ctx,
                                ngx_http_nexus_pg_send_error(ctx, res, rc));
        return;
    }

    ngx_http_nexus_pg_release(ctx);

    if (ngx_http_nexus_pg_value(res, 0, 0, &tree) != NGX_OK) {
        ngx_str_set(&tree, "[]");
    }

    body.len = head.len + tree.len + 1;
    body.data = ngx_pnalloc(ctx->request->pool, body.len);
    if (body.data == NULL) {
        ngx_http_nexus_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_cpymem(body.data, head.data, head.len);
    p = ngx_cpymem(p, tree.data, tree.len);
    *p = '}';

    ngx_http_nexus_finalize(ctx, ngx_http_nexus_send_cacheable(ctx, &body));
}
