/*
 * The PostgreSQL search backend (the default): one call of nexus_search()
 * (sql/migrations/0015_search.sql), which answers the whole JSON body, the
 * page and the facets, in one statement.
 *
 * Its cursor is base64url("<sort code>.<key>.<id>"), made by the SQL: the
 * key is the float8 sort key (for relevance the negated rank, exact in its
 * text form) or, for sort=name, the name.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_pg.h"
#include "ngx_http_nexus_search.h"


typedef struct {
    ngx_http_nexus_search_done_pt   done;
} ngx_http_nexus_search_pg_t;


static ngx_int_t ngx_http_nexus_search_pg_search(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_search_query_t *query, ngx_http_nexus_search_done_pt done);
static ngx_int_t ngx_http_nexus_search_pg_cursor(ngx_http_request_t *r,
    ngx_http_nexus_search_query_t *query, ngx_str_t *key, ngx_str_t *id);
static void ngx_http_nexus_search_pg_done(ngx_http_nexus_ctx_t *ctx,
    PGresult *res, ngx_int_t rc);


ngx_http_nexus_search_backend_t  ngx_http_nexus_search_pg = {
    ngx_string("postgres"),
    NULL,
    ngx_http_nexus_search_pg_search
};


static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_search_pg_stmt = {
    "nexus_search",
    "SELECT status, body FROM nexus_search($1, $2, $3, $4::bigint, "
    "$5::bigint, $6, $7, $8::boolean, $9, $10::int, $11, $12::bigint)",
    12, 0
};


static ngx_int_t
ngx_http_nexus_search_pg_search(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_search_query_t *query, ngx_http_nexus_search_done_pt done)
{
    ngx_int_t                    rc;
    ngx_str_t                    params[12];
    ngx_http_request_t          *r;
    ngx_http_nexus_search_pg_t  *sp;

    r = ctx->request;

    ngx_memzero(params, sizeof(params));

    params[0] = query->q;
    ngx_memcpy(&params[1], query->filters,
               NGX_HTTP_NEXUS_FILTERS * sizeof(ngx_str_t));
    params[8] = query->sort;

    params[9].data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (params[9].data == NULL) {
        return NGX_ERROR;
    }

    params[9].len = ngx_sprintf(params[9].data, "%ui", query->limit)
                    - params[9].data;

    if (query->cursor.len
        && ngx_http_nexus_search_pg_cursor(r, query, &params[10], &params[11])
           != NGX_OK)
    {
        return ngx_http_nexus_send_param_problem(r, "cursor",
                   "is not a cursor this API returned for this sort");
    }

    sp = ngx_pcalloc(r->pool, sizeof(ngx_http_nexus_search_pg_t));
    if (sp == NULL) {
        return NGX_ERROR;
    }

    sp->done = done;
    ctx->data = sp;

    rc = ngx_http_nexus_pg_query(ctx, &ngx_http_nexus_search_pg_stmt, params,
                                 ngx_http_nexus_search_pg_done);
    if (rc != NGX_OK) {
        return ngx_http_nexus_pg_send_error(ctx, NULL, rc);
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_nexus_search_pg_cursor(ngx_http_request_t *r,
    ngx_http_nexus_search_query_t *query, ngx_str_t *key, ngx_str_t *id)
{
    u_char     *p, *last, *dot, code;
    size_t      i;
    ngx_str_t   plain;

    plain.data = ngx_pnalloc(r->pool,
                             ngx_base64_decoded_length(query->cursor.len));
    if (plain.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64url(&plain, &query->cursor) != NGX_OK
        || plain.len < 5)
    {
        return NGX_ERROR;
    }

    /* the codes nexus_search() writes */
    switch (query->sort.data[0]) {
    case 'r':
        code = (query->sort.data[1] == 'e') ? 's' : 'r';
        break;
    case 'p':
        code = 'p';
        break;
    case '-':
        code = 'q';
        break;
    case 'n':
        code = (query->sort.data[1] == 'e') ? 'n' : 'a';
        break;
    default:
        return NGX_ERROR;
    }

    p = plain.data;
    last = p + plain.len;

    if (p[0] != code || p[1] != '.') {
        return NGX_ERROR;
    }

    p += 2;

    /* the id is after the last dot: a name key may contain dots */
    for (dot = last - 1; dot > p && *dot != '.'; dot--) { /* void */ }

    if (dot <= p || *dot != '.') {
        return NGX_ERROR;
    }

    key->data = p;
    key->len = dot - p;
    id->data = dot + 1;
    id->len = last - dot - 1;

    if (ngx_http_nexus_is_digits(id, 18) != NGX_OK) {
        return NGX_ERROR;
    }

    if (code == 'a') {
        /* PostgreSQL checks the encoding */
        return (key->len <= 600 && ngx_strlchr(key->data, dot, '\0') == NULL)
               ? NGX_OK : NGX_ERROR;
    }

    /* a float8 as PostgreSQL prints it: no NaN or Infinity here */
    if (key->len > 32) {
        return NGX_ERROR;
    }

    for (i = 0; i < key->len; i++) {
        if (!((key->data[i] >= '0' && key->data[i] <= '9')
              || key->data[i] == '.' || key->data[i] == '-'
              || key->data[i] == '+' || key->data[i] == 'e'))
        {
            return NGX_ERROR;
        }
    }

    if (!(key->data[key->len - 1] >= '0' && key->data[key->len - 1] <= '9')) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_nexus_search_pg_done(ngx_http_nexus_ctx_t *ctx, PGresult *res,
    ngx_int_t rc)
{
    ngx_str_t                    status, body;
    ngx_http_nexus_search_pg_t  *sp;

    sp = ctx->data;

    if (rc != NGX_OK || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) != 1
        || ngx_http_nexus_pg_value(res, 0, 0, &status) != NGX_OK
        || ngx_http_nexus_pg_value(res, 0, 1, &body) != NGX_OK)
    {
        sp->done(ctx, ngx_http_nexus_pg_send_error(ctx, res, rc), NULL);
        return;
    }

    ngx_http_nexus_pg_release(ctx);

    /* the result is freed after this callback: copy the body */
    body.data = ngx_pstrdup(ctx->request->pool, &body);
    if (body.data == NULL) {
        sp->done(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL);
        return;
    }

    sp->done(ctx, (status.len == 3 && ngx_strncmp(status.data, "404", 3) == 0)
                  ? NGX_HTTP_NOT_FOUND : NGX_OK,
             &body);
}
