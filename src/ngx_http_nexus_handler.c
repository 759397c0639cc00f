/*
 * The content handler: routes (method + path) to endpoints, decodes the
 * query string, keeps the request alive while an endpoint waits on its
 * backends, and finalizes it when the endpoint answers.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_pg.h"


#define NGX_HTTP_NEXUS_GET   (NGX_HTTP_GET|NGX_HTTP_HEAD)


typedef struct {
    ngx_str_t                   prefix;
    ngx_uint_t                  has_param;  /* prefix + one path segment */
    ngx_uint_t                  methods;
    ngx_str_t                   allow;
    ngx_http_nexus_endpoint_pt  handler;
    ngx_uint_t                  cacheable;
    ngx_uint_t                  debug;
} ngx_http_nexus_route_t;


/* every public route, its methods and whether its answers are cached */
static ngx_http_nexus_route_t  ngx_http_nexus_routes[] = {

    { ngx_string("/api/products"), 0, NGX_HTTP_NEXUS_GET,
      ngx_string("GET, HEAD"), ngx_http_nexus_api_products_list, 1, 0 },

    { ngx_string("/api/products/"), 1, NGX_HTTP_NEXUS_GET,
      ngx_string("GET, HEAD"), ngx_http_nexus_api_product_get, 1, 0 },

    { ngx_string("/api/categories"), 0, NGX_HTTP_NEXUS_GET,
      ngx_string("GET, HEAD"), ngx_http_nexus_api_categories_tree, 1, 0 },

    { ngx_string("/api/categories/"), 1, NGX_HTTP_NEXUS_GET,
      ngx_string("GET, HEAD"), ngx_http_nexus_api_category_get, 1, 0 },

    { ngx_string("/api/vendors/"), 1, NGX_HTTP_NEXUS_GET,
      ngx_string("GET, HEAD"), ngx_http_nexus_api_vendor_get, 1, 0 },

    { ngx_string("/api/_debug/sleep"), 0, NGX_HTTP_NEXUS_GET,
      ngx_string("GET, HEAD"), ngx_http_nexus_api_debug_sleep, 0, 1 },

    { ngx_string("/api/_debug/txn"), 0, NGX_HTTP_NEXUS_GET,
      ngx_string("GET, HEAD"), ngx_http_nexus_api_debug_txn, 0, 1 },

    { ngx_null_string, 0, 0, ngx_null_string, NULL, 0, 0 }
};


static ngx_http_nexus_route_t *ngx_http_nexus_route(ngx_http_request_t *r,
    ngx_http_nexus_loc_conf_t *nlcf, ngx_str_t *param);
static ngx_int_t ngx_http_nexus_parse_args(ngx_http_nexus_ctx_t *ctx);
static u_char *ngx_http_nexus_log_handler(ngx_http_request_t *r,
    ngx_http_request_t *sr, u_char *buf, size_t len);
static void ngx_http_nexus_check_broken(ngx_http_request_t *r);


ngx_int_t
ngx_http_nexus_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_str_t                   param;
    ngx_http_nexus_ctx_t       *ctx;
    ngx_http_nexus_route_t     *rt;
    ngx_http_nexus_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_nexus_module);

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    rt = ngx_http_nexus_route(r, nlcf, &param);

    if (rt == NULL) {
        return ngx_http_nexus_send_problem(r, NGX_HTTP_NOT_FOUND, "not_found",
                                           "No such resource.", NULL);
    }

    if (!(r->method & rt->methods)) {
        if (ngx_http_nexus_add_header(r, "Allow", &rt->allow) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_nexus_send_problem(r, NGX_HTTP_NOT_ALLOWED,
                                           "method_not_allowed",
                                           "This method is not allowed "
                                           "here; see the Allow header.",
                                           NULL);
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_nexus_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ctx->lcf = nlcf;
    ctx->path_param = param;
    ngx_http_set_ctx(r, ctx, ngx_http_nexus_module);

    ctx->log_handler = r->log_handler;
    r->log_handler = ngx_http_nexus_log_handler;

    rc = ngx_http_nexus_parse_args(ctx);

    if (rc == NGX_DECLINED) {
        return ngx_http_nexus_send_param_problem(r, "(query)",
                                                 "has too many parameters");
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (rt->cacheable && nlcf->cache) {
        rc = ngx_http_nexus_cache_lookup(ctx, rt->handler);

    } else {
        rc = rt->handler(ctx);
    }

    if (rc == NGX_DONE) {
        /*
         * the endpoint waits on a backend; its callback, which never runs
         * before this returns, finalizes the request
         */
        r->main->count++;
        r->read_event_handler = ngx_http_nexus_check_broken;
    }

    return rc;
}


/*
 * Endpoints return NGX_DONE while they wait, or the result of sending their
 * answer; a callback that answers later calls this itself.
 */
void
ngx_http_nexus_finalize(ngx_http_nexus_ctx_t *ctx, ngx_int_t rc)
{
    ngx_http_nexus_pg_release(ctx);
    ngx_http_finalize_request(ctx->request, rc);
}


static ngx_http_nexus_route_t *
ngx_http_nexus_route(ngx_http_request_t *r, ngx_http_nexus_loc_conf_t *nlcf,
    ngx_str_t *param)
{
    u_char                  *p, *last;
    ngx_str_t               *uri;
    ngx_http_nexus_route_t  *rt;

    uri = &r->uri;

    for (rt = ngx_http_nexus_routes; rt->handler; rt++) {

        if (rt->debug && !nlcf->debug_endpoints) {
            continue;
        }

        if (!rt->has_param) {
            if (uri->len == rt->prefix.len
                || (uri->len == rt->prefix.len + 1
                    && uri->data[uri->len - 1] == '/'))
            {
                if (ngx_strncmp(uri->data, rt->prefix.data, rt->prefix.len)
                    == 0)
                {
                    ngx_str_null(param);
                    return rt;
                }
            }

            continue;
        }

        if (uri->len <= rt->prefix.len
            || ngx_strncmp(uri->data, rt->prefix.data, rt->prefix.len) != 0)
        {
            continue;
        }

        p = uri->data + rt->prefix.len;
        last = uri->data + uri->len;

        /* one segment, optionally followed by a slash */
        if (last[-1] == '/') {
            last--;
        }

        if (p == last || ngx_strlchr(p, last, '/') != NULL) {
            continue;
        }

        param->data = p;
        param->len = last - p;
        return rt;
    }

    return NULL;
}


/* decodes "a=1&b=2" once; endpoints look names up with ngx_http_nexus_arg */

static ngx_int_t
ngx_http_nexus_parse_args(ngx_http_nexus_ctx_t *ctx)
{
    u_char              *p, *last, *amp, *eq, *dst, *src, *end;
    ngx_str_t           *s;
    ngx_uint_t           i, part;
    ngx_http_request_t  *r;
    ngx_http_nexus_arg_t *arg;

    r = ctx->request;
    p = r->args.data;
    last = p + r->args.len;

    while (p < last) {
        amp = ngx_strlchr(p, last, '&');
        if (amp == NULL) {
            amp = last;
        }

        if (amp == p) {
            p++;
            continue;
        }

        if (ctx->nargs == NGX_HTTP_NEXUS_MAX_PARAMS) {
            return NGX_DECLINED;
        }

        arg = &ctx->args[ctx->nargs++];

        eq = ngx_strlchr(p, amp, '=');

        arg->name.data = p;
        arg->name.len = (eq ? eq : amp) - p;
        arg->value.data = eq ? eq + 1 : amp;
        arg->value.len = eq ? (size_t) (amp - eq - 1) : 0;

        for (part = 0; part < 2; part++) {
            s = part ? &arg->value : &arg->name;

            for (i = 0; i < s->len; i++) {
                if (s->data[i] == '+') {
                    break;
                }
            }

            if (i == s->len && ngx_strlchr(s->data, s->data + s->len, '%')
                               == NULL)
            {
                continue;
            }

            dst = ngx_pnalloc(r->pool, s->len);
            if (dst == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            for (i = 0; i < s->len; i++) {
                dst[i] = (s->data[i] == '+') ? ' ' : s->data[i];
            }

            src = dst;
            end = dst;
            ngx_unescape_uri(&end, &src, s->len, 0);

            s->data = dst;
            s->len = end - dst;
        }

        p = amp + 1;
    }

    return NGX_OK;
}


ngx_str_t *
ngx_http_nexus_arg(ngx_http_nexus_ctx_t *ctx, const char *name)
{
    size_t      len;
    ngx_uint_t  i;

    len = ngx_strlen(name);

    for (i = 0; i < ctx->nargs; i++) {
        if (ctx->args[i].name.len == len
            && ngx_strncmp(ctx->args[i].name.data, name, len) == 0)
        {
            return &ctx->args[i].value;
        }
    }

    return NULL;
}


/* error log lines about a request also name its request id */

static u_char *
ngx_http_nexus_log_handler(ngx_http_request_t *r, ngx_http_request_t *sr,
    u_char *buf, size_t len)
{
    u_char                      *p;
    ngx_http_nexus_ctx_t        *ctx;
    ngx_http_variable_value_t   *vv;
    ngx_http_nexus_main_conf_t  *nmcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_nexus_module);

    p = ctx->log_handler(r, sr, buf, len);
    len -= p - buf;

    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);
    vv = ngx_http_get_indexed_variable(r, nmcf->request_id_index);

    if (vv && !vv->not_found && len > (size_t) vv->len + 16) {
        p = ngx_snprintf(p, len, ", request_id: %v", vv);
    }

    return p;
}


/*
 * While a request waits on a backend, a client that hangs up ends it (499):
 * its cleanups detach it from the pool queue or the connection, so it holds
 * no place another request could use.
 */

static void
ngx_http_nexus_check_broken(ngx_http_request_t *r)
{
    int                n;
    char               buf[1];
    ngx_err_t          err;
    ngx_event_t       *ev;
    ngx_connection_t  *c;

    c = r->connection;
    ev = c->read;

#if (NGX_HTTP_V2)
    if (r->stream) {
        return;
    }
#endif

#if (NGX_HAVE_EPOLLRDHUP)

    if ((ngx_event_flags & NGX_USE_EPOLL_EVENT) && ngx_use_epoll_rdhup) {
        if (!ev->pending_eof) {
            return;
        }

        ev->eof = 1;
        c->error = 1;
        goto closed;
    }

#endif

    n = recv(c->fd, buf, 1, MSG_PEEK);
    err = ngx_socket_errno;

    if (n > 0) {
        /* a pipelined request: not a hang-up */
        if ((ngx_event_flags & NGX_USE_LEVEL_EVENT) && ev->active) {
            (void) ngx_del_event(ev, NGX_READ_EVENT, 0);
        }

        return;
    }

    if (n == -1 && err == NGX_EAGAIN) {
        return;
    }

    ev->eof = 1;
    c->error = 1;

#if (NGX_HAVE_EPOLLRDHUP)
closed:
#endif

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "nexus: client closed the connection while waiting");

    ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
}
