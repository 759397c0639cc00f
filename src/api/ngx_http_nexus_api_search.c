/*
 * GET /api/search: full-text product search with the listing's filters and
 * sorts, relevance ranking and facets. This file checks the query string
 * and sends the answer; the search itself is the configured backend's
 * (ngx_http_nexus_search.h).
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_search.h"


#define NGX_HTTP_NEXUS_SEARCH_CURSOR_MAX  800


/* the backends nexus_search_backend can name */
static ngx_http_nexus_search_backend_t  *ngx_http_nexus_search_backends[] = {
    &ngx_http_nexus_search_pg,
    NULL
};


static const char  *ngx_http_nexus_search_args[] = {
    "q", "category", "vendor", "min_price", "max_price", "tag", "attr",
    "in_stock", "sort", "limit", "cursor", NULL
};


static ngx_str_t  ngx_http_nexus_search_sorts[] = {
    ngx_string("relevance"),
    ngx_string("price"),
    ngx_string("-price"),
    ngx_string("newest"),
    ngx_string("rating"),
    ngx_string("name"),
    ngx_null_string
};


static const char *ngx_http_nexus_search_bad_q(ngx_str_t *q);
static void ngx_http_nexus_search_done(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *body);


ngx_http_nexus_search_backend_t *
ngx_http_nexus_search_backend(ngx_str_t *name)
{
    ngx_http_nexus_search_backend_t  **b;

    for (b = ngx_http_nexus_search_backends; *b; b++) {
        if ((*b)->name.len == name->len
            && ngx_strncmp((*b)->name.data, name->data, name->len) == 0)
        {
            return *b;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_nexus_api_search(ngx_http_nexus_ctx_t *ctx)
{
    ngx_int_t                         rc;
    const char                       *reason;
    ngx_str_t                        *v, *s;
    ngx_http_request_t               *r;
    ngx_http_nexus_search_query_t    *query;
    ngx_http_nexus_main_conf_t       *nmcf;
    ngx_http_nexus_search_backend_t  *backend;

    r = ctx->request;

    rc = ngx_http_nexus_check_args(ctx, ngx_http_nexus_search_args);
    if (r->header_sent || rc != NGX_OK) {
        return rc;
    }

    query = ngx_pcalloc(r->pool, sizeof(ngx_http_nexus_search_query_t));
    if (query == NULL) {
        return NGX_ERROR;
    }

    v = ngx_http_nexus_arg(ctx, "q");

    /* without q every product in scope matches: a faceted listing */
    if (v != NULL) {
        reason = ngx_http_nexus_search_bad_q(v);

        if (reason) {
            return ngx_http_nexus_send_param_problem(r, "q", reason);
        }

        query->q = *v;
    }

    rc = ngx_http_nexus_list_filters(ctx, query->filters);
    if (r->header_sent || rc != NGX_OK) {
        return rc;
    }

    /* relevance ranks matches of q; a listing is newest first */
    query->sort = ngx_http_nexus_search_sorts[query->q.len ? 0 : 3];

    v = ngx_http_nexus_arg(ctx, "sort");
    if (v) {
        for (s = ngx_http_nexus_search_sorts; s->len; s++) {
            if (s->len == v->len && ngx_strncmp(s->data, v->data, v->len) == 0)
            {
                break;
            }
        }

        if (s->len == 0) {
            return ngx_http_nexus_send_param_problem(r, "sort",
                       "must be one of relevance, price, -price, newest, "
                       "rating, name");
        }

        if (query->q.len == 0 && s == ngx_http_nexus_search_sorts) {
            return ngx_http_nexus_send_param_problem(r, "sort",
                       "relevance needs q");
        }

        query->sort = *s;
    }

    rc = ngx_http_nexus_list_limit(ctx, &query->limit);
    if (r->header_sent || rc != NGX_OK) {
        return rc;
    }

    v = ngx_http_nexus_arg(ctx, "cursor");
    if (v) {
        if (v->len == 0 || v->len > NGX_HTTP_NEXUS_SEARCH_CURSOR_MAX) {
            return ngx_http_nexus_send_param_problem(r, "cursor",
                       "is not a cursor this API returned");
        }

        query->cursor = *v;
    }

    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);
    backend = nmcf->search_backend;

    rc = backend->search(ctx, query, ngx_http_nexus_search_done);

    return rc;
}



/* why q cannot be searched for, or NULL */

static const char *
ngx_http_nexus_search_bad_q(ngx_str_t *q)
{
    u_char  *p, *last;

    last = q->data + q->len;

    if (q->len == 0 || q->len > NGX_HTTP_NEXUS_SEARCH_Q_MAX) {
        return "must be 1 to 200 bytes of UTF-8 text";
    }

    /* control characters would only be noise in a search box */
    for (p = q->data; p < last; /* void */) {
        if (*p < 0x20 || *p == 0x7f) {
            return "must not contain control characters";
        }

        if (*p < 0x80) {
            p++;
            continue;
        }

        if (ngx_utf8_decode(&p, last - p) > 0x10ffff) {
            return "must be 1 to 200 bytes of UTF-8 text";
        }
    }

    for (p = q->data; p < last && *p == ' '; p++) { /* void */ }

    return (p == last) ? "must be 1 to 200 bytes of UTF-8 text" : NULL;
}

static void
ngx_http_nexus_search_done(ngx_http_nexus_ctx_t *ctx, ngx_int_t rc,
    ngx_str_t *body)
{
    ngx_http_request_t  *r;

    r = ctx->request;

    if (body == NULL) {
        /* the backend has answered: an outage, a timeout */
        ngx_http_nexus_finalize(ctx, rc);
        return;
    }

    if (rc == NGX_OK) {
        ngx_http_nexus_finalize(ctx, ngx_http_nexus_send_cacheable(ctx, body));
        return;
    }

    if (rc == NGX_HTTP_NOT_FOUND) {
        if (body->len == sizeof("vendor") - 1
            && ngx_strncmp(body->data, "vendor", body->len) == 0)
        {
            rc = ngx_http_nexus_send_problem(r, NGX_HTTP_NOT_FOUND,
                                             "vendor_not_found",
                                             "No active vendor has this "
                                             "slug.", NULL);

        } else {
            rc = ngx_http_nexus_send_problem(r, NGX_HTTP_NOT_FOUND,
                                             "category_not_found",
                                             "No category has this slug.",
                                             NULL);
        }
    }

    ngx_http_nexus_finalize(ctx, rc);
}
