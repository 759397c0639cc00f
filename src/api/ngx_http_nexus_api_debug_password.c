/*
 * Test-only endpoint, served only where "nexus_debug_endpoints on" is set:
 *
 * GET /api/_debug/password?password=X hashes X, verifies X against the new
 * hash and then a wrong password against it:
 *   {"phc":"$scrypt$...","match":true,"wrong":false,"ms":N}
 * GET /api/_debug/password?password=X&phc=Y only verifies X against Y:
 *   {"match":true|false,"rehash":"$scrypt$..."|null,"ms":N}
 *
 * ms is the time from the request to the answer, thread pool queue
 * included.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_auth.h"


typedef struct {
    ngx_msec_t   start;
    ngx_str_t    password;
    ngx_str_t    phc;
    ngx_uint_t   match;
} ngx_http_nexus_debug_password_t;


static void ngx_http_nexus_debug_password_hashed(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *phc);
static void ngx_http_nexus_debug_password_checked(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *phc);
static void ngx_http_nexus_debug_password_wrong(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *phc);
static void ngx_http_nexus_debug_password_verified(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *phc);
static ngx_int_t ngx_http_nexus_debug_password_busy(
    ngx_http_nexus_ctx_t *ctx);
static ngx_int_t ngx_http_nexus_debug_password_failed(
    ngx_http_nexus_ctx_t *ctx);


ngx_int_t
ngx_http_nexus_api_debug_password(ngx_http_nexus_ctx_t *ctx)
{
    ngx_int_t                         rc;
    ngx_str_t                        *password, *phc;
    ngx_http_nexus_debug_password_t  *dp;

    password = ngx_http_nexus_arg(ctx, "password");

    if (password == NULL) {
        return ngx_http_nexus_send_param_problem(ctx->request, "password",
                                                 "is required");
    }

    dp = ngx_pcalloc(ctx->request->pool,
                     sizeof(ngx_http_nexus_debug_password_t));
    if (dp == NULL) {
        return NGX_ERROR;
    }

    dp->start = ngx_current_msec;
    dp->password = *password;
    ctx->data = dp;

    phc = ngx_http_nexus_arg(ctx, "phc");

    if (phc) {
        rc = ngx_http_nexus_password_verify(ctx, password, phc,
                 ngx_http_nexus_debug_password_verified);
    } else {
        rc = ngx_http_nexus_password_hash(ctx, password,
                 ngx_http_nexus_debug_password_hashed);
    }

    if (rc == NGX_ERROR) {
        return ngx_http_nexus_debug_password_busy(ctx);
    }

    return rc;
}


static void
ngx_http_nexus_debug_password_hashed(ngx_http_nexus_ctx_t *ctx, ngx_int_t rc,
    ngx_str_t *phc)
{
    ngx_http_nexus_debug_password_t  *dp;

    dp = ctx->data;

    if (rc != NGX_OK) {
        ngx_http_nexus_finalize(ctx,
                                ngx_http_nexus_debug_password_failed(ctx));
        return;
    }

    dp->phc = *phc;

    rc = ngx_http_nexus_password_verify(ctx, &dp->password, &dp->phc,
                                        ngx_http_nexus_debug_password_checked);
    if (rc == NGX_ERROR) {
        ngx_http_nexus_finalize(ctx, ngx_http_nexus_debug_password_busy(ctx));
    }
}


static void
ngx_http_nexus_debug_password_checked(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *phc)
{
    u_char                           *p;
    ngx_str_t                         wrong;
    ngx_http_nexus_debug_password_t  *dp;

    dp = ctx->data;

    if (rc == NGX_ERROR) {
        ngx_http_nexus_finalize(ctx,
                                ngx_http_nexus_debug_password_failed(ctx));
        return;
    }

    dp->match = (rc == NGX_OK);

    /* the password and one more character */
    p = ngx_pnalloc(ctx->request->pool, dp->password.len + 1);
    if (p == NULL) {
        ngx_http_nexus_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    wrong.data = p;
    p = ngx_cpymem(p, dp->password.data, dp->password.len);
    *p = 'x';
    wrong.len = dp->password.len + 1;

    rc = ngx_http_nexus_password_verify(ctx, &wrong, &dp->phc,
                                        ngx_http_nexus_debug_password_wrong);
    if (rc == NGX_ERROR) {
        ngx_http_nexus_finalize(ctx, ngx_http_nexus_debug_password_busy(ctx));
    }
}


static void
ngx_http_nexus_debug_password_wrong(ngx_http_nexus_ctx_t *ctx, ngx_int_t rc,
    ngx_str_t *phc)
{
    json_t                           *doc;
    ngx_http_nexus_debug_password_t  *dp;

    dp = ctx->data;

    if (rc == NGX_ERROR) {
        ngx_http_nexus_finalize(ctx,
                                ngx_http_nexus_debug_password_failed(ctx));
        return;
    }

    doc = ngx_http_nexus_json_track(ctx->request,
              json_pack("{s:s%,s:b,s:b,s:I}",
                        "phc", dp->phc.data, dp->phc.len,
                        "match", (int) dp->match,
                        "wrong", rc == NGX_OK,
                        "ms", (json_int_t) (ngx_current_msec - dp->start)));
    if (doc == NULL) {
        ngx_http_nexus_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_nexus_finalize(ctx, ngx_http_nexus_send_json(ctx->request,
                                                          NGX_HTTP_OK, doc));
}


static void
ngx_http_nexus_debug_password_verified(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *phc)
{
    json_t                           *doc, *rehash;
    ngx_http_nexus_debug_password_t  *dp;

    dp = ctx->data;

    if (rc == NGX_ERROR) {
        ngx_http_nexus_finalize(ctx,
                                ngx_http_nexus_debug_password_failed(ctx));
        return;
    }

    rehash = phc ? json_stringn((char *) phc->data, phc->len) : json_null();

    /* "o" takes the reference to rehash, also when json_pack fails */
    doc = ngx_http_nexus_json_track(ctx->request,
              json_pack("{s:b,s:o,s:I}",
                        "match", rc == NGX_OK,
                        "rehash", rehash,
                        "ms", (json_int_t) (ngx_current_msec - dp->start)));
    if (doc == NULL) {
        ngx_http_nexus_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_nexus_finalize(ctx, ngx_http_nexus_send_json(ctx->request,
                                                          NGX_HTTP_OK, doc));
}


static ngx_int_t
ngx_http_nexus_debug_password_busy(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_send_unavailable(ctx->request, "password_busy",
               "The password hashing queue is full; retry shortly.");
}


static ngx_int_t
ngx_http_nexus_debug_password_failed(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_send_problem(ctx->request,
                                       NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       "password_error",
                                       "Password hashing failed.", NULL);
}
