/*
 * Who the caller is and whether the route lets them in.
 *
 * API clients send "Authorization: Bearer <JWT>"; the token names a session
 * (sid), which must still be live in PostgreSQL, so log-out and password
 * changes take effect at once. Browsers send the session cookie; unsafe
 * methods then also need the X-CSRF-Token header, the token handed out at
 * log-in and bound to the session (its SHA-256 is stored with it). Roles
 * and store memberships are read fresh from the database on every request.
 */

#include "ngx_http_nexus_auth.h"
#include "ngx_http_nexus_pg.h"


#define NGX_HTTP_NEXUS_SESSION_COOKIE  "nexus_session"


typedef struct {
    ngx_http_nexus_endpoint_pt  next;
} ngx_http_nexus_auth_t;


static ngx_int_t ngx_http_nexus_auth_bearer(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *token);
static ngx_int_t ngx_http_nexus_auth_cookie(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *cookie);
static void ngx_http_nexus_auth_loaded(ngx_http_nexus_ctx_t *ctx,
    PGresult *res, ngx_int_t rc);
static ngx_int_t ngx_http_nexus_auth_decide(ngx_http_nexus_ctx_t *ctx,
    PGresult *res, ngx_int_t *rc);
static ngx_int_t ngx_http_nexus_auth_copy(ngx_http_request_t *r,
    PGresult *res, int col, ngx_str_t *out);
static ngx_int_t ngx_http_nexus_auth_csrf(ngx_http_nexus_ctx_t *ctx,
    PGresult *res);
static ngx_int_t ngx_http_nexus_auth_unauthorized(ngx_http_request_t *r,
    const char *code, const char *detail, const char *reason);


#define NGX_HTTP_NEXUS_PRINCIPAL_COLUMNS                                      \
    "SELECT u.id, u.email::text, s.id,"                                       \
    " EXISTS (SELECT 1 FROM user_roles ur"                                    \
            " WHERE ur.user_id = u.id AND ur.role = 'admin'),"                \
    " EXISTS (SELECT 1 FROM user_roles ur"                                    \
            " WHERE ur.user_id = u.id AND ur.role = 'customer'),"             \
    " EXISTS (SELECT 1 FROM vendor_staff vs JOIN vendors v"                   \
            " ON v.id = vs.vendor_id"                                         \
            " WHERE vs.user_id = u.id AND v.status = 'active'),"              \
    " encode(s.csrf_hash, 'hex')"                                             \
    " FROM sessions s JOIN users u ON u.id = s.user_id"

#define NGX_HTTP_NEXUS_PRINCIPAL_LIVE                                         \
    " AND s.revoked_at IS NULL AND s.expires_at > now()"                      \
    " AND u.status = 'active'"


static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_principal_by_sid = {
    "nexus_principal_sid",
    NGX_HTTP_NEXUS_PRINCIPAL_COLUMNS
    " WHERE s.id = $1::bigint AND s.user_id = $2::bigint"
    NGX_HTTP_NEXUS_PRINCIPAL_LIVE,
    2, 0
};

/* API sessions have no CSRF token, so their ids never work as cookies */
static ngx_http_nexus_pg_stmt_t  ngx_http_nexus_principal_by_cookie = {
    "nexus_principal_cookie",
    NGX_HTTP_NEXUS_PRINCIPAL_COLUMNS
    " WHERE s.token_hash = $1::bytea AND s.csrf_hash IS NOT NULL"
    NGX_HTTP_NEXUS_PRINCIPAL_LIVE,
    1, 0
};


ngx_int_t
ngx_http_nexus_auth_start(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_endpoint_pt next)
{
    ngx_str_t               token, cookie, name;
    ngx_table_elt_t        *h;
    ngx_http_request_t     *r;
    ngx_http_nexus_auth_t  *auth;

    r = ctx->request;

    auth = ngx_pcalloc(r->pool, sizeof(ngx_http_nexus_auth_t));
    if (auth == NULL) {
        return NGX_ERROR;
    }

    auth->next = next;
    ctx->auth = auth;

    h = r->headers_in.authorization;

    if (h) {
        if (h->value.len <= 7
            || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ", 7) != 0)
        {
            return ngx_http_nexus_auth_unauthorized(r, "invalid_token",
                       "Send \"Authorization: Bearer <access token>\".",
                       "malformed");
        }

        token.data = h->value.data + 7;
        token.len = h->value.len - 7;

        return ngx_http_nexus_auth_bearer(ctx, &token);
    }

    ngx_str_set(&name, NGX_HTTP_NEXUS_SESSION_COOKIE);

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                          &cookie)
        != NGX_DECLINED)
    {
        return ngx_http_nexus_auth_cookie(ctx, &cookie);
    }

    return ngx_http_nexus_auth_unauthorized(r, "authentication_required",
               "Sign in: send an access token or the session cookie.",
               NULL);
}


static ngx_int_t
ngx_http_nexus_auth_bearer(ngx_http_nexus_ctx_t *ctx, ngx_str_t *token)
{
    ngx_int_t                    rc;
    ngx_str_t                    params[2];
    const char                  *reason;
    ngx_http_request_t          *r;
    ngx_http_nexus_jwt_claims_t  claims;

    r = ctx->request;
    reason = NULL;

    rc = ngx_http_nexus_jwt_verify(r, token, &claims, &reason);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        return ngx_http_nexus_auth_unauthorized(r, "invalid_token",
                   "The access token is not valid; refresh it or sign in "
                   "again.", reason ? reason : "invalid");
    }

    ctx->principal.via = NGX_HTTP_NEXUS_AUTH_BEARER;

    params[0].data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    params[1].data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (params[0].data == NULL || params[1].data == NULL) {
        return NGX_ERROR;
    }

    params[0].len = ngx_sprintf(params[0].data, "%L", claims.session_id)
                    - params[0].data;
    params[1].len = ngx_sprintf(params[1].data, "%L", claims.user_id)
                    - params[1].data;

    rc = ngx_http_nexus_pg_query(ctx, &ngx_http_nexus_principal_by_sid,
                                 params, ngx_http_nexus_auth_loaded);

    return rc == NGX_OK ? NGX_DONE : ngx_http_nexus_pg_send_error(ctx, NULL,
                                                                  rc);
}


static ngx_int_t
ngx_http_nexus_auth_cookie(ngx_http_nexus_ctx_t *ctx, ngx_str_t *cookie)
{
    ngx_int_t            rc;
    ngx_str_t            hash;
    ngx_http_request_t  *r;

    r = ctx->request;

    if (cookie->len != NGX_HTTP_NEXUS_TOKEN_LEN) {
        /* a stale or foreign cookie: say so, and clear it */
        (void) ngx_http_nexus_auth_set_cookie(ctx, NULL, 0);

        return ngx_http_nexus_auth_unauthorized(r, "invalid_session",
                   "The session has ended; sign in again.", NULL);
    }

    ctx->principal.via = NGX_HTTP_NEXUS_AUTH_COOKIE;

    if (ngx_http_nexus_token_hash(r->pool, cookie, &hash) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_nexus_pg_query(ctx, &ngx_http_nexus_principal_by_cookie,
                                 &hash, ngx_http_nexus_auth_loaded);

    return rc == NGX_OK ? NGX_DONE : ngx_http_nexus_pg_send_error(ctx, NULL,
                                                                  rc);
}


static void
ngx_http_nexus_auth_loaded(ngx_http_nexus_ctx_t *ctx, PGresult *res,
    ngx_int_t rc)
{
    ngx_http_nexus_auth_t  *auth;

    if (rc != NGX_OK || PQresultStatus(res) != PGRES_TUPLES_OK) {
        ngx_http_nexus_finalize(ctx, ngx_http_nexus_pg_send_error(ctx, res,
                                                                  rc));
        return;
    }

    /*
     * a refusal has been answered already: the rc of sending it is often
     * NGX_OK, so it must never be mistaken for "go on"
     */
    if (ngx_http_nexus_auth_decide(ctx, res, &rc) == NGX_OK) {
        auth = ctx->auth;

        rc = ngx_http_nexus_limit_account(ctx, &ctx->principal.user_id_text,
                                          auth->next);
    }

    if (rc != NGX_DONE) {
        ngx_http_nexus_finalize(ctx, rc);
    }
}


/*
 * NGX_OK: the caller may go on. NGX_DECLINED: refused, or failed; *rc is
 * then the rc to finalize the request with.
 */

static ngx_int_t
ngx_http_nexus_auth_decide(ngx_http_nexus_ctx_t *ctx, PGresult *res,
    ngx_int_t *rc)
{
    ngx_uint_t                   access;
    ngx_http_request_t          *r;
    ngx_http_nexus_principal_t  *p;

    r = ctx->request;
    p = &ctx->principal;

    if (PQntuples(res) != 1) {
        if (p->via == NGX_HTTP_NEXUS_AUTH_COOKIE) {
            (void) ngx_http_nexus_auth_set_cookie(ctx, NULL, 0);
        }

        *rc = ngx_http_nexus_auth_unauthorized(r, "session_ended",
                  "The session has ended or the account is disabled; "
                  "sign in again.", "revoked");
        return NGX_DECLINED;
    }

    /* copies: the result is freed once this step returns */
    if (ngx_http_nexus_auth_copy(r, res, 0, &p->user_id_text) != NGX_OK
        || ngx_http_nexus_auth_copy(r, res, 1, &p->email) != NGX_OK
        || ngx_http_nexus_auth_copy(r, res, 2, &p->session_id_text)
           != NGX_OK)
    {
        *rc = NGX_ERROR;
        return NGX_DECLINED;
    }

    p->user_id = ngx_atoof(p->user_id_text.data, p->user_id_text.len);
    p->session_id = ngx_atoof(p->session_id_text.data,
                              p->session_id_text.len);
    p->admin = PQgetvalue(res, 0, 3)[0] == 't';
    p->customer = PQgetvalue(res, 0, 4)[0] == 't';
    p->seller = PQgetvalue(res, 0, 5)[0] == 't';

    if (p->via == NGX_HTTP_NEXUS_AUTH_COOKIE
        && (r->method & (NGX_HTTP_POST|NGX_HTTP_PATCH|NGX_HTTP_PUT
                         |NGX_HTTP_DELETE)))
    {
        if (ngx_http_nexus_auth_csrf(ctx, res) != NGX_OK) {
            *rc = ngx_http_nexus_send_problem(r, NGX_HTTP_FORBIDDEN,
                      "csrf_failed",
                      "Send the session's CSRF token in the X-CSRF-Token "
                      "header.", NULL);
            return NGX_DECLINED;
        }
    }

    access = ctx->route->access;

    if ((access == NGX_HTTP_NEXUS_ADMIN && !p->admin)
        || (access == NGX_HTTP_NEXUS_SELLER && !p->seller && !p->admin))
    {
        *rc = ngx_http_nexus_send_problem(r, NGX_HTTP_FORBIDDEN,
                  "forbidden",
                  access == NGX_HTTP_NEXUS_ADMIN
                  ? "This needs a platform operator account."
                  : "This needs a seller account: staff of an active store.",
                  NULL);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_nexus_auth_copy(ngx_http_request_t *r, PGresult *res, int col,
    ngx_str_t *out)
{
    ngx_str_t  v;

    if (ngx_http_nexus_pg_value(res, 0, col, &v) != NGX_OK) {
        return NGX_ERROR;
    }

    out->len = v.len;
    out->data = ngx_pnalloc(r->pool, v.len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    *ngx_cpymem(out->data, v.data, v.len) = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_http_nexus_auth_csrf(ngx_http_nexus_ctx_t *ctx, PGresult *res)
{
    u_char               digest[32], hex[64];
    ngx_str_t            stored, name, *sent;
    ngx_uint_t           i;
    ngx_list_part_t     *part;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = ctx->request;

    if (ngx_http_nexus_pg_value(res, 0, 6, &stored) != NGX_OK
        || stored.len != 64)
    {
        return NGX_DECLINED;
    }

    ngx_str_set(&name, "X-CSRF-Token");
    sent = NULL;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == name.len
            && ngx_strncasecmp(h[i].key.data, name.data, name.len) == 0)
        {
            sent = &h[i].value;
            break;
        }
    }

    if (sent == NULL || sent->len == 0) {
        return NGX_DECLINED;
    }

    ngx_http_nexus_sha256(sent->data, sent->len, digest);
    ngx_hex_dump(hex, digest, sizeof(digest));

    return ngx_http_nexus_equal_ct(hex, sizeof(hex), stored.data, stored.len)
           ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_nexus_auth_unauthorized(ngx_http_request_t *r, const char *code,
    const char *detail, const char *reason)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   v;

    len = sizeof("Bearer realm=\"nexus\", error=\"invalid_token\", "
                 "error_description=\"\"") + (reason ? ngx_strlen(reason) : 0);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v.data = p;

    if (reason) {
        v.len = ngx_sprintf(p, "Bearer realm=\"nexus\", "
                            "error=\"invalid_token\", "
                            "error_description=\"%s\"", reason) - p;
    } else {
        v.len = ngx_sprintf(p, "Bearer realm=\"nexus\"") - p;
    }

    if (ngx_http_nexus_add_header(r, "WWW-Authenticate", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_nexus_send_problem(r, NGX_HTTP_UNAUTHORIZED, code,
                                       detail, NULL);
}


/*
 * The session cookie: HttpOnly, SameSite=Lax, Path=/api/, Secure when the
 * request came over TLS (nexus_cookie_secure auto) or always (on). A NULL
 * token clears it.
 */

ngx_int_t
ngx_http_nexus_auth_set_cookie(ngx_http_nexus_ctx_t *ctx, ngx_str_t *token,
    time_t max_age)
{
    u_char              *p;
    size_t               len;
    ngx_str_t            v;
    ngx_uint_t           secure;
    ngx_http_request_t  *r;

    static ngx_str_t  cleared = ngx_null_string;

    r = ctx->request;

    switch (ctx->lcf->cookie_secure) {
    case NGX_HTTP_NEXUS_COOKIE_SECURE_ON:
        secure = 1;
        break;
    case NGX_HTTP_NEXUS_COOKIE_SECURE_OFF:
        secure = 0;
        break;
    default:
#if (NGX_HTTP_SSL)
        secure = r->connection->ssl != NULL;
#else
        secure = 0;
#endif
        break;
    }

    len = sizeof(NGX_HTTP_NEXUS_SESSION_COOKIE "=; Path=/api/; Max-Age=; "
                 "HttpOnly; SameSite=Lax; Secure")
          + NGX_HTTP_NEXUS_TOKEN_LEN + NGX_TIME_T_LEN;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v.data = p;
    v.len = ngx_sprintf(p, NGX_HTTP_NEXUS_SESSION_COOKIE "=%V; Path=/api/; "
                        "Max-Age=%T; HttpOnly; SameSite=Lax%s",
                        token ? token : &cleared, max_age,
                        secure ? "; Secure" : "")
            - p;

    return ngx_http_nexus_add_header(r, "Set-Cookie", &v);
}
