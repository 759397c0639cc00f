/* STUB: replaced by the rate limiter */
#include "ngx_http_nexus_auth.h"

char *
ngx_http_nexus_limit_zone_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return "is not implemented yet";
}

char *
ngx_http_nexus_limit_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return "is not implemented yet";
}

char *
ngx_http_nexus_limit_merge(ngx_conf_t *cf, ngx_http_nexus_loc_conf_t *prev,
    ngx_http_nexus_loc_conf_t *conf)
{
    ngx_conf_merge_ptr_value(conf->limits, prev->limits, NULL);
    return NGX_CONF_OK;
}

ngx_int_t
ngx_http_nexus_limit_request(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_endpoint_pt next)
{
    return next(ctx);
}

ngx_int_t
ngx_http_nexus_limit_account(ngx_http_nexus_ctx_t *ctx, ngx_str_t *account,
    ngx_http_nexus_endpoint_pt next)
{
    return next(ctx);
}
