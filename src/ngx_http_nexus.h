/*
 * Nexus: an e-commerce backend inside nginx.
 * Shared types of the module: configuration, the request context and the
 * helpers every endpoint uses to answer.
 */

#ifndef _NGX_HTTP_NEXUS_H_INCLUDED_
#define _NGX_HTTP_NEXUS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>


#define NGX_HTTP_NEXUS_MAX_PARAMS  16


typedef struct ngx_http_nexus_ctx_s  ngx_http_nexus_ctx_t;

typedef ngx_int_t (*ngx_http_nexus_endpoint_pt)(ngx_http_nexus_ctx_t *ctx);
/* receives the (status, body) an SQL endpoint answered */
typedef ngx_int_t (*ngx_http_nexus_call_pt)(ngx_http_nexus_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *body);


typedef struct {
    /* PostgreSQL */
    ngx_str_t                   pg_conninfo;
    ngx_str_t                   pg_password;
    ngx_str_t                   pg_hostaddr;    /* resolved at load */
    ngx_uint_t                  pg_pool_size;
    ngx_uint_t                  pg_queue_size;
    ngx_msec_t                  pg_queue_timeout;
    ngx_msec_t                  pg_connect_timeout;
    ngx_msec_t                  pg_query_timeout;
    ngx_msec_t                  pg_idle_timeout;

    /* Redis; redis_ip is empty when no Redis is configured */
    ngx_str_t                   redis_ip;
    in_port_t                   redis_port;
    ngx_str_t                   redis_password;
    ngx_uint_t                  redis_pool_size;
    ngx_msec_t                  redis_connect_timeout;
    ngx_msec_t                  redis_command_timeout;

    size_t                      cache_local_size;   /* per worker */

    /* accounts and security: see ngx_http_nexus_auth.h */
    void                       *jwt;            /* keys, jwt.c */
    ngx_str_t                   jwt_issuer;
    ngx_str_t                   jwt_audience;
    time_t                      access_ttl;
    time_t                      refresh_ttl;
    time_t                      session_ttl;
    ngx_flag_t                  product_approval;
    void                       *password;       /* scrypt, password.c */
    ngx_str_t                   password_thread_pool;
    ngx_array_t                *limit_zones;    /* limit.c */
    void                       *s3;             /* media storage, s3.c */

    /* one implicit store: no vendor fields or routes in the public API */
    ngx_flag_t                  single_seller;

    /* nexus_search_backend: ngx_http_nexus_search.h */
    struct ngx_http_nexus_search_backend_s  *search_backend;

    ngx_int_t                   request_id_index;
    ngx_flag_t                  used;
} ngx_http_nexus_main_conf_t;


typedef struct {
    ngx_flag_t                  api;
    ngx_flag_t                  cache;
    ngx_flag_t                  cache_local;
    ngx_msec_t                  cache_ttl;
    ngx_uint_t                  page_size;
    ngx_uint_t                  page_size_max;
    ngx_flag_t                  debug_endpoints;

    ngx_array_t                *limits;         /* nexus_limit, limit.c */
    size_t                      body_max;
    ngx_uint_t                  cookie_secure;
} ngx_http_nexus_loc_conf_t;


#define NGX_HTTP_NEXUS_COOKIE_SECURE_OFF   0
#define NGX_HTTP_NEXUS_COOKIE_SECURE_ON    1
#define NGX_HTTP_NEXUS_COOKIE_SECURE_AUTH  2    /* when the request is TLS */


/* who may call a route (see the table in ngx_http_nexus_handler.c) */
#define NGX_HTTP_NEXUS_PUBLIC      0    /* anyone; credentials not read */
#define NGX_HTTP_NEXUS_USER        1    /* any signed-in account */
#define NGX_HTTP_NEXUS_SELLER      2    /* staff of an active store; admins */
#define NGX_HTTP_NEXUS_ADMIN       3    /* platform operator */

/* route flags */
#define NGX_HTTP_NEXUS_CACHED      0x01 /* answers go to the catalog cache */
#define NGX_HTTP_NEXUS_SENSITIVE   0x02 /* limits fail closed, no-store */
#define NGX_HTTP_NEXUS_DEBUG       0x04 /* only with nexus_debug_endpoints */
#define NGX_HTTP_NEXUS_MARKETPLACE 0x08 /* not with nexus_single_seller */


typedef struct {
    ngx_uint_t                  method;
    ngx_str_t                   path;       /* "*" matches one segment */
    ngx_uint_t                  access;
    ngx_uint_t                  flags;
    ngx_http_nexus_endpoint_pt  handler;
} ngx_http_nexus_route_t;


/* how the caller proved who they are */
#define NGX_HTTP_NEXUS_AUTH_NONE    0
#define NGX_HTTP_NEXUS_AUTH_BEARER  1
#define NGX_HTTP_NEXUS_AUTH_COOKIE  2


typedef struct {
    int64_t                     user_id;        /* 0: anonymous */
    int64_t                     session_id;
    ngx_uint_t                  via;
    ngx_str_t                   user_id_text;
    ngx_str_t                   session_id_text;
    ngx_str_t                   email;
    unsigned                    admin:1;
    unsigned                    customer:1;
    unsigned                    seller:1;       /* staff of some store */
} ngx_http_nexus_principal_t;




/* a member of a JSON request body and what it must look like */
#define NGX_HTTP_NEXUS_FIELD_STRING   0
#define NGX_HTTP_NEXUS_FIELD_EMAIL    1
#define NGX_HTTP_NEXUS_FIELD_SLUG     2
#define NGX_HTTP_NEXUS_FIELD_UPPER    3     /* country, currency codes */
#define NGX_HTTP_NEXUS_FIELD_ENUM     4
#define NGX_HTTP_NEXUS_FIELD_URL      5
#define NGX_HTTP_NEXUS_FIELD_BOOL     6
#define NGX_HTTP_NEXUS_FIELD_INT      7
#define NGX_HTTP_NEXUS_FIELD_OBJECT   8     /* max: most members */
#define NGX_HTTP_NEXUS_FIELD_ARRAY    9     /* max: most elements; the
                                               elements are checked in SQL */

#define NGX_HTTP_NEXUS_FIELD_REQUIRED  1

typedef struct {
    const char                 *name;
    ngx_uint_t                  type;
    ngx_uint_t                  flags;
    size_t                      min;        /* characters, or integer value */
    size_t                      max;
    const char                 *choices;    /* ENUM: "a\0b\0" */
} ngx_http_nexus_field_t;


typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   value;
} ngx_http_nexus_arg_t;


struct ngx_http_nexus_ctx_s {
    ngx_http_request_t         *request;
    ngx_http_nexus_loc_conf_t  *lcf;

    /* the path segment captured by a route such as /api/products/{slug} */
    ngx_str_t                   path_param;

    /* decoded query string arguments */
    ngx_http_nexus_arg_t        args[NGX_HTTP_NEXUS_MAX_PARAMS];
    ngx_uint_t                  nargs;

    /* the backend session of this request (see ngx_http_nexus_pg.h) */
    void                       *pg;

    /* response caching */
    ngx_str_t                   cache_key;
    void                       *cache_cmd;
    ngx_http_nexus_endpoint_pt  cache_miss;

    ngx_http_log_handler_pt     log_handler;

    /* the route's rules */
    ngx_http_nexus_route_t     *route;
    ngx_uint_t                  sensitive;      /* limits fail closed */
    ngx_uint_t                  no_store;       /* Cache-Control: no-store */
    ngx_uint_t                  single_seller;  /* nexus_single_seller on */

    /* the request body, parsed; NULL when there is none */
    json_t                     *body;
    json_t                     *invalid;        /* its problems */
    ngx_http_nexus_endpoint_pt  body_next;

    /* the second path segment a route captures, if any */
    ngx_str_t                   path_param2;

    /* the caller, once authenticated */
    ngx_http_nexus_principal_t  principal;

    /* state of authentication, the rate limiter and the password hasher */
    void                       *auth;
    void                       *limit;
    void                       *password;

    ngx_http_nexus_call_pt      call_done;

    /* endpoint state */
    void                       *data;
};


extern ngx_module_t  ngx_http_nexus_module;


/* ngx_http_nexus_module.c */
ngx_int_t ngx_http_nexus_conf_secret(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *source, ngx_str_t *out);

/* ngx_http_nexus_handler.c */
ngx_int_t ngx_http_nexus_handler(ngx_http_request_t *r);
ngx_str_t *ngx_http_nexus_arg(ngx_http_nexus_ctx_t *ctx, const char *name);
void ngx_http_nexus_wait(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_continue(ngx_http_nexus_ctx_t *ctx);

/* ngx_http_nexus_body.c */
ngx_int_t ngx_http_nexus_body_start(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_endpoint_pt next);
ngx_int_t ngx_http_nexus_body_check(ngx_http_nexus_ctx_t *ctx,
    const ngx_http_nexus_field_t *fields);
ngx_int_t ngx_http_nexus_send_invalid(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_body_str(ngx_http_nexus_ctx_t *ctx,
    const char *name, ngx_str_t *out);
ngx_int_t ngx_http_nexus_body_text(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *out);

/* ngx_http_nexus_response.c */
json_t *ngx_http_nexus_json_track(ngx_http_request_t *r, json_t *json);
ngx_int_t ngx_http_nexus_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body, ngx_str_t *etag);
ngx_int_t ngx_http_nexus_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json);
ngx_int_t ngx_http_nexus_send_problem(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *detail, json_t *extra);
ngx_int_t ngx_http_nexus_send_param_problem(ngx_http_request_t *r,
    const char *param, const char *reason);
ngx_int_t ngx_http_nexus_send_unavailable(ngx_http_request_t *r,
    const char *code, const char *detail);
ngx_int_t ngx_http_nexus_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value);
void ngx_http_nexus_etag(ngx_str_t *body, u_char *out);
void ngx_http_nexus_response_exit(void);
void ngx_http_nexus_finalize(ngx_http_nexus_ctx_t *ctx, ngx_int_t rc);

#define NGX_HTTP_NEXUS_ETAG_LEN  34     /* quoted 32 hex digits */


/* ngx_http_nexus_cache.c */
ngx_int_t ngx_http_nexus_cache_lookup(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_endpoint_pt miss);
ngx_int_t ngx_http_nexus_send_cacheable(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *body);
ngx_int_t ngx_http_nexus_strip_vendors(ngx_http_request_t *r,
    ngx_str_t *body);
ngx_uint_t ngx_http_nexus_single_seller(ngx_http_request_t *r);

/* ngx_http_nexus_cache_local.c: the per-worker cache in front of Redis */
ngx_int_t ngx_http_nexus_cache_local_init(ngx_cycle_t *cycle, size_t size);
void ngx_http_nexus_cache_local_exit(void);
ngx_int_t ngx_http_nexus_cache_local_get(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *value);
void ngx_http_nexus_cache_local_put(ngx_str_t *key, u_char *value,
    size_t len, ngx_msec_t ttl);

/* ngx_http_nexus_listen.c: the catalog version, kept fresh by LISTEN */
ngx_int_t ngx_http_nexus_listen_init(ngx_cycle_t *cycle,
    ngx_http_nexus_main_conf_t *nmcf);
void ngx_http_nexus_listen_exit(void);
ngx_int_t ngx_http_nexus_catalog_version(uint64_t *version);

/* api/ngx_http_nexus_api_call.c: endpoints that are one SQL function */
ngx_int_t ngx_http_nexus_call(ngx_http_nexus_ctx_t *ctx, const char *endpoint,
    json_t *meta_extra, ngx_http_nexus_call_pt done);
ngx_int_t ngx_http_nexus_call_checked(ngx_http_nexus_ctx_t *ctx,
    const char *endpoint, const ngx_http_nexus_field_t *fields);
ngx_int_t ngx_http_nexus_call_body(ngx_http_nexus_ctx_t *ctx,
    const char *endpoint, const ngx_http_nexus_field_t *fields,
    json_t *meta_extra, ngx_http_nexus_call_pt done);
ngx_int_t ngx_http_nexus_call_send(ngx_http_nexus_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *body);
ngx_int_t ngx_http_nexus_call_member(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *body, const char *name, ngx_str_t *out);

/* an endpoint that is its body's field list and the SQL function of its name */
#define NGX_HTTP_NEXUS_SQL_ENDPOINT(name, fields)                            \
    ngx_int_t                                                                 \
    ngx_http_nexus_api_##name(ngx_http_nexus_ctx_t *ctx)                      \
    {                                                                         \
        return ngx_http_nexus_call_checked(ctx, #name, fields);               \
    }

/* api/ngx_http_nexus_api_catalog.c: shared with search */
ngx_int_t ngx_http_nexus_check_args(ngx_http_nexus_ctx_t *ctx,
    const char **known);
ngx_int_t ngx_http_nexus_list_filters(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *params);
ngx_int_t ngx_http_nexus_list_limit(ngx_http_nexus_ctx_t *ctx,
    ngx_uint_t *limit);
ngx_int_t ngx_http_nexus_is_digits(ngx_str_t *s, size_t max);

/* api/ endpoints, routed by the table in ngx_http_nexus_handler.c */
ngx_int_t ngx_http_nexus_api_products_list(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_product_get(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_categories_tree(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_category_get(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_vendor_get(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_search(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_register(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_login(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_refresh(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_logout(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_verify_email(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_reset_request(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_reset_confirm(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_me_get(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_me_update(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_me_delete(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_me_password(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_me_verify_email(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_me_export(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_addresses_list(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_address_create(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_address_get(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_address_update(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_address_delete(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_store_apply(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_seller_stores(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_staff_list(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_staff_add(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_staff_remove(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_stores(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_store_approve(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_store_reject(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_store_suspend(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_users(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_user_update(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_audit(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_settings(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_settings_update(
    ngx_http_nexus_ctx_t *ctx);

/* api/ngx_http_nexus_api_inventory.c */
ngx_int_t ngx_http_nexus_api_stock_adjust(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_stock_bulk(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_stock_low(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_stock_movements(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_store_inventory(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_variant_inventory(ngx_http_nexus_ctx_t *ctx);


/* catalog management (issue 4) */
ngx_int_t ngx_http_nexus_api_seller_products(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_seller_product_create(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_seller_product_get(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_seller_product_update(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_seller_variant_create(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_seller_variant_update(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_products(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_product_approve(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_product_reject(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_category_create(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_category_update(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_category_delete(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_tag_create(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_tag_update(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_tag_delete(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_attribute_create(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_admin_attribute_update(ngx_http_nexus_ctx_t *ctx);
/* media (api/ngx_http_nexus_api_media.c) */
ngx_int_t ngx_http_nexus_api_media_create(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_media_list(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_media_complete(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_media_update(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_media_delete(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_debug_s3_presign(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_debug_sleep(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_debug_txn(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_debug_limit(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_debug_password(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_debug_jwt_issue(ngx_http_nexus_ctx_t *ctx);
ngx_int_t ngx_http_nexus_api_debug_jwt_verify(ngx_http_nexus_ctx_t *ctx);


#endif /* _NGX_HTTP_NEXUS_H_INCLUDED_ */
