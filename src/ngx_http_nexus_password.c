/* STUB: replaced by the scrypt implementation */
#include "ngx_http_nexus_auth.h"

char *
ngx_http_nexus_password_scrypt_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    return "is not implemented yet";
}

char *
ngx_http_nexus_password_init_conf(ngx_conf_t *cf,
    ngx_http_nexus_main_conf_t *nmcf)
{
    return NGX_CONF_OK;
}

ngx_int_t
ngx_http_nexus_password_hash(ngx_http_nexus_ctx_t *ctx, ngx_str_t *password,
    ngx_http_nexus_password_pt handler)
{
    return NGX_ERROR;
}

ngx_int_t
ngx_http_nexus_password_verify(ngx_http_nexus_ctx_t *ctx, ngx_str_t *password,
    ngx_str_t *phc, ngx_http_nexus_password_pt handler)
{
    return NGX_ERROR;
}
