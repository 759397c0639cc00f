/*
 * The response cache for catalog GETs, in Redis, with an optional
 * per-worker copy in front of it (ngx_http_nexus_cache_local.c).
 *
 * Keys carry the catalog version (see ngx_http_nexus_listen.c), so a change
 * in PostgreSQL makes older entries unreachable at once; they expire by TTL.
 * The value is the ETag, a newline and the body. When the version is
 * unknown or Redis is down, requests go straight to PostgreSQL.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_redis.h"


#define NGX_HTTP_NEXUS_CACHE_PREFIX  "nexus:c1:"
#define NGX_HTTP_NEXUS_CACHE_SINGLE  "nexus:c1s:"  /* nexus_single_seller */


static void ngx_http_nexus_cache_on_get(void *data, redisReply *reply);
static ngx_int_t ngx_http_nexus_cache_send_hit(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *value);
static void ngx_http_nexus_cache_cleanup(void *data);
static ngx_int_t ngx_http_nexus_cache_status(ngx_http_request_t *r,
    const char *status);
static void ngx_http_nexus_strip_json(json_t *json);


ngx_int_t
ngx_http_nexus_cache_lookup(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_endpoint_pt miss)
{
    u_char                      *p;
    size_t                       len;
    uint64_t                     version;
    ngx_int_t                    rc;
    ngx_str_t                    value;
    const char                  *argv[2];
    size_t                       argvlen[2];
    ngx_http_request_t          *r;
    ngx_pool_cleanup_t          *cln;
    ngx_http_nexus_redis_cmd_t  *cmd;

    r = ctx->request;

    if (ngx_http_nexus_catalog_version(&version) != NGX_OK) {
        if (ngx_http_nexus_cache_status(r, "BYPASS") != NGX_OK) {
            return NGX_ERROR;
        }

        return miss(ctx);
    }

    /* page sizes are per location: two locations may share a Redis */
    len = sizeof(NGX_HTTP_NEXUS_CACHE_PREFIX) - 1 + 3 * (NGX_INT64_LEN + 1)
          + r->unparsed_uri.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->cache_key.data = p;
    ctx->cache_key.len = ngx_snprintf(p, len, "%s%uL:%ui:%ui:%V",
                                      ctx->single_seller
                                      ? NGX_HTTP_NEXUS_CACHE_SINGLE
                                      : NGX_HTTP_NEXUS_CACHE_PREFIX,
                                      version,
                                      ctx->lcf->page_size,
                                      ctx->lcf->page_size_max,
                                      &r->unparsed_uri)
                         - p;
    ctx->cache_miss = miss;

    rc = ctx->lcf->cache_local
         ? ngx_http_nexus_cache_local_get(r, &ctx->cache_key, &value)
         : NGX_DECLINED;

    if (rc == NGX_OK) {
        return ngx_http_nexus_cache_send_hit(ctx, &value);
    }

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "GET";
    argvlen[0] = 3;
    argv[1] = (const char *) ctx->cache_key.data;
    argvlen[1] = ctx->cache_key.len;

    cmd = ngx_http_nexus_redis_command(ngx_http_nexus_cache_on_get, ctx, 2,
                                       argv, argvlen);

    if (cmd == NULL) {
        /* no Redis now: serve from PostgreSQL (and the local cache) */
        if (ngx_http_nexus_cache_status(r, "BYPASS") != NGX_OK) {
            return NGX_ERROR;
        }

        return miss(ctx);
    }

    ctx->cache_cmd = cmd;
    cln->handler = ngx_http_nexus_cache_cleanup;
    cln->data = ctx;

    return NGX_DONE;
}


static void
ngx_http_nexus_cache_on_get(void *data, redisReply *reply)
{
    ngx_http_nexus_ctx_t *ctx = data;

    ngx_int_t            rc;
    ngx_str_t            value;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;
    ctx->cache_cmd = NULL;

    if (reply != NULL && reply->type == REDIS_REPLY_STRING
        && reply->len > NGX_HTTP_NEXUS_ETAG_LEN
        && reply->str[NGX_HTTP_NEXUS_ETAG_LEN] == '\n')
    {
        /* the reply is freed when this callback returns */
        value.len = reply->len;
        value.data = ngx_pnalloc(r->pool, reply->len);
        if (value.data == NULL) {
            ngx_http_nexus_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            goto done;
        }

        ngx_memcpy(value.data, reply->str, reply->len);

        if (ctx->lcf->cache_local) {
            ngx_http_nexus_cache_local_put(&ctx->cache_key, value.data,
                                           value.len, ctx->lcf->cache_ttl);
        }

        ngx_http_nexus_finalize(ctx,
                                ngx_http_nexus_cache_send_hit(ctx, &value));
        goto done;
    }

    if (ngx_http_nexus_cache_status(r, reply ? "MISS" : "BYPASS") != NGX_OK) {
        ngx_http_nexus_finalize(ctx, NGX_ERROR);
        goto done;
    }

    rc = ctx->cache_miss(ctx);

    if (rc != NGX_DONE) {
        ngx_http_nexus_finalize(ctx, rc);
    }

done:

    ngx_http_run_posted_requests(c);
}


/* value: the ETag, a newline, the body */

static ngx_int_t
ngx_http_nexus_cache_send_hit(ngx_http_nexus_ctx_t *ctx, ngx_str_t *value)
{
    ngx_str_t  body, etag;

    etag.data = value->data;
    etag.len = NGX_HTTP_NEXUS_ETAG_LEN;
    body.data = value->data + NGX_HTTP_NEXUS_ETAG_LEN + 1;
    body.len = value->len - NGX_HTTP_NEXUS_ETAG_LEN - 1;

    /* nothing to store after a hit */
    ngx_str_null(&ctx->cache_key);

    if (ngx_http_nexus_cache_status(ctx->request, "HIT") != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_nexus_send_body(ctx->request, NGX_HTTP_OK, &body, &etag);
}


static void
ngx_http_nexus_cache_cleanup(void *data)
{
    ngx_http_nexus_ctx_t *ctx = data;

    if (ctx->cache_cmd) {
        ngx_http_nexus_redis_cancel(ctx->cache_cmd);
        ctx->cache_cmd = NULL;
    }
}


static ngx_int_t
ngx_http_nexus_cache_status(ngx_http_request_t *r, const char *status)
{
    ngx_str_t  v;

    v.data = (u_char *) status;
    v.len = ngx_strlen(status);

    return ngx_http_nexus_add_header(r, "X-Cache", &v);
}


/* sends a 200 JSON body with its ETag, and stores it when it was a miss */

ngx_int_t
ngx_http_nexus_send_cacheable(ngx_http_nexus_ctx_t *ctx, ngx_str_t *body)
{
    u_char               *v;
    size_t                argvlen[5];
    const char           *argv[5];
    ngx_str_t             etag;
    u_char                ttl[NGX_INT_T_LEN];
    ngx_http_request_t   *r;

    r = ctx->request;

    if (ctx->single_seller) {
        /* stripped once, before the cache keeps it */
        if (ngx_http_nexus_strip_vendors(r, body) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* room for the stored copy (ETag, newline, body) only when storing */
    v = ngx_pnalloc(r->pool, NGX_HTTP_NEXUS_ETAG_LEN + 1
                             + (ctx->cache_key.len ? body->len : 0));
    if (v == NULL) {
        return NGX_ERROR;
    }

    ngx_http_nexus_etag(body, v);
    v[NGX_HTTP_NEXUS_ETAG_LEN] = '\n';

    etag.data = v;
    etag.len = NGX_HTTP_NEXUS_ETAG_LEN;

    if (ctx->cache_key.len) {
        ngx_memcpy(v + NGX_HTTP_NEXUS_ETAG_LEN + 1, body->data, body->len);

        if (ctx->lcf->cache_local) {
            ngx_http_nexus_cache_local_put(&ctx->cache_key, v,
                                           NGX_HTTP_NEXUS_ETAG_LEN + 1
                                           + body->len,
                                           ctx->lcf->cache_ttl);
        }

        argv[0] = "SET";
        argvlen[0] = 3;
        argv[1] = (const char *) ctx->cache_key.data;
        argvlen[1] = ctx->cache_key.len;
        argv[2] = (const char *) v;
        argvlen[2] = NGX_HTTP_NEXUS_ETAG_LEN + 1 + body->len;
        argv[3] = "PX";
        argvlen[3] = 2;
        argv[4] = (const char *) ttl;
        argvlen[4] = ngx_sprintf(ttl, "%M", ctx->lcf->cache_ttl) - ttl;

        /* fire and forget: hiredis copies the command before returning */
        (void) ngx_http_nexus_redis_command(NULL, NULL, 5, argv, argvlen);
    }

    return ngx_http_nexus_send_body(r, NGX_HTTP_OK, body, &etag);
}


/*
 * nexus_single_seller: the catalog documents are built for a marketplace;
 * a single store's shoppers see them without the members that name vendors.
 */

static void
ngx_http_nexus_strip_json(json_t *json)
{
    size_t       i;
    json_t      *v;
    void        *tmp;
    const char  *key;

    if (json_is_array(json)) {
        json_array_foreach(json, i, v) {
            ngx_http_nexus_strip_json(v);
        }

        return;
    }

    if (!json_is_object(json)) {
        return;
    }

    json_object_foreach_safe(json, tmp, key, v) {
        if (ngx_strcmp(key, "vendor") == 0 || ngx_strcmp(key, "vendors") == 0
            || ngx_strcmp(key, "vendor_id") == 0)
        {
            json_object_del(json, key);
            continue;
        }

        ngx_http_nexus_strip_json(v);
    }
}


ngx_int_t
ngx_http_nexus_strip_vendors(ngx_http_request_t *r, ngx_str_t *body)
{
    size_t   size;
    json_t  *json;

    json = ngx_http_nexus_json_track(r, json_loadb((char *) body->data,
                                                   body->len, 0, NULL));
    if (json == NULL) {
        return NGX_ERROR;
    }

    ngx_http_nexus_strip_json(json);

    size = json_dumpb(json, NULL, 0, JSON_COMPACT);

    body->data = ngx_pnalloc(r->pool, size);
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    body->len = json_dumpb(json, (char *) body->data, size, JSON_COMPACT);

    return NGX_OK;
}


ngx_uint_t
ngx_http_nexus_single_seller(ngx_http_request_t *r)
{
    ngx_http_nexus_main_conf_t  *nmcf;

    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);

    return nmcf->single_seller ? 1 : 0;
}
