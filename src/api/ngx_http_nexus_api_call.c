/*
 * Endpoints whose work is one SQL function: the module checks the caller
 * and the body, then runs nexus_api(endpoint, actor, id, id2, body, meta)
 * (sql/migrations/0011_accounts_api.sql) on one prepared statement, and
 * answers with the (status, body) it returns. One statement is one
 * transaction, so such an endpoint never leaves a partial write.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_pg.h"
#include "ngx_http_nexus_auth.h"


static void ngx_http_nexus_call_result(ngx_http_nexus_ctx_t *ctx,
    PGresult *res, ngx_int_t rc);
static json_t *ngx_http_nexus_call_meta(ngx_http_nexus_ctx_t *ctx);


static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_stmt_call = {
    "nexus_api_call",
    "SELECT status, body FROM nexus_api($1, $2::bigint, $3, $4, $5::jsonb,"
    " $6::jsonb)",
    6, 0
};


/*
 * Runs endpoint with the checked body. meta_extra (may be NULL) is merged
 * into meta; done receives the answer (NULL: send it as it is).
 */

ngx_int_t
ngx_http_nexus_call(ngx_http_nexus_ctx_t *ctx, const char *endpoint,
    json_t *meta_extra, ngx_http_nexus_call_pt done)
{
    size_t               size;
    json_t              *meta;
    ngx_int_t            rc;
    ngx_str_t            params[6];
    ngx_http_request_t  *r;

    r = ctx->request;

    meta = ngx_http_nexus_call_meta(ctx);
    if (meta == NULL) {
        return NGX_ERROR;
    }

    if (meta_extra && json_object_update(meta, meta_extra) != 0) {
        return NGX_ERROR;
    }

    ctx->call_done = done;

    params[0].data = (u_char *) endpoint;
    params[0].len = ngx_strlen(endpoint);

    params[1] = ctx->principal.user_id_text;     /* NULL: anonymous */
    params[2] = ctx->path_param;
    params[3] = ctx->path_param2;

    if (ctx->body) {
        if (ngx_http_nexus_body_text(ctx, &params[4]) != NGX_OK) {
            return NGX_ERROR;
        }

    } else {
        ngx_str_null(&params[4]);
    }

    size = json_dumpb(meta, NULL, 0, JSON_COMPACT);
    params[5].data = ngx_pnalloc(r->pool, size);
    if (params[5].data == NULL) {
        return NGX_ERROR;
    }

    params[5].len = json_dumpb(meta, (char *) params[5].data, size,
                               JSON_COMPACT);

    rc = ngx_http_nexus_pg_query(ctx, &ngx_http_nexus_stmt_call, params,
                                 ngx_http_nexus_call_result);

    return rc == NGX_OK ? NGX_DONE : ngx_http_nexus_pg_send_error(ctx, NULL,
                                                                  rc);
}


/* checks the body against fields, then runs endpoint and answers */

ngx_int_t
ngx_http_nexus_call_checked(ngx_http_nexus_ctx_t *ctx, const char *endpoint,
    const ngx_http_nexus_field_t *fields)
{
    return ngx_http_nexus_call_body(ctx, endpoint, fields, NULL, NULL);
}


/* the same, with meta_extra and done as for ngx_http_nexus_call() */

ngx_int_t
ngx_http_nexus_call_body(ngx_http_nexus_ctx_t *ctx, const char *endpoint,
    const ngx_http_nexus_field_t *fields, json_t *meta_extra,
    ngx_http_nexus_call_pt done)
{
    ngx_int_t  rc;

    /* no body checks as an empty one */
    rc = ngx_http_nexus_body_check(ctx, fields);

    if (rc == NGX_DECLINED) {
        return ngx_http_nexus_send_invalid(ctx);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_nexus_call(ctx, endpoint, meta_extra, done);
}


static void
ngx_http_nexus_call_result(ngx_http_nexus_ctx_t *ctx, PGresult *res,
    ngx_int_t rc)
{
    ngx_str_t   body;
    ngx_uint_t  status;

    if (rc != NGX_OK || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) != 1)
    {
        ngx_http_nexus_finalize(ctx, ngx_http_nexus_pg_send_error(ctx, res,
                                                                  rc));
        return;
    }

    status = ngx_atoi((u_char *) PQgetvalue(res, 0, 0),
                      PQgetlength(res, 0, 0));

    if (PQgetisnull(res, 0, 1)) {
        ngx_str_null(&body);

    } else if (ngx_http_nexus_pg_value(res, 0, 1, &body) != NGX_OK) {
        ngx_http_nexus_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the connection is not needed any more; steps after this may want one */
    ngx_http_nexus_pg_release(ctx);

    rc = ctx->call_done ? ctx->call_done(ctx, status, &body)
                        : ngx_http_nexus_call_send(ctx, status, &body);

    if (rc != NGX_DONE) {
        ngx_http_nexus_finalize(ctx, rc);
    }
}


/* answers with a (status, body) from SQL: a resource, or a problem */

ngx_int_t
ngx_http_nexus_call_send(ngx_http_nexus_ctx_t *ctx, ngx_uint_t status,
    ngx_str_t *body)
{
    json_t              *p, *code, *detail;
    ngx_str_t            etag;
    ngx_http_request_t  *r;

    r = ctx->request;

    if (status < 400) {
        if (status == NGX_HTTP_NO_CONTENT || body->data == NULL) {
            ngx_str_set(body, "");
            return ngx_http_nexus_send_body(r, status, body, NULL);
        }

        if (status == NGX_HTTP_OK && (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)))
        {
            etag.data = ngx_pnalloc(r->pool, NGX_HTTP_NEXUS_ETAG_LEN);
            if (etag.data == NULL) {
                return NGX_ERROR;
            }

            ngx_http_nexus_etag(body, etag.data);
            etag.len = NGX_HTTP_NEXUS_ETAG_LEN;

            return ngx_http_nexus_send_body(r, status, body, &etag);
        }

        return ngx_http_nexus_send_body(r, status, body, NULL);
    }

    p = (body->data == NULL) ? NULL
        : ngx_http_nexus_json_track(r, json_loadb((char *) body->data,
                                                  body->len, 0, NULL));

    code = p ? json_object_get(p, "code") : NULL;
    detail = p ? json_object_get(p, "detail") : NULL;

    if (!json_is_string(code) || !json_is_string(detail)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "nexus: an SQL endpoint answered %ui without a code",
                      status);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    code = json_incref(code);
    detail = json_incref(detail);
    json_object_del(p, "code");
    json_object_del(p, "detail");

    if (ngx_http_nexus_json_track(r, code) == NULL
        || ngx_http_nexus_json_track(r, detail) == NULL)
    {
        return NGX_ERROR;
    }

    return ngx_http_nexus_send_problem(r, status, json_string_value(code),
                                       json_string_value(detail), p);
}


static json_t *
ngx_http_nexus_call_meta(ngx_http_nexus_ctx_t *ctx)
{
    json_t                      *meta, *args;
    ngx_str_t                    token;
    ngx_uint_t                   i;
    ngx_http_request_t          *r;
    ngx_http_variable_value_t   *vv;
    ngx_http_nexus_main_conf_t  *nmcf;

    r = ctx->request;

    meta = ngx_http_nexus_json_track(r, json_object());
    args = json_object();

    if (meta == NULL || args == NULL
        || json_object_set_new(meta, "args", args) != 0)
    {
        json_decref(args);
        return NULL;
    }

    for (i = 0; i < ctx->nargs; i++) {
        if (json_object_setn_new(args, (char *) ctx->args[i].name.data,
                                 ctx->args[i].name.len,
                                 json_stringn((char *) ctx->args[i].value.data,
                                              ctx->args[i].value.len))
            != 0)
        {
            /* not UTF-8: leave it out; the endpoint sees it as absent */
            continue;
        }
    }

    if (json_object_set_new(meta, "ip",
            json_stringn((char *) r->connection->addr_text.data,
                         r->connection->addr_text.len)) != 0)
    {
        return NULL;
    }

    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);
    vv = ngx_http_get_indexed_variable(r, nmcf->request_id_index);

    if (vv && !vv->not_found) {
        json_object_set_new(meta, "request_id",
                            json_stringn((char *) vv->data, vv->len));
    }

    if (r->headers_in.user_agent) {
        json_object_set_new(meta, "user_agent",
            json_stringn((char *) r->headers_in.user_agent->value.data,
                         ngx_min(r->headers_in.user_agent->value.len, 512)));
    }

    if (ctx->principal.session_id) {
        json_object_set_new(meta, "session_id",
                            json_integer(ctx->principal.session_id));
    }

    json_object_set_new(meta, "session_ttl", json_integer(nmcf->session_ttl));
    json_object_set_new(meta, "refresh_ttl", json_integer(nmcf->refresh_ttl));
    json_object_set_new(meta, "product_approval",
                        json_boolean(nmcf->product_approval));

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        if (ngx_http_nexus_random_token(r->pool, &token) != NGX_OK) {
            return NULL;
        }

        json_object_set_new(meta, "token",
                            json_stringn((char *) token.data, token.len));
    }

    return meta;
}


/* a string member of a JSON answer from SQL, copied into the pool */

ngx_int_t
ngx_http_nexus_call_member(ngx_http_nexus_ctx_t *ctx, ngx_str_t *body,
    const char *name, ngx_str_t *out)
{
    json_t  *json, *v;

    ngx_str_null(out);

    json = ngx_http_nexus_json_track(ctx->request,
                                     json_loadb((char *) body->data,
                                                body->len, 0, NULL));
    if (json == NULL) {
        return NGX_ERROR;
    }

    v = json_object_get(json, name);

    if (json_is_integer(v)) {
        out->data = ngx_pnalloc(ctx->request->pool, NGX_INT64_LEN);
        if (out->data == NULL) {
            return NGX_ERROR;
        }

        out->len = ngx_sprintf(out->data, "%L", (int64_t) json_integer_value(v))
                   - out->data;
        return NGX_OK;
    }

    if (!json_is_string(v)) {
        return NGX_DECLINED;
    }

    out->len = json_string_length(v);
    out->data = ngx_pnalloc(ctx->request->pool, out->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, json_string_value(v), out->len);
    out->data[out->len] = '\0';

    return NGX_OK;
}
