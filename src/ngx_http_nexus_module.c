/*
 * ngx_http_nexus_module: directives, configuration and the worker
 * lifecycle (per-worker PostgreSQL pool, LISTEN connection and Redis).
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_pg.h"
#include "ngx_http_nexus_redis.h"
#include "ngx_http_nexus_auth.h"
#include "ngx_http_nexus_s3.h"
#include "ngx_http_nexus_search.h"


static void *ngx_http_nexus_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_nexus_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_nexus_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_nexus_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_nexus_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_nexus_postgres(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_nexus_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_nexus_resolve_pg_host(ngx_conf_t *cf,
    ngx_http_nexus_main_conf_t *nmcf, char *host);
static char *ngx_http_nexus_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_nexus_search_backend_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_nexus_check_page_size(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_nexus_init_process(ngx_cycle_t *cycle);
static void ngx_http_nexus_exit_process(ngx_cycle_t *cycle);


static ngx_conf_num_bounds_t  ngx_http_nexus_pool_bounds = {
    ngx_conf_check_num_bounds, 1, 1024
};

static ngx_conf_num_bounds_t  ngx_http_nexus_queue_bounds = {
    ngx_conf_check_num_bounds, 0, 65536
};

static ngx_conf_num_bounds_t  ngx_http_nexus_redis_pool_bounds = {
    ngx_conf_check_num_bounds, 1, 64
};

static ngx_conf_post_t  ngx_http_nexus_page_size_post = {
    ngx_http_nexus_check_page_size
};

static ngx_conf_enum_t  ngx_http_nexus_cookie_secure[] = {
    { ngx_string("off"), NGX_HTTP_NEXUS_COOKIE_SECURE_OFF },
    { ngx_string("on"), NGX_HTTP_NEXUS_COOKIE_SECURE_ON },
    { ngx_string("auto"), NGX_HTTP_NEXUS_COOKIE_SECURE_AUTH },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_nexus_commands[] = {

    { ngx_string("nexus_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_nexus_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("nexus_postgres"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_postgres,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("nexus_postgres_password"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_secret,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, pg_password),
      NULL },

    { ngx_string("nexus_postgres_pool_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, pg_pool_size),
      &ngx_http_nexus_pool_bounds },

    { ngx_string("nexus_postgres_queue_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, pg_queue_size),
      &ngx_http_nexus_queue_bounds },

    { ngx_string("nexus_postgres_queue_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, pg_queue_timeout),
      NULL },

    { ngx_string("nexus_postgres_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, pg_connect_timeout),
      NULL },

    { ngx_string("nexus_postgres_query_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, pg_query_timeout),
      NULL },

    { ngx_string("nexus_postgres_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, pg_idle_timeout),
      NULL },

    { ngx_string("nexus_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("nexus_redis_password"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_secret,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, redis_password),
      NULL },

    { ngx_string("nexus_redis_pool_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, redis_pool_size),
      &ngx_http_nexus_redis_pool_bounds },

    { ngx_string("nexus_redis_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, redis_connect_timeout),
      NULL },

    { ngx_string("nexus_redis_command_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, redis_command_timeout),
      NULL },

    { ngx_string("nexus_cache_local_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, cache_local_size),
      NULL },

    { ngx_string("nexus_search_backend"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_search_backend_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("nexus_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_nexus_loc_conf_t, cache),
      NULL },

    { ngx_string("nexus_cache_local"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_nexus_loc_conf_t, cache_local),
      NULL },

    { ngx_string("nexus_cache_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_nexus_loc_conf_t, cache_ttl),
      NULL },

    { ngx_string("nexus_page_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_nexus_loc_conf_t, page_size),
      &ngx_http_nexus_page_size_post },

    { ngx_string("nexus_page_size_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_nexus_loc_conf_t, page_size_max),
      &ngx_http_nexus_page_size_post },

    { ngx_string("nexus_debug_endpoints"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_nexus_loc_conf_t, debug_endpoints),
      NULL },

    { ngx_string("nexus_jwt_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3|NGX_CONF_TAKE4,
      ngx_http_nexus_jwt_key_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("nexus_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, jwt_issuer),
      NULL },

    { ngx_string("nexus_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, jwt_audience),
      NULL },

    { ngx_string("nexus_access_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, access_ttl),
      NULL },

    { ngx_string("nexus_refresh_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, refresh_ttl),
      NULL },

    { ngx_string("nexus_session_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, session_ttl),
      NULL },

    /* sellers' new and changed products wait for an operator */
    { ngx_string("nexus_product_approval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, product_approval),
      NULL },

    { ngx_string("nexus_password_scrypt"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3,
      ngx_http_nexus_password_scrypt_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("nexus_password_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, password_thread_pool),
      NULL },

    { ngx_string("nexus_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_nexus_limit_zone_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("nexus_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_nexus_limit_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("nexus_single_seller"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_nexus_main_conf_t, single_seller),
      NULL },

    { ngx_string("nexus_body_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_nexus_loc_conf_t, body_max),
      NULL },

    { ngx_string("nexus_cookie_secure"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_nexus_loc_conf_t, cookie_secure),
      &ngx_http_nexus_cookie_secure },

    /* media storage: ngx_http_nexus_s3.c */
    { ngx_string("nexus_s3_bucket"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_s3_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_NEXUS_S3_BUCKET,
      NULL },

    { ngx_string("nexus_s3_region"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_s3_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_NEXUS_S3_REGION,
      NULL },

    { ngx_string("nexus_s3_endpoint"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_s3_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_NEXUS_S3_ENDPOINT,
      NULL },

    { ngx_string("nexus_s3_access_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_s3_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_NEXUS_S3_ACCESS_KEY,
      NULL },

    { ngx_string("nexus_s3_secret_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_s3_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_NEXUS_S3_SECRET_KEY,
      NULL },

    { ngx_string("nexus_s3_upload_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_s3_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_NEXUS_S3_UPLOAD_TTL,
      NULL },

    { ngx_string("nexus_s3_max_upload_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_s3_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_NEXUS_S3_MAX_SIZE,
      NULL },

    { ngx_string("nexus_s3_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_s3_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_NEXUS_S3_PUBLIC_URL,
      NULL },

    { ngx_string("nexus_s3_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_s3_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_NEXUS_S3_TIMEOUT,
      NULL },

    { ngx_string("nexus_s3_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_nexus_s3_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      NGX_HTTP_NEXUS_S3_TRUSTED,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_nexus_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_nexus_create_main_conf,       /* create main configuration */
    ngx_http_nexus_init_main_conf,         /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_nexus_create_loc_conf,        /* create location configuration */
    ngx_http_nexus_merge_loc_conf          /* merge location configuration */
};


ngx_module_t  ngx_http_nexus_module = {
    NGX_MODULE_V1,
    &ngx_http_nexus_module_ctx,            /* module context */
    ngx_http_nexus_commands,               /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_nexus_init_process,           /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_nexus_exit_process,           /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_nexus_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_nexus_main_conf_t  *nmcf;

    nmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_nexus_main_conf_t));
    if (nmcf == NULL) {
        return NULL;
    }

    nmcf->pg_pool_size = NGX_CONF_UNSET_UINT;
    nmcf->pg_queue_size = NGX_CONF_UNSET_UINT;
    nmcf->pg_queue_timeout = NGX_CONF_UNSET_MSEC;
    nmcf->pg_connect_timeout = NGX_CONF_UNSET_MSEC;
    nmcf->pg_query_timeout = NGX_CONF_UNSET_MSEC;
    nmcf->pg_idle_timeout = NGX_CONF_UNSET_MSEC;
    nmcf->redis_pool_size = NGX_CONF_UNSET_UINT;
    nmcf->redis_connect_timeout = NGX_CONF_UNSET_MSEC;
    nmcf->redis_command_timeout = NGX_CONF_UNSET_MSEC;
    nmcf->cache_local_size = NGX_CONF_UNSET_SIZE;
    nmcf->request_id_index = NGX_ERROR;
    nmcf->access_ttl = NGX_CONF_UNSET;
    nmcf->refresh_ttl = NGX_CONF_UNSET;
    nmcf->session_ttl = NGX_CONF_UNSET;
    nmcf->single_seller = NGX_CONF_UNSET;
    nmcf->product_approval = NGX_CONF_UNSET;

    return nmcf;
}


static char *
ngx_http_nexus_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_nexus_main_conf_t *nmcf = conf;

    static ngx_str_t  request_id = ngx_string("request_id");

    ngx_conf_init_uint_value(nmcf->pg_pool_size, 8);
    ngx_conf_init_uint_value(nmcf->pg_queue_size, 128);
    ngx_conf_init_msec_value(nmcf->pg_queue_timeout, 2000);
    ngx_conf_init_msec_value(nmcf->pg_connect_timeout, 5000);
    ngx_conf_init_msec_value(nmcf->pg_query_timeout, 10000);
    ngx_conf_init_msec_value(nmcf->pg_idle_timeout, 60000);
    ngx_conf_init_uint_value(nmcf->redis_pool_size, 2);
    ngx_conf_init_msec_value(nmcf->redis_connect_timeout, 1000);
    ngx_conf_init_msec_value(nmcf->redis_command_timeout, 500);
    ngx_conf_init_size_value(nmcf->cache_local_size, 0);
    ngx_conf_init_value(nmcf->access_ttl, 900);
    ngx_conf_init_value(nmcf->refresh_ttl, 30 * 86400);
    ngx_conf_init_value(nmcf->session_ttl, 7 * 86400);
    ngx_conf_init_value(nmcf->single_seller, 0);
    ngx_conf_init_value(nmcf->product_approval, 0);

    if (nmcf->jwt_issuer.data == NULL) {
        ngx_str_set(&nmcf->jwt_issuer, "nexus");
    }

    if (nmcf->jwt_audience.data == NULL) {
        ngx_str_set(&nmcf->jwt_audience, "nexus-api");
    }

    if (nmcf->access_ttl < 10 || nmcf->access_ttl > 86400) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: \"nexus_access_token_ttl\" must be "
                           "between 10s and 1d");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_nexus_jwt_init_conf(cf, nmcf) != NGX_CONF_OK
        || ngx_http_nexus_password_init_conf(cf, nmcf) != NGX_CONF_OK
        || ngx_http_nexus_s3_init_conf(cf, nmcf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (nmcf->cache_local_size && nmcf->cache_local_size < 64 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: \"nexus_cache_local_size\" must be 0 "
                           "(off) or at least 64k");
        return NGX_CONF_ERROR;
    }

    if (nmcf->used && nmcf->pg_conninfo.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: \"nexus_api\" needs \"nexus_postgres\" "
                           "in the http block");
        return NGX_CONF_ERROR;
    }

    if (nmcf->search_backend == NULL) {
        nmcf->search_backend = &ngx_http_nexus_search_pg;
    }

    if (nmcf->search_backend->init
        && nmcf->search_backend->init(cf, nmcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    nmcf->request_id_index = ngx_http_get_variable_index(cf, &request_id);
    if (nmcf->request_id_index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_nexus_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_nexus_loc_conf_t  *nlcf;

    nlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_nexus_loc_conf_t));
    if (nlcf == NULL) {
        return NULL;
    }

    nlcf->api = NGX_CONF_UNSET;
    nlcf->cache = NGX_CONF_UNSET;
    nlcf->cache_local = NGX_CONF_UNSET;
    nlcf->cache_ttl = NGX_CONF_UNSET_MSEC;
    nlcf->page_size = NGX_CONF_UNSET_UINT;
    nlcf->page_size_max = NGX_CONF_UNSET_UINT;
    nlcf->debug_endpoints = NGX_CONF_UNSET;
    nlcf->limits = NGX_CONF_UNSET_PTR;
    nlcf->body_max = NGX_CONF_UNSET_SIZE;
    nlcf->cookie_secure = NGX_CONF_UNSET_UINT;

    return nlcf;
}


static char *
ngx_http_nexus_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_nexus_loc_conf_t *prev = parent;
    ngx_http_nexus_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->api, prev->api, 0);
    ngx_conf_merge_value(conf->cache, prev->cache, 0);
    ngx_conf_merge_value(conf->cache_local, prev->cache_local, 1);
    ngx_conf_merge_msec_value(conf->cache_ttl, prev->cache_ttl, 300000);
    ngx_conf_merge_uint_value(conf->page_size, prev->page_size, 24);
    ngx_conf_merge_uint_value(conf->page_size_max, prev->page_size_max, 100);
    ngx_conf_merge_value(conf->debug_endpoints, prev->debug_endpoints, 0);
    ngx_conf_merge_size_value(conf->body_max, prev->body_max, 16384);
    ngx_conf_merge_uint_value(conf->cookie_secure, prev->cookie_secure,
                              NGX_HTTP_NEXUS_COOKIE_SECURE_AUTH);

    if (ngx_http_nexus_limit_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->page_size > conf->page_size_max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: \"nexus_page_size\" %ui is larger than "
                           "\"nexus_page_size_max\" %ui",
                           conf->page_size, conf->page_size_max);
        return NGX_CONF_ERROR;
    }

    if (conf->cache_ttl < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: \"nexus_cache_ttl\" must be at least 1s");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_nexus_check_page_size(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *np = data;

    if (*np < 1 || *np > 1000) {
        return "must be between 1 and 1000";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_nexus_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_nexus_loc_conf_t *nlcf = conf;

    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_nexus_main_conf_t  *nmcf;

    if (nlcf->api != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    nlcf->api = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_nexus_handler;

    nmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_nexus_module);
    nmcf->used = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_nexus_postgres(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_nexus_main_conf_t *nmcf = conf;

    char              *err, *host, *hostaddr;
    ngx_int_t          rc;
    ngx_str_t         *value;
    ngx_uint_t         has_password;
    PQconninfoOption  *opts, *o;

    if (nmcf->pg_conninfo.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* a NUL-terminated copy for libpq */
    nmcf->pg_conninfo.data = ngx_pnalloc(cf->pool, value[1].len + 1);
    if (nmcf->pg_conninfo.data == NULL) {
        return NGX_CONF_ERROR;
    }

    nmcf->pg_conninfo.len = value[1].len;
    *ngx_cpymem(nmcf->pg_conninfo.data, value[1].data, value[1].len) = '\0';

    /* parse it now so a typo fails "nginx -t", not the first request */
    err = NULL;
    opts = PQconninfoParse((char *) nmcf->pg_conninfo.data, &err);

    if (opts == NULL) {
        if (err) {
            /* libpq ends its messages with a newline */
            err[strcspn(err, "\n")] = '\0';
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: invalid PostgreSQL connection string: %s",
                           err ? err : "out of memory");
        if (err) {
            PQfreemem(err);
        }
        return NGX_CONF_ERROR;
    }

    has_password = 0;
    host = NULL;
    hostaddr = NULL;

    for (o = opts; o->keyword; o++) {
        if (o->val == NULL || o->val[0] == '\0') {
            continue;
        }

        if (ngx_strcmp(o->keyword, "password") == 0) {
            has_password = 1;

        } else if (ngx_strcmp(o->keyword, "host") == 0) {
            host = o->val;

        } else if (ngx_strcmp(o->keyword, "hostaddr") == 0) {
            hostaddr = o->val;
        }
    }

    rc = NGX_OK;

    if (host && hostaddr == NULL) {
        rc = ngx_http_nexus_resolve_pg_host(cf, nmcf, host);
    }

    PQconninfoFree(opts);

    if (rc != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (has_password) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: no password inside \"nexus_postgres\"; "
                           "use \"nexus_postgres_password file:PATH\" or "
                           "\"env:NAME\", or a libpq passfile");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * libpq would resolve a host name with a blocking lookup at every new
 * connection; resolve it once here and hand libpq the address instead.
 */

static ngx_int_t
ngx_http_nexus_resolve_pg_host(ngx_conf_t *cf,
    ngx_http_nexus_main_conf_t *nmcf, char *host)
{
    size_t     len;
    u_char     text[NGX_SOCKADDR_STRLEN];
    ngx_url_t  u;

    /* socket directories, several hosts, or already an address */
    if (host[0] == '/' || host[0] == '@' || ngx_strchr(host, ',')
        || ngx_inet_addr((u_char *) host, ngx_strlen(host)) != INADDR_NONE
        || ngx_strchr(host, ':'))
    {
        return NGX_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url.data = (u_char *) host;
    u.url.len = ngx_strlen(host);
    u.default_port = 5432;
    u.no_resolve = 0;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: cannot resolve PostgreSQL host \"%s\"%s%s",
                           host, u.err ? ": " : "", u.err ? u.err : "");
        return NGX_ERROR;
    }

    len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, text,
                        NGX_SOCKADDR_STRLEN, 0);

    nmcf->pg_hostaddr.data = ngx_pnalloc(cf->pool, len + 1);
    if (nmcf->pg_hostaddr.data == NULL) {
        return NGX_ERROR;
    }

    nmcf->pg_hostaddr.len = len;
    *ngx_cpymem(nmcf->pg_hostaddr.data, text, len) = '\0';

    return NGX_OK;
}


static char *
ngx_http_nexus_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_nexus_main_conf_t *nmcf = conf;

    size_t      len;
    u_char      text[NGX_SOCKADDR_STRLEN];
    ngx_str_t  *value;
    ngx_url_t   u;

    if (nmcf->redis_ip.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.default_port = 6379;

    /* resolved here, once: a worker never waits on DNS */
    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: invalid Redis address \"%V\": %s",
                           &u.url, u.err ? u.err : "unknown error");
        return NGX_CONF_ERROR;
    }

    if (u.naddrs == 0 || u.addrs[0].sockaddr->sa_family != AF_INET) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: Redis address \"%V\" must resolve to "
                           "an IPv4 address", &u.url);
        return NGX_CONF_ERROR;
    }

    len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, text,
                        NGX_SOCKADDR_STRLEN, 0);

    nmcf->redis_ip.data = ngx_pnalloc(cf->pool, len + 1);
    if (nmcf->redis_ip.data == NULL) {
        return NGX_CONF_ERROR;
    }

    nmcf->redis_ip.len = len;
    *ngx_cpymem(nmcf->redis_ip.data, text, len) = '\0';
    nmcf->redis_port = u.port;

    return NGX_CONF_OK;
}


/* unknown names refuse to start: a typo must not fall back silently */

static char *
ngx_http_nexus_search_backend_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_nexus_main_conf_t *nmcf = conf;

    ngx_str_t  *value;

    if (nmcf->search_backend) {
        return "is duplicate";
    }

    value = cf->args->elts;

    nmcf->search_backend = ngx_http_nexus_search_backend(&value[1]);

    if (nmcf->search_backend == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: unknown search backend \"%V\" "
                           "(known: postgres)", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* "file:/path" or "env:NAME": secrets never sit in nginx.conf itself */

static char *
ngx_http_nexus_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t  *value, *field;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_nexus_conf_secret(cf, &cmd->name, &value[1], field)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Reads a secret named by "file:PATH" or "env:NAME" into a NUL-terminated
 * copy; directive names the directive in error messages. Up to 4096 bytes.
 */

ngx_int_t
ngx_http_nexus_conf_secret(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *source, ngx_str_t *out)
{
    u_char           *v;
    size_t            len;
    ssize_t           n;
    ngx_str_t         name;
    ngx_file_t        file;
    ngx_file_info_t   fi;


    if (source->len > 4 && ngx_strncmp(source->data, "env:", 4) == 0) {
        name.len = source->len - 4;
        name.data = ngx_pnalloc(cf->pool, name.len + 1);
        if (name.data == NULL) {
            return NGX_ERROR;
        }

        *ngx_cpymem(name.data, source->data + 4, name.len) = '\0';

        v = (u_char *) getenv((char *) name.data);
        if (v == NULL || *v == '\0') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: environment variable \"%V\" for "
                               "\"%V\" is not set", &name, directive);
            return NGX_ERROR;
        }

        len = ngx_strlen(v);

    } else if (source->len > 5
               && ngx_strncmp(source->data, "file:", 5) == 0)
    {
        name.len = source->len - 5;
        name.data = source->data + 5;

        if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_memzero(&file, sizeof(ngx_file_t));
        file.name = name;
        file.log = cf->log;

        /* configuration time: a blocking read is fine here */
        file.fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
        if (file.fd == NGX_INVALID_FILE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "nexus: cannot open secret file \"%V\"",
                               &name);
            return NGX_ERROR;
        }

        if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR
            || ngx_file_size(&fi) > 4096)
        {
            ngx_close_file(file.fd);
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: secret file \"%V\" is unreadable or "
                               "larger than 4096 bytes", &name);
            return NGX_ERROR;
        }

        v = ngx_pnalloc(cf->pool, ngx_file_size(&fi) + 1);
        if (v == NULL) {
            ngx_close_file(file.fd);
            return NGX_ERROR;
        }

        n = ngx_read_file(&file, v, ngx_file_size(&fi), 0);
        ngx_close_file(file.fd);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        len = n;

        /* a trailing newline is not part of the secret */
        while (len && (v[len - 1] == '\n' || v[len - 1] == '\r')) {
            len--;
        }

        if (len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: secret file \"%V\" is empty", &name);
            return NGX_ERROR;
        }

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: \"%V\" takes \"file:PATH\" or "
                           "\"env:NAME\", never the secret itself",
                           directive);
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(cf->pool, len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = len;
    *ngx_cpymem(out->data, v, len) = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_http_nexus_init_process(ngx_cycle_t *cycle)
{
    ngx_http_nexus_main_conf_t  *nmcf;

    nmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_nexus_module);

    if (nmcf == NULL || !nmcf->used) {
        return NGX_OK;
    }

    if (ngx_http_nexus_pg_init_process(cycle, nmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_nexus_redis_init_process(cycle, nmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_nexus_cache_local_init(cycle, nmcf->cache_local_size)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_nexus_listen_init(cycle, nmcf);
}


static void
ngx_http_nexus_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_nexus_listen_exit();
    ngx_http_nexus_jwt_exit();
    ngx_http_nexus_response_exit();
    ngx_http_nexus_cache_local_exit();
    ngx_http_nexus_redis_exit_process();
    ngx_http_nexus_pg_exit_process();
}
