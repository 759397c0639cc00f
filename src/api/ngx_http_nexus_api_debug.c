/*
 * Test-only endpoints, served only where "nexus_debug_endpoints on" is set:
 * GET /api/_debug/sleep?s=N runs pg_sleep(N) on a pooled connection, so the
 * suite can hold connections busy (slow queries, a full pool);
 * GET /api/_debug/txn[?rollback=1] runs a transaction of several statements
 * with C logic between them on one connection, as write endpoints do.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_pg.h"


static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_stmt_sleep = {
    "nexus_debug_sleep", "SELECT pg_sleep($1::float8)::text", 1, 0
};


static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_stmt_begin = {
    "nexus_begin", "BEGIN", 0, 0
};

static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_stmt_commit = {
    "nexus_commit", "COMMIT", 0, 0
};

static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_stmt_rollback = {
    "nexus_rollback", "ROLLBACK", 0, 0
};

static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_stmt_whoami = {
    "nexus_debug_whoami",
    "SELECT pg_backend_pid()::text, txid_current()::text", 0, 0
};


typedef struct {
    ngx_uint_t   step;
    ngx_uint_t   rollback;
    ngx_str_t    pid;
    ngx_str_t    txid;
    ngx_uint_t   same;
} ngx_http_nexus_debug_txn_t;


static void ngx_http_nexus_debug_sleep_done(ngx_http_nexus_ctx_t *ctx,
    PGresult *res, ngx_int_t rc);
static void ngx_http_nexus_debug_txn_step(ngx_http_nexus_ctx_t *ctx,
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


ngx_int_t
ngx_http_nexus_api_debug_txn(ngx_http_nexus_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_str_t                   *v;
    ngx_http_nexus_debug_txn_t  *t;

    t = ngx_pcalloc(ctx->request->pool, sizeof(ngx_http_nexus_debug_txn_t));
    if (t == NULL) {
        return NGX_ERROR;
    }

    v = ngx_http_nexus_arg(ctx, "rollback");
    t->rollback = (v && v->len == 1 && v->data[0] == '1');
    ctx->data = t;

    rc = ngx_http_nexus_pg_query(ctx, &ngx_http_nexus_stmt_begin, NULL,
                                 ngx_http_nexus_debug_txn_step);
    if (rc != NGX_OK) {
        return ngx_http_nexus_pg_send_error(ctx, NULL, rc);
    }

    return NGX_DONE;
}


/* BEGIN; whoami; (C compares) whoami; COMMIT or ROLLBACK */

static void
ngx_http_nexus_debug_txn_step(ngx_http_nexus_ctx_t *ctx, PGresult *res,
    ngx_int_t rc)
{
    json_t                      *doc;
    ngx_str_t                    pid, txid;
    ngx_http_nexus_pg_stmt_t    *next;
    ngx_http_nexus_debug_txn_t  *t;

    t = ctx->data;

    if (rc != NGX_OK
        || (PQresultStatus(res) != PGRES_COMMAND_OK
            && PQresultStatus(res) != PGRES_TUPLES_OK))
    {
        ngx_http_nexus_finalize(ctx,
                                ngx_http_nexus_pg_send_error(ctx, res, rc));
        return;
    }

    switch (t->step++) {

    case 0:     /* BEGIN done */
        next = &ngx_http_nexus_stmt_whoami;
        break;

    case 1:     /* first look: remember it (the result is freed after us) */
        ngx_http_nexus_pg_value(res, 0, 0, &pid);
        ngx_http_nexus_pg_value(res, 0, 1, &txid);

        t->pid.data = ngx_pstrdup(ctx->request->pool, &pid);
        t->pid.len = pid.len;
        t->txid.data = ngx_pstrdup(ctx->request->pool, &txid);
        t->txid.len = txid.len;

        if (t->pid.data == NULL || t->txid.data == NULL) {
            ngx_http_nexus_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        next = &ngx_http_nexus_stmt_whoami;
        break;

    case 2:     /* second look: same backend, same transaction? */
        ngx_http_nexus_pg_value(res, 0, 0, &pid);
        ngx_http_nexus_pg_value(res, 0, 1, &txid);

        t->same = (pid.len == t->pid.len && txid.len == t->txid.len
                   && ngx_strncmp(pid.data, t->pid.data, pid.len) == 0
                   && ngx_strncmp(txid.data, t->txid.data, txid.len) == 0);

        next = (t->rollback || !t->same) ? &ngx_http_nexus_stmt_rollback
                                         : &ngx_http_nexus_stmt_commit;
        break;

    default:    /* COMMIT or ROLLBACK done */
        ngx_http_nexus_pg_release(ctx);

        doc = ngx_http_nexus_json_track(ctx->request,
                  json_pack("{s:s%,s:s%,s:b,s:s}",
                            "backend_pid", t->pid.data, t->pid.len,
                            "txid", t->txid.data, t->txid.len,
                            "same_transaction", (int) t->same,
                            "outcome", t->rollback ? "rolled back"
                                                   : "committed"));
        if (doc == NULL) {
            ngx_http_nexus_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_nexus_finalize(ctx, ngx_http_nexus_send_json(ctx->request,
                                                        NGX_HTTP_OK, doc));
        return;
    }

    rc = ngx_http_nexus_pg_query(ctx, next, NULL,
                                 ngx_http_nexus_debug_txn_step);
    if (rc != NGX_OK) {
        ngx_http_nexus_finalize(ctx, ngx_http_nexus_pg_send_error(ctx, NULL,
                                                                  rc));
    }
}
