/*
 * The content handler: routes (method + path) to endpoints, decodes the
 * query string, keeps the request alive while an endpoint waits on its
 * backends, and finalizes it when the endpoint answers.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_pg.h"
#include "ngx_http_nexus_auth.h"


#define NGX_HTTP_NEXUS_GET     NGX_HTTP_GET     /* HEAD too */
#define NGX_HTTP_NEXUS_POST    NGX_HTTP_POST
#define NGX_HTTP_NEXUS_PATCH   NGX_HTTP_PATCH
#define NGX_HTTP_NEXUS_DELETE  NGX_HTTP_DELETE

#define PUBLIC     NGX_HTTP_NEXUS_PUBLIC
#define USER       NGX_HTTP_NEXUS_USER
#define SELLER     NGX_HTTP_NEXUS_SELLER
#define ADMIN      NGX_HTTP_NEXUS_ADMIN
#define CACHED     NGX_HTTP_NEXUS_CACHED
#define SENSITIVE  NGX_HTTP_NEXUS_SENSITIVE
#define DEBUG      NGX_HTTP_NEXUS_DEBUG
#define MULTI      NGX_HTTP_NEXUS_MARKETPLACE

#define R(m, path, access, flags, handler)                                    \
    { NGX_HTTP_NEXUS_##m, ngx_string(path), access, flags,                    \
      ngx_http_nexus_api_##handler }


/*
 * Every route, who may call it, and how. This table is the authorization
 * policy of the API: a route's access level is checked before its endpoint
 * runs. Object-level rules (a customer's own addresses, a seller's own
 * store) are enforced by the endpoints' SQL, which always filters by the
 * caller's id; see README "Roles".
 */
static ngx_http_nexus_route_t  ngx_http_nexus_routes[] = {

    /* catalog */
    R(GET,    "/api/products",                PUBLIC, CACHED, products_list),
    R(GET,    "/api/products/*",              PUBLIC, CACHED, product_get),
    R(GET,    "/api/categories",              PUBLIC, CACHED, categories_tree),
    R(GET,    "/api/categories/*",            PUBLIC, CACHED, category_get),
    R(GET,    "/api/vendors/*",               PUBLIC, CACHED|MULTI, vendor_get),

    /* search */
    R(GET,    "/api/search",                  PUBLIC, CACHED, search),

    /* authentication */
    R(POST,   "/api/auth/register",           PUBLIC, SENSITIVE, register),
    R(POST,   "/api/auth/login",              PUBLIC, SENSITIVE, login),
    R(POST,   "/api/auth/refresh",            PUBLIC, SENSITIVE, refresh),
    R(POST,   "/api/auth/logout",             USER,   0, logout),
    R(POST,   "/api/auth/verify-email",       PUBLIC, SENSITIVE, verify_email),
    R(POST,   "/api/auth/password-reset",     PUBLIC, SENSITIVE,
                                              reset_request),
    R(POST,   "/api/auth/password-reset/confirm",
                                              PUBLIC, SENSITIVE, reset_confirm),

    /* the caller's own account */
    R(GET,    "/api/me",                      USER,   0, me_get),
    R(PATCH,  "/api/me",                      USER,   0, me_update),
    R(DELETE, "/api/me",                      USER,   SENSITIVE, me_delete),
    R(POST,   "/api/me/password",             USER,   SENSITIVE, me_password),
    R(POST,   "/api/me/verify-email",         USER,   0, me_verify_email),
    R(GET,    "/api/me/export",               USER,   0, me_export),
    R(GET,    "/api/me/addresses",            USER,   0, addresses_list),
    R(POST,   "/api/me/addresses",            USER,   0, address_create),
    R(GET,    "/api/me/addresses/*",          USER,   0, address_get),
    R(PATCH,  "/api/me/addresses/*",          USER,   0, address_update),
    R(DELETE, "/api/me/addresses/*",          USER,   0, address_delete),

    /* selling */
    R(POST,   "/api/stores",                  USER,   MULTI, store_apply),
    R(GET,    "/api/seller/stores",           SELLER, 0, seller_stores),
    R(GET,    "/api/seller/stores/*/staff",   SELLER, 0, staff_list),
    R(POST,   "/api/seller/stores/*/staff",   SELLER, 0, staff_add),
    R(DELETE, "/api/seller/stores/*/staff/*", SELLER, 0, staff_remove),

    /* platform operators */
    R(GET,    "/api/admin/stores",            ADMIN,  0, admin_stores),
    R(POST,   "/api/admin/stores/*/approve",  ADMIN,  0, admin_store_approve),
    R(POST,   "/api/admin/stores/*/reject",   ADMIN,  0, admin_store_reject),
    R(POST,   "/api/admin/stores/*/suspend",  ADMIN,  0, admin_store_suspend),
    R(GET,    "/api/admin/users",             ADMIN,  0, admin_users),
    R(PATCH,  "/api/admin/users/*",           ADMIN,  0, admin_user_update),
    R(GET,    "/api/admin/audit",             ADMIN,  0, admin_audit),
    R(GET,    "/api/admin/settings",          ADMIN,  0, admin_settings),
    R(PATCH,  "/api/admin/settings",          ADMIN,  0,
                                              admin_settings_update),

    /* inventory (issue 4): stock, the ledger, low-stock thresholds */
    R(POST,   "/api/seller/variants/*/stock", SELLER, 0, stock_adjust),
    R(PATCH,  "/api/seller/variants/*/inventory",
                                              SELLER, 0, variant_inventory),
    R(PATCH,  "/api/seller/stores/*/inventory",
                                              SELLER, 0, store_inventory),
    R(POST,   "/api/seller/stock",            SELLER, 0, stock_bulk),
    R(GET,    "/api/seller/stock/low",        SELLER, 0, stock_low),
    R(GET,    "/api/seller/stock/movements",  SELLER, 0, stock_movements),
    /* catalog management (issue 4): sellers' products, operators' catalog */
    R(GET,    "/api/seller/products",         SELLER, 0, seller_products),
    R(POST,   "/api/seller/products",         SELLER, 0,
                                              seller_product_create),
    R(GET,    "/api/seller/products/*",       SELLER, 0, seller_product_get),
    R(PATCH,  "/api/seller/products/*",       SELLER, 0,
                                              seller_product_update),
    R(POST,   "/api/seller/products/*/variants",
              SELLER, 0, seller_variant_create),
    R(PATCH,  "/api/seller/variants/*",       SELLER, 0,
                                              seller_variant_update),
    R(GET,    "/api/admin/products",          ADMIN,  0, admin_products),
    R(POST,   "/api/admin/products/*/approve",
              ADMIN, 0, admin_product_approve),
    R(POST,   "/api/admin/products/*/reject", ADMIN,  0, admin_product_reject),
    R(POST,   "/api/admin/categories",        ADMIN,  0,
                                              admin_category_create),
    R(PATCH,  "/api/admin/categories/*",      ADMIN,  0,
                                              admin_category_update),
    R(DELETE, "/api/admin/categories/*",      ADMIN,  0,
                                              admin_category_delete),
    R(POST,   "/api/admin/tags",              ADMIN,  0, admin_tag_create),
    R(PATCH,  "/api/admin/tags/*",            ADMIN,  0, admin_tag_update),
    R(DELETE, "/api/admin/tags/*",            ADMIN,  0, admin_tag_delete),
    R(POST,   "/api/admin/attributes",        ADMIN,  0,
                                              admin_attribute_create),
    R(PATCH,  "/api/admin/attributes/*",      ADMIN,  0,
                                              admin_attribute_update),
    /* issue 4, media: presigned uploads and the product gallery */
    R(GET,    "/api/seller/products/*/media", SELLER, 0, media_list),
    R(POST,   "/api/seller/products/*/media", SELLER, 0, media_create),
    R(POST,   "/api/seller/media/*/complete", SELLER, 0, media_complete),
    R(PATCH,  "/api/seller/media/*",          SELLER, 0, media_update),
    R(DELETE, "/api/seller/media/*",          SELLER, 0, media_delete),
    R(GET,    "/api/_debug/s3/presign",       PUBLIC, DEBUG, debug_s3_presign),

    /* for the test suite, with nexus_debug_endpoints on */
    R(GET,    "/api/_debug/sleep",            PUBLIC, DEBUG, debug_sleep),
    R(GET,    "/api/_debug/txn",              PUBLIC, DEBUG, debug_txn),
    R(GET,    "/api/_debug/limit",            PUBLIC, DEBUG, debug_limit),
    R(GET,    "/api/_debug/password",         PUBLIC, DEBUG, debug_password),
    R(GET,    "/api/_debug/jwt/issue",        PUBLIC, DEBUG, debug_jwt_issue),
    R(GET,    "/api/_debug/jwt/verify",       PUBLIC, DEBUG, debug_jwt_verify),

    { 0, ngx_null_string, 0, 0, NULL }
};


static ngx_http_nexus_route_t *ngx_http_nexus_route(ngx_http_request_t *r,
    ngx_http_nexus_loc_conf_t *nlcf, ngx_str_t *params, ngx_str_t *allow);
static ngx_int_t ngx_http_nexus_match(ngx_str_t *pattern, u_char *p,
    u_char *last, ngx_str_t *params);
static ngx_int_t ngx_http_nexus_after_body(ngx_http_nexus_ctx_t *ctx);
static ngx_int_t ngx_http_nexus_after_limit(ngx_http_nexus_ctx_t *ctx);
static ngx_int_t ngx_http_nexus_parse_args(ngx_http_nexus_ctx_t *ctx);
static u_char *ngx_http_nexus_log_handler(ngx_http_request_t *r,
    ngx_http_request_t *sr, u_char *buf, size_t len);
static void ngx_http_nexus_check_broken(ngx_http_request_t *r);


ngx_int_t
ngx_http_nexus_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_str_t                   params[2], allow;
    ngx_http_nexus_ctx_t       *ctx;
    ngx_http_nexus_route_t     *rt;
    ngx_http_nexus_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_nexus_module);

    rt = ngx_http_nexus_route(r, nlcf, params, &allow);

    if (rt == NULL || !(r->method & (rt->method | (rt->method == NGX_HTTP_GET
                                                   ? NGX_HTTP_HEAD : 0))))
    {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        if (allow.len == 0) {
            return ngx_http_nexus_send_problem(r, NGX_HTTP_NOT_FOUND,
                                               "not_found",
                                               "No such resource.", NULL);
        }

        if (ngx_http_nexus_add_header(r, "Allow", &allow) != NGX_OK) {
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
    ctx->route = rt;
    ctx->path_param = params[0];
    ctx->path_param2 = params[1];
    ctx->sensitive = (rt->flags & NGX_HTTP_NEXUS_SENSITIVE) ? 1 : 0;
    ctx->single_seller = ngx_http_nexus_single_seller(r);
    ctx->no_store = ctx->sensitive || rt->access != NGX_HTTP_NEXUS_PUBLIC;
    ngx_http_set_ctx(r, ctx, ngx_http_nexus_module);

    ctx->log_handler = r->log_handler;
    r->log_handler = ngx_http_nexus_log_handler;

    rc = ngx_http_nexus_parse_args(ctx);

    if (rc == NGX_DECLINED) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_nexus_send_param_problem(r, "(query)",
                                                 "has too many parameters");
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (r->method & (NGX_HTTP_POST|NGX_HTTP_PATCH|NGX_HTTP_PUT
                     |NGX_HTTP_DELETE))
    {
        /* the body reader holds the request: no count++ of our own */
        return ngx_http_nexus_body_start(ctx, ngx_http_nexus_after_body);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_nexus_after_body(ctx);

    if (rc == NGX_DONE) {
        /*
         * the endpoint waits on a backend; its callback, which never runs
         * before this returns, finalizes the request
         */
        r->main->count++;
        ngx_http_nexus_wait(ctx);
    }

    return rc;
}


/*
 * The steps of every request after its body: the location's rate limits,
 * then authentication and the route's access rule (ngx_http_nexus_auth.c),
 * then the endpoint, through the cache for cached routes.
 */

static ngx_int_t
ngx_http_nexus_after_body(ngx_http_nexus_ctx_t *ctx)
{
    /* with no limits configured this is a plain call of the next step */
    return ngx_http_nexus_limit_request(ctx, ngx_http_nexus_after_limit);
}


static ngx_int_t
ngx_http_nexus_after_limit(ngx_http_nexus_ctx_t *ctx)
{
    if (ctx->route->access != NGX_HTTP_NEXUS_PUBLIC) {
        return ngx_http_nexus_auth_start(ctx, ngx_http_nexus_continue);
    }

    return ngx_http_nexus_continue(ctx);
}


/* the endpoint itself, once the caller may call it */

ngx_int_t
ngx_http_nexus_continue(ngx_http_nexus_ctx_t *ctx)
{
    ngx_http_nexus_route_t  *rt;

    rt = ctx->route;

    if ((rt->flags & NGX_HTTP_NEXUS_CACHED) && ctx->lcf->cache) {
        return ngx_http_nexus_cache_lookup(ctx, rt->handler);
    }

    return rt->handler(ctx);
}


/* the request waits on a backend: notice if the client hangs up meanwhile */

void
ngx_http_nexus_wait(ngx_http_nexus_ctx_t *ctx)
{
    ctx->request->read_event_handler = ngx_http_nexus_check_broken;
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


/*
 * Finds the route for the method and path. When the path exists but not
 * for this method, returns NULL with the methods it has in allow.
 */

static ngx_http_nexus_route_t *
ngx_http_nexus_route(ngx_http_request_t *r, ngx_http_nexus_loc_conf_t *nlcf,
    ngx_str_t *params, ngx_str_t *allow)
{
    u_char                  *p, *last;
    ngx_uint_t               methods;
    ngx_str_t                found[2];
    ngx_http_nexus_route_t  *rt, *match;
    ngx_http_nexus_main_conf_t  *nmcf;

    p = r->uri.data;
    last = p + r->uri.len;

    /* one trailing slash is tolerated */
    if (last - p > 1 && last[-1] == '/') {
        last--;
    }

    methods = 0;
    match = NULL;
    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);

    for (rt = ngx_http_nexus_routes; rt->handler; rt++) {

        if ((rt->flags & NGX_HTTP_NEXUS_DEBUG) && !nlcf->debug_endpoints) {
            continue;
        }

        if ((rt->flags & NGX_HTTP_NEXUS_MARKETPLACE) && nmcf->single_seller) {
            continue;
        }

        if (ngx_http_nexus_match(&rt->path, p, last, found) != NGX_OK) {
            continue;
        }

        methods |= rt->method;

        if (match == NULL
            && (r->method & (rt->method | (rt->method == NGX_HTTP_GET
                                           ? NGX_HTTP_HEAD : 0))))
        {
            match = rt;
            params[0] = found[0];
            params[1] = found[1];
        }
    }

    ngx_str_null(allow);

    if (match) {
        return match;
    }

    if (methods == 0) {
        return NULL;
    }

    allow->data = ngx_pnalloc(r->pool, sizeof("GET, HEAD, POST, PATCH, "
                                              "DELETE"));
    if (allow->data == NULL) {
        return NULL;
    }

    p = allow->data;

    if (methods & NGX_HTTP_GET) {
        p = ngx_cpymem(p, "GET, HEAD, ", sizeof("GET, HEAD, ") - 1);
    }

    if (methods & NGX_HTTP_POST) {
        p = ngx_cpymem(p, "POST, ", sizeof("POST, ") - 1);
    }

    if (methods & NGX_HTTP_PATCH) {
        p = ngx_cpymem(p, "PATCH, ", sizeof("PATCH, ") - 1);
    }

    if (methods & NGX_HTTP_DELETE) {
        p = ngx_cpymem(p, "DELETE, ", sizeof("DELETE, ") - 1);
    }

    allow->len = p - allow->data - 2;

    return NULL;
}


/* a pattern such as "/api/me/addresses/{*}": each star is one segment */

static ngx_int_t
ngx_http_nexus_match(ngx_str_t *pattern, u_char *p, u_char *last,
    ngx_str_t *params)
{
    u_char      *q, *qlast, *seg;
    ngx_uint_t   n;

    q = pattern->data;
    qlast = q + pattern->len;
    n = 0;

    ngx_str_null(&params[0]);
    ngx_str_null(&params[1]);

    while (q < qlast) {

        if (*q == '*') {
            seg = p;

            while (p < last && *p != '/') {
                p++;
            }

            if (p == seg || n == 2) {
                return NGX_DECLINED;
            }

            params[n].data = seg;
            params[n].len = p - seg;
            n++;
            q++;
            continue;
        }

        if (p == last || *p != *q) {
            return NGX_DECLINED;
        }

        p++;
        q++;
    }

    return (p == last) ? NGX_OK : NGX_DECLINED;
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
