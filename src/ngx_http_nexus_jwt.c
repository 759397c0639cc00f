/* STUB: replaced by the JWT implementation */
#include "ngx_http_nexus_auth.h"

char *
ngx_http_nexus_jwt_key_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return "is not implemented yet";
}

char *
ngx_http_nexus_jwt_init_conf(ngx_conf_t *cf, ngx_http_nexus_main_conf_t *nmcf)
{
    return NGX_CONF_OK;
}

void
ngx_http_nexus_jwt_exit(void)
{
}

ngx_int_t
ngx_http_nexus_jwt_issue(ngx_http_request_t *r,
    ngx_http_nexus_jwt_claims_t *claims, ngx_str_t *token)
{
    return NGX_DECLINED;
}

ngx_int_t
ngx_http_nexus_jwt_verify(ngx_http_request_t *r, ngx_str_t *token,
    ngx_http_nexus_jwt_claims_t *claims, const char **reason)
{
    *reason = "not implemented";
    return NGX_DECLINED;
}
