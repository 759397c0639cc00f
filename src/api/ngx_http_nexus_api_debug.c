/*
 * Test-only endpoints, served only where "nexus_debug_endpoints on" is set:
 * GET /api/_debug/sleep?s=N runs pg_sleep(N) on a pooled connection, so the
 * suite can hold connections busy (slow queries, a full pool).
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_pg.h"


static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_stmt_sleep = {
    "nexus_debug_sleep", "SELECT pg_sleep($1::float8)::text", 1, 0
};


static void ngx_http_nexus_debug_sleep_done(ngx_http_nexus_ctx_t *ctx,
    PGresult *res, ngx_int_t rc);


ngx_int_t
ngx_http_nexus_api_debug_sleep(ngx_http_nexus_ctx_t *ctx)
{
    size_t      i;
    ngx_int_t   rc;
    ngx_str_t  *s;

    s = ngx_http_nexus_arg(ctx, "s");

    if (s == NULL || s->len == 0 || s->len > 6) {
        return ngx_http_nexus_send_param_problem(ctx->request, "s",
                   "must be a number of seconds such as 0.5");
    }

    for (i = 0; i < s->len; i++) {
        if ((s->data[i] < '0' || s->data[i] > '9') && s->data[i] != '.') {
            return ngx_http_nexus_send_param_problem(ctx->request, "s",
                       "must be a number of seconds such as 0.5");
        }
    }

    rc = ngx_http_nexus_pg_query(ctx, &ngx_http_nexus_stmt_sleep, s,
                                 ngx_http_nexus_debug_sleep_done);
    if (rc != NGX_OK) {
        return ngx_http_nexus_pg_send_error(ctx, NULL, rc);
    }

    return NGX_DONE;
}


static void
ngx_http_nexus_debug_sleep_done(ngx_http_nexus_ctx_t *ctx, PGresult *res,
    ngx_int_t rc)
{
    json_t  *doc;

    if (rc != NGX_OK || PQresultStatus(res) != PGRES_TUPLES_OK) {
        ngx_http_nexus_finalize(ctx,
                                ngx_http_nexus_pg_send_error(ctx, res, rc));
        return;
    }

    doc = ngx_http_nexus_json_track(ctx->request, json_pack("{s:b}",
                                                            "slept", 1));
    if (doc == NULL) {
        ngx_http_nexus_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_nexus_finalize(ctx, ngx_http_nexus_send_json(ctx->request,
                                                          NGX_HTTP_OK, doc));
}
