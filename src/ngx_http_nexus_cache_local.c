/*
 * A small per-worker cache in front of Redis (nexus_cache_local_size).
 *
 * Keys are the Redis keys, so they carry the catalog generation: a change
 * makes every entry unreachable at once, as in Redis. Entries also expire
 * with nexus_cache_ttl, and the least recently used ones go first when the
 * worker's budget is full. A hit costs no round trip at all, which is what
 * brings a cached page close to nginx serving a static file.
 */

#include "ngx_http_nexus.h"


typedef struct {
    ngx_str_node_t              sn;         /* crc32 and the key itself */
    ngx_queue_t                 lru;
    ngx_msec_t                  expires;
    size_t                      key_len;
    size_t                      value_len;
    u_char                      data[1];    /* key, then value */
} ngx_http_nexus_local_entry_t;


typedef struct {
    ngx_rbtree_t                tree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 lru;
    size_t                      used;
    size_t                      size;
    ngx_log_t                  *log;
} ngx_http_nexus_local_t;


static void ngx_http_nexus_cache_local_drop(
    ngx_http_nexus_local_entry_t *e);


static ngx_http_nexus_local_t  *ngx_http_nexus_local;


ngx_int_t
ngx_http_nexus_cache_local_init(ngx_cycle_t *cycle, size_t size)
{
    ngx_http_nexus_local_t  *lc;

    if (size == 0) {
        return NGX_OK;
    }

    lc = ngx_pcalloc(cycle->pool, sizeof(ngx_http_nexus_local_t));
    if (lc == NULL) {
        return NGX_ERROR;
    }

    ngx_rbtree_init(&lc->tree, &lc->sentinel, ngx_str_rbtree_insert_value);
    ngx_queue_init(&lc->lru);
    lc->size = size;
    lc->log = cycle->log;

    ngx_http_nexus_local = lc;

    return NGX_OK;
}


void
ngx_http_nexus_cache_local_exit(void)
{
    ngx_queue_t  *q;

    if (ngx_http_nexus_local == NULL) {
        return;
    }

    while (!ngx_queue_empty(&ngx_http_nexus_local->lru)) {
        q = ngx_queue_head(&ngx_http_nexus_local->lru);
        ngx_http_nexus_cache_local_drop(
            ngx_queue_data(q, ngx_http_nexus_local_entry_t, lru));
    }

    ngx_http_nexus_local = NULL;
}


/* copies the value into the request's pool: an entry may go at any time */

ngx_int_t
ngx_http_nexus_cache_local_get(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value)
{
    uint32_t                       hash;
    ngx_http_nexus_local_entry_t  *e;

    if (ngx_http_nexus_local == NULL) {
        return NGX_DECLINED;
    }

    hash = ngx_crc32_long(key->data, key->len);
    e = (ngx_http_nexus_local_entry_t *)
            ngx_str_rbtree_lookup(&ngx_http_nexus_local->tree, key, hash);

    if (e == NULL) {
        return NGX_DECLINED;
    }

    if ((ngx_msec_int_t) (e->expires - ngx_current_msec) <= 0) {
        ngx_http_nexus_cache_local_drop(e);
        return NGX_DECLINED;
    }

    value->data = ngx_pnalloc(r->pool, e->value_len);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, e->data + e->key_len, e->value_len);
    value->len = e->value_len;

    /* most recently used at the head */
    ngx_queue_remove(&e->lru);
    ngx_queue_insert_head(&ngx_http_nexus_local->lru, &e->lru);

    return NGX_OK;
}


void
ngx_http_nexus_cache_local_put(ngx_str_t *key, u_char *value, size_t len,
    ngx_msec_t ttl)
{
    size_t                         need;
    uint32_t                       hash;
    ngx_queue_t                   *q;
    ngx_http_nexus_local_t        *lc;
    ngx_http_nexus_local_entry_t  *e;

    lc = ngx_http_nexus_local;

    if (lc == NULL) {
        return;
    }

    need = sizeof(ngx_http_nexus_local_entry_t) + key->len + len;

    /* one entry never takes more than an eighth of the budget */
    if (need > lc->size / 8) {
        return;
    }

    hash = ngx_crc32_long(key->data, key->len);

    e = (ngx_http_nexus_local_entry_t *)
            ngx_str_rbtree_lookup(&lc->tree, key, hash);
    if (e) {
        ngx_http_nexus_cache_local_drop(e);
    }

    while (lc->used + need > lc->size && !ngx_queue_empty(&lc->lru)) {
        q = ngx_queue_last(&lc->lru);
        ngx_http_nexus_cache_local_drop(
            ngx_queue_data(q, ngx_http_nexus_local_entry_t, lru));
    }

    e = ngx_alloc(need, lc->log);
    if (e == NULL) {
        return;
    }

    e->expires = ngx_current_msec + ttl;
    e->key_len = key->len;
    e->value_len = len;
    ngx_memcpy(e->data, key->data, key->len);
    ngx_memcpy(e->data + key->len, value, len);

    e->sn.node.key = hash;
    e->sn.str.data = e->data;
    e->sn.str.len = key->len;

    ngx_rbtree_insert(&lc->tree, &e->sn.node);
    ngx_queue_insert_head(&lc->lru, &e->lru);
    lc->used += need;
}


static void
ngx_http_nexus_cache_local_drop(ngx_http_nexus_local_entry_t *e)
{
    ngx_rbtree_delete(&ngx_http_nexus_local->tree, &e->sn.node);
    ngx_queue_remove(&e->lru);
    ngx_http_nexus_local->used -= sizeof(ngx_http_nexus_local_entry_t)
                                  + e->key_len + e->value_len;
    ngx_free(e);
}
