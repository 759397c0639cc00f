/*
 * Test-only endpoint, served only where "nexus_debug_endpoints on" is set:
 * GET /api/_debug/limit?account=X[&sensitive=1] checks the location's
 * account-keyed limit zones for account X, as a log-in does for the e-mail
 * it names, and answers {"ok":true} when they allow it. sensitive=1 makes
 * zones without fail= fail closed, as on the log-in route.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_auth.h"


static ngx_int_t ngx_http_nexus_debug_limit_ok(ngx_http_nexus_ctx_t *ctx);


ngx_int_t
ngx_http_nexus_api_debug_limit(ngx_http_nexus_ctx_t *ctx)
{
    ngx_str_t  *account, *sensitive;

    account = ngx_http_nexus_arg(ctx, "account");
    sensitive = ngx_http_nexus_arg(ctx, "sensitive");

    ctx->sensitive = (sensitive && sensitive->len == 1
                      && sensitive->data[0] == '1');

    return ngx_http_nexus_limit_account(ctx, account,
                                        ngx_http_nexus_debug_limit_ok);
}


static ngx_int_t
ngx_http_nexus_debug_limit_ok(ngx_http_nexus_ctx_t *ctx)
{
    json_t  *doc;

    doc = ngx_http_nexus_json_track(ctx->request, json_pack("{s:b}", "ok", 1));
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_nexus_send_json(ctx->request, NGX_HTTP_OK, doc);
}
