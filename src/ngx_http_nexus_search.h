/*
 * Product search backends. GET /api/search (api/ngx_http_nexus_api_search.c)
 * checks the query string, fills an ngx_http_nexus_search_query_t and hands
 * it to the backend chosen by "nexus_search_backend" (http main; default
 * postgres). A backend answers with the complete JSON body, in the shape
 * documented in README "Search" and docs/openapi.yaml; the endpoint sends
 * and caches it. Adding a backend (e.g. OpenSearch) is a new source file
 * with one ngx_http_nexus_search_backend_t and a line in the registry in
 * api/ngx_http_nexus_api_search.c; the endpoint does not change.
 */

#ifndef _NGX_HTTP_NEXUS_SEARCH_H_INCLUDED_
#define _NGX_HTTP_NEXUS_SEARCH_H_INCLUDED_


#include "ngx_http_nexus.h"


#define NGX_HTTP_NEXUS_SEARCH_Q_MAX  200    /* bytes */


/* the listing filters, as ngx_http_nexus_list_filters() fills them */
enum {
    NGX_HTTP_NEXUS_FILTER_CATEGORY = 0,     /* slug or null */
    NGX_HTTP_NEXUS_FILTER_VENDOR,           /* slug or null */
    NGX_HTTP_NEXUS_FILTER_MIN_PRICE,        /* digits, always set */
    NGX_HTTP_NEXUS_FILTER_MAX_PRICE,        /* digits, always set */
    NGX_HTTP_NEXUS_FILTER_TAG,              /* slug or null */
    NGX_HTTP_NEXUS_FILTER_ATTR,             /* "name=value" or null */
    NGX_HTTP_NEXUS_FILTER_IN_STOCK,         /* "true" or "false" */
    NGX_HTTP_NEXUS_FILTERS
};


typedef struct {
    ngx_str_t                   q;          /* 1..Q_MAX bytes, valid UTF-8;
                                               empty (data NULL): no q, every
                                               product in scope matches */
    ngx_str_t                   filters[NGX_HTTP_NEXUS_FILTERS];
    ngx_str_t                   sort;       /* relevance, price, -price,
                                               newest, rating, name */
    ngx_uint_t                  limit;
    ngx_str_t                   cursor;     /* as received; null: first page;
                                               its format is the backend's */
} ngx_http_nexus_search_query_t;


/*
 * How a backend answers, once:
 *   body NULL            the backend has sent an error answer itself
 *                        (e.g. ngx_http_nexus_pg_send_error) and rc is
 *                        that call's rc, to finalize the request with
 *   rc NGX_OK            body is the JSON answer (200, cacheable)
 *   rc NGX_HTTP_NOT_FOUND
 *                        body names the filter that matched nothing:
 *                        "category" or "vendor"
 */
typedef void (*ngx_http_nexus_search_done_pt)(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *body);


typedef struct ngx_http_nexus_search_backend_s {
    ngx_str_t                   name;

    /* at configuration, after the http block is read; may be NULL */
    ngx_int_t                 (*init)(ngx_conf_t *cf,
                                      ngx_http_nexus_main_conf_t *nmcf);

    /*
     * Returns NGX_DONE and calls done() later, or answers at once itself
     * (e.g. a 400 for a cursor it cannot read) and returns that rc.
     */
    ngx_int_t                 (*search)(ngx_http_nexus_ctx_t *ctx,
                                        ngx_http_nexus_search_query_t *query,
                                        ngx_http_nexus_search_done_pt done);
} ngx_http_nexus_search_backend_t;


extern ngx_http_nexus_search_backend_t  ngx_http_nexus_search_pg;

/* by name from the registry; NULL when there is no such backend */
ngx_http_nexus_search_backend_t *ngx_http_nexus_search_backend(
    ngx_str_t *name);


#endif /* _NGX_HTTP_NEXUS_SEARCH_H_INCLUDED_ */
