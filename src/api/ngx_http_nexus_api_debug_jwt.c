/*
 * Test-only endpoints for access tokens, served only where
 * "nexus_debug_endpoints on" is set, so the suite can check the module's
 * tokens against an independent JWT library in both directions:
 * GET /api/_debug/jwt/issue?sub=N&sid=N answers {"token": "..."};
 * GET /api/_debug/jwt/verify checks "Authorization: Bearer <token>" and
 * answers its claims, or 401 with the reason it was refused.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_auth.h"


static ngx_int_t ngx_http_nexus_debug_jwt_id(ngx_http_nexus_ctx_t *ctx,
    const char *name, int64_t *id);
static ngx_int_t ngx_http_nexus_debug_jwt_refuse(ngx_http_request_t *r,
    const char *reason);


ngx_int_t
ngx_http_nexus_api_debug_jwt_issue(ngx_http_nexus_ctx_t *ctx)
{
    json_t                       *doc;
    ngx_int_t                     rc;
    ngx_str_t                     token;
    ngx_http_nexus_jwt_claims_t   claims;

    ngx_memzero(&claims, sizeof(ngx_http_nexus_jwt_claims_t));

    if (ngx_http_nexus_debug_jwt_id(ctx, "sub", &claims.user_id) != NGX_OK) {
        return ngx_http_nexus_send_param_problem(ctx->request, "sub",
                                                 "must be a positive integer");
    }

    if (ngx_http_nexus_debug_jwt_id(ctx, "sid", &claims.session_id)
        != NGX_OK)
    {
        return ngx_http_nexus_send_param_problem(ctx->request, "sid",
                                                 "must be a positive integer");
    }

    rc = ngx_http_nexus_jwt_issue(ctx->request, &claims, &token);

    if (rc == NGX_DECLINED) {
        return ngx_http_nexus_send_problem(ctx->request,
                                           NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "no_signing_key",
                                           "No JWT key that can sign is "
                                           "configured.", NULL);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    doc = ngx_http_nexus_json_track(ctx->request,
                                    json_pack("{s:s%}", "token",
                                              token.data, token.len));
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_nexus_send_json(ctx->request, NGX_HTTP_OK, doc);
}


ngx_int_t
ngx_http_nexus_api_debug_jwt_verify(ngx_http_nexus_ctx_t *ctx)
{
    u_char                       *p;
    size_t                        len;
    json_t                       *doc;
    ngx_int_t                     rc;
    ngx_str_t                     token;
    const char                   *reason;
    ngx_table_elt_t              *h;
    ngx_http_request_t           *r;
    ngx_http_nexus_jwt_claims_t   claims;

    r = ctx->request;
    h = r->headers_in.authorization;

    if (h == NULL || h->value.len < sizeof("Bearer ") - 1
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) != 0)
    {
        return ngx_http_nexus_debug_jwt_refuse(r, "no bearer token");
    }

    token.data = h->value.data + sizeof("Bearer ") - 1;
    token.len = h->value.len - (sizeof("Bearer ") - 1);

    while (token.len && token.data[0] == ' ') {
        token.data++;
        token.len--;
    }

    ngx_memzero(&claims, sizeof(ngx_http_nexus_jwt_claims_t));
    reason = NULL;

    rc = ngx_http_nexus_jwt_verify(r, &token, &claims, &reason);

    if (rc == NGX_DECLINED) {
        return ngx_http_nexus_debug_jwt_refuse(r, reason);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_sprintf(p, "%L", claims.user_id) - p;

    doc = ngx_http_nexus_json_track(r,
              json_pack("{s:s%,s:I,s:I,s:I}",
                        "sub", p, len,
                        "sid", (json_int_t) claims.session_id,
                        "iat", (json_int_t) claims.iat,
                        "exp", (json_int_t) claims.exp));
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_nexus_send_json(r, NGX_HTTP_OK, doc);
}


static ngx_int_t
ngx_http_nexus_debug_jwt_id(ngx_http_nexus_ctx_t *ctx, const char *name,
    int64_t *id)
{
    off_t       n;
    ngx_str_t  *v;

    v = ngx_http_nexus_arg(ctx, name);

    if (v == NULL || v->len == 0 || v->len > NGX_INT64_LEN) {
        return NGX_ERROR;
    }

    n = ngx_atoof(v->data, v->len);

    if (n <= 0) {
        return NGX_ERROR;
    }

    *id = n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_nexus_debug_jwt_refuse(ngx_http_request_t *r, const char *reason)
{
    json_t     *extra;
    ngx_str_t   challenge;

    /* RFC 6750 3: a refused bearer token gets a challenge */
    ngx_str_set(&challenge, "Bearer error=\"invalid_token\"");

    if (ngx_http_nexus_add_header(r, "WWW-Authenticate", &challenge)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* send_problem has no title for 401 yet */
    extra = ngx_http_nexus_json_track(r, json_pack("{s:s}", "title",
                                                   "Unauthorized"));
    if (extra == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_nexus_send_problem(r, NGX_HTTP_UNAUTHORIZED,
                                       "invalid_token", reason, extra);
}
