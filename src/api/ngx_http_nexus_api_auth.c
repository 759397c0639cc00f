/*
 * Authentication endpoints: sign-up, log-in (tokens or a cookie session),
 * refresh, log-out, e-mail verification, password reset and change, and
 * account deletion. Passwords are hashed and checked on nginx's thread pool
 * (ngx_http_nexus_password.c); the data side is SQL (0011_accounts_api.sql).
 *
 * Log-in gives the same answer, after the same work, for an unknown address
 * and a wrong password: an unknown address is hashed against a dummy.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_auth.h"


#define STRING    NGX_HTTP_NEXUS_FIELD_STRING
#define EMAIL     NGX_HTTP_NEXUS_FIELD_EMAIL
#define BOOL      NGX_HTTP_NEXUS_FIELD_BOOL
#define REQUIRED  NGX_HTTP_NEXUS_FIELD_REQUIRED

/* NIST SP 800-63B: at least 8 characters, allow long pass phrases */
#define NGX_HTTP_NEXUS_PASSWORD_MIN  8
#define NGX_HTTP_NEXUS_PASSWORD_MAX  256


typedef struct {
    ngx_str_t                   email;
    ngx_str_t                   password;
    ngx_str_t                   new_password;
    ngx_str_t                   user_id;
    ngx_str_t                   token;
    ngx_str_t                   csrf;
    ngx_str_t                   rehash;
    const char                 *then;       /* SQL endpoint after hashing */
    ngx_http_nexus_call_pt      then_done;
    ngx_uint_t                  cookie;
} ngx_http_nexus_auth_req_t;


static const ngx_http_nexus_field_t  ngx_http_nexus_register_fields[] = {
    { "email",    EMAIL,  REQUIRED, 3, 254, NULL },
    { "password", STRING, REQUIRED, NGX_HTTP_NEXUS_PASSWORD_MIN,
                  NGX_HTTP_NEXUS_PASSWORD_MAX, NULL },
    { "name",     STRING, 0, 1, 200, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_login_fields[] = {
    { "email",    EMAIL,  REQUIRED, 3, 254, NULL },
    { "password", STRING, REQUIRED, 1, 1024, NULL },
    { "session",  BOOL,   0, 0, 0, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_refresh_fields[] = {
    { "refresh_token", STRING, REQUIRED, 1, 200, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_logout_fields[] = {
    { "all",      BOOL,   0, 0, 0, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_token_fields[] = {
    { "token",    STRING, REQUIRED, 1, 200, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_email_fields[] = {
    { "email",    EMAIL,  REQUIRED, 3, 254, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_reset_fields[] = {
    { "token",    STRING, REQUIRED, 1, 200, NULL },
    { "password", STRING, REQUIRED, NGX_HTTP_NEXUS_PASSWORD_MIN,
                  NGX_HTTP_NEXUS_PASSWORD_MAX, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_password_fields[] = {
    { "current_password", STRING, REQUIRED, 1, 1024, NULL },
    { "new_password",     STRING, REQUIRED, NGX_HTTP_NEXUS_PASSWORD_MIN,
                          NGX_HTTP_NEXUS_PASSWORD_MAX, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_delete_fields[] = {
    { "password", STRING, REQUIRED, 1, 1024, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};


static ngx_int_t ngx_http_nexus_auth_keep(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *s);
static ngx_http_nexus_auth_req_t *ngx_http_nexus_auth_req(
    ngx_http_nexus_ctx_t *ctx, const ngx_http_nexus_field_t *fields,
    ngx_int_t *rc);
static ngx_int_t ngx_http_nexus_register_limited(ngx_http_nexus_ctx_t *ctx);
static void ngx_http_nexus_password_hashed(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *phc);
static ngx_int_t ngx_http_nexus_login_limited(ngx_http_nexus_ctx_t *ctx);
static ngx_int_t ngx_http_nexus_login_found(ngx_http_nexus_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *body);
static void ngx_http_nexus_login_checked(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *phc);
static ngx_int_t ngx_http_nexus_login_failed(ngx_http_nexus_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *body);
static ngx_int_t ngx_http_nexus_login_done(ngx_http_nexus_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *body);
static ngx_int_t ngx_http_nexus_send_tokens(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *user_id, ngx_str_t *session_id, ngx_str_t *refresh,
    json_t *user);
static ngx_int_t ngx_http_nexus_refresh_done(ngx_http_nexus_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *body);
static ngx_int_t ngx_http_nexus_signed_out(ngx_http_nexus_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *body);
static ngx_int_t ngx_http_nexus_reset_limited(ngx_http_nexus_ctx_t *ctx);
static ngx_int_t ngx_http_nexus_confirm_found(ngx_http_nexus_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *body);
static void ngx_http_nexus_confirm_checked(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *phc);
static ngx_int_t ngx_http_nexus_call_with(ngx_http_nexus_ctx_t *ctx,
    const char *endpoint, const char *name, ngx_str_t *value,
    ngx_http_nexus_call_pt done);
static void ngx_http_nexus_auth_resume(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc);


/* a copy in the request pool, independent of the parsed body */

static ngx_int_t
ngx_http_nexus_auth_keep(ngx_http_nexus_ctx_t *ctx, ngx_str_t *s)
{
    u_char  *p;

    if (s->len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(ctx->request->pool, s->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, s->data, s->len);
    s->data = p;

    return NGX_OK;
}


/* the checked body's credentials, kept for the steps that follow */

static ngx_http_nexus_auth_req_t *
ngx_http_nexus_auth_req(ngx_http_nexus_ctx_t *ctx,
    const ngx_http_nexus_field_t *fields, ngx_int_t *rc)
{
    json_t                     *v;
    ngx_http_nexus_auth_req_t  *ar;

    *rc = ngx_http_nexus_body_check(ctx, fields);

    if (*rc == NGX_DECLINED) {
        *rc = ngx_http_nexus_send_invalid(ctx);
        return NULL;
    }

    if (*rc != NGX_OK) {
        return NULL;
    }

    ar = ngx_pcalloc(ctx->request->pool, sizeof(ngx_http_nexus_auth_req_t));
    if (ar == NULL) {
        *rc = NGX_ERROR;
        return NULL;
    }

    (void) ngx_http_nexus_body_str(ctx, "email", &ar->email);

    if (ngx_http_nexus_body_str(ctx, "password", &ar->password)
        != NGX_OK)
    {
        (void) ngx_http_nexus_body_str(ctx, "current_password",
                                       &ar->password);
    }

    (void) ngx_http_nexus_body_str(ctx, "new_password", &ar->new_password);

    /* passwords never travel on to PostgreSQL, not even in a statement */
    if (ngx_http_nexus_auth_keep(ctx, &ar->password) != NGX_OK
        || ngx_http_nexus_auth_keep(ctx, &ar->new_password) != NGX_OK)
    {
        *rc = NGX_ERROR;
        return NULL;
    }

    json_object_del(ctx->body, "password");
    json_object_del(ctx->body, "current_password");
    json_object_del(ctx->body, "new_password");

    v = json_object_get(ctx->body, "session");
    ar->cookie = json_is_true(v);

    /* rate limits key accounts by the address as the server compares it */
    if (ar->email.len) {
        ngx_strlow(ar->email.data, ar->email.data, ar->email.len);
    }

    ctx->data = ar;

    return ar;
}


/* POST /api/auth/register */

ngx_int_t
ngx_http_nexus_api_register(ngx_http_nexus_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_nexus_auth_req_t  *ar;

    ar = ngx_http_nexus_auth_req(ctx, ngx_http_nexus_register_fields, &rc);
    if (ar == NULL) {
        return rc;
    }

    /* the account's limits; with none configured, straight on */
    return ngx_http_nexus_limit_account(ctx, &ar->email,
                                        ngx_http_nexus_register_limited);
}


static ngx_int_t
ngx_http_nexus_register_limited(ngx_http_nexus_ctx_t *ctx)
{
    ngx_http_nexus_auth_req_t  *ar = ctx->data;

    ar->then = "register";

    return ngx_http_nexus_password_hash(ctx, &ar->password,
                                        ngx_http_nexus_password_hashed);
}


/* POST /api/auth/login */

ngx_int_t
ngx_http_nexus_api_login(ngx_http_nexus_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_nexus_auth_req_t  *ar;

    ar = ngx_http_nexus_auth_req(ctx, ngx_http_nexus_login_fields, &rc);
    if (ar == NULL) {
        return rc;
    }

    /* the account's limits; with none configured, straight on */
    return ngx_http_nexus_limit_account(ctx, &ar->email,
                                        ngx_http_nexus_login_limited);
}


static ngx_int_t
ngx_http_nexus_login_limited(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_call(ctx, "login_lookup", NULL,
                               ngx_http_nexus_login_found);
}


static ngx_int_t
ngx_http_nexus_login_found(ngx_http_nexus_ctx_t *ctx, ngx_uint_t status,
    ngx_str_t *body)
{
    ngx_str_t                   phc;
    ngx_http_nexus_auth_req_t  *ar = ctx->data;

    if (status != NGX_HTTP_OK) {
        return ngx_http_nexus_call_send(ctx, status, body);
    }

    if (ngx_http_nexus_call_member(ctx, body, "user_id", &ar->user_id)
        == NGX_ERROR
        || ngx_http_nexus_call_member(ctx, body, "phc", &phc) == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    /* unknown address: phc is empty and a dummy is hashed all the same */
    return ngx_http_nexus_password_verify(ctx, &ar->password, &phc,
                                          ngx_http_nexus_login_checked);
}


static void
ngx_http_nexus_login_checked(ngx_http_nexus_ctx_t *ctx, ngx_int_t rc,
    ngx_str_t *phc)
{
    json_t                     *meta;
    ngx_http_nexus_auth_req_t  *ar = ctx->data;

    if (rc == NGX_ERROR) {
        ngx_http_nexus_auth_resume(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc != NGX_OK || ar->user_id.len == 0) {
        rc = ar->user_id.len
             ? ngx_http_nexus_call_with(ctx, "login_failed", "user_id",
                                        &ar->user_id,
                                        ngx_http_nexus_login_failed)
             : ngx_http_nexus_login_failed(ctx, NGX_HTTP_OK, NULL);

        ngx_http_nexus_auth_resume(ctx, rc);
        return;
    }

    if (phc && phc->len) {
        ar->rehash = *phc;
    }

    if (ngx_http_nexus_random_token(ctx->request->pool, &ar->token) != NGX_OK
        || ngx_http_nexus_random_token(ctx->request->pool, &ar->csrf)
           != NGX_OK)
    {
        ngx_http_nexus_auth_resume(ctx, NGX_ERROR);
        return;
    }

    meta = ngx_http_nexus_json_track(ctx->request, json_pack(
               "{s:s%, s:s, s:s%, s:s%}",
               "user_id", ar->user_id.data, ar->user_id.len,
               "mode", ar->cookie ? "cookie" : "token",
               "token", ar->token.data, ar->token.len,
               "csrf_token", ar->csrf.data, ar->csrf.len));

    if (meta == NULL
        || (ar->rehash.len
            && json_object_set_new(meta, "rehash",
                   json_stringn((char *) ar->rehash.data, ar->rehash.len))
               != 0))
    {
        ngx_http_nexus_auth_resume(ctx, NGX_ERROR);
        return;
    }

    rc = ngx_http_nexus_call(ctx, "login_finish", meta,
                             ngx_http_nexus_login_done);

    ngx_http_nexus_auth_resume(ctx, rc);
}


static ngx_int_t
ngx_http_nexus_login_failed(ngx_http_nexus_ctx_t *ctx, ngx_uint_t status,
    ngx_str_t *body)
{
    return ngx_http_nexus_send_problem(ctx->request, NGX_HTTP_UNAUTHORIZED,
                                       "invalid_credentials",
                                       "The e-mail address or password is "
                                       "wrong.", NULL);
}


static ngx_int_t
ngx_http_nexus_login_done(ngx_http_nexus_ctx_t *ctx, ngx_uint_t status,
    ngx_str_t *body)
{
    json_t                      *answer, *user;
    ngx_str_t                    sid;
    ngx_http_nexus_main_conf_t  *nmcf;
    ngx_http_nexus_auth_req_t   *ar = ctx->data;

    if (status != NGX_HTTP_OK) {
        return ngx_http_nexus_call_send(ctx, status, body);
    }

    answer = ngx_http_nexus_json_track(ctx->request,
                 json_loadb((char *) body->data, body->len, 0, NULL));
    user = answer ? json_object_get(answer, "user") : NULL;

    if (user == NULL
        || ngx_http_nexus_call_member(ctx, body, "session_id", &sid)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!ar->cookie) {
        return ngx_http_nexus_send_tokens(ctx, &ar->user_id, &sid,
                                          &ar->token, user);
    }

    /* a browser: the cookie carries the session, the body its CSRF token */
    nmcf = ngx_http_get_module_main_conf(ctx->request, ngx_http_nexus_module);

    if (ngx_http_nexus_auth_set_cookie(ctx, &ar->token, nmcf->session_ttl)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    answer = ngx_http_nexus_json_track(ctx->request, json_pack(
                 "{s:s%, s:I, s:O}",
                 "csrf_token", ar->csrf.data, ar->csrf.len,
                 "expires_in", (json_int_t) nmcf->session_ttl,
                 "user", user));
    if (answer == NULL) {
        return NGX_ERROR;
    }

    ctx->no_store = 1;

    return ngx_http_nexus_send_json(ctx->request, NGX_HTTP_OK, answer);
}


/* the answer of log-in and refresh for API clients (RFC 6749 5.1) */

static ngx_int_t
ngx_http_nexus_send_tokens(ngx_http_nexus_ctx_t *ctx, ngx_str_t *user_id,
    ngx_str_t *session_id, ngx_str_t *refresh, json_t *user)
{
    json_t                       *answer;
    ngx_int_t                     rc;
    ngx_str_t                     access;
    ngx_http_nexus_main_conf_t   *nmcf;
    ngx_http_nexus_jwt_claims_t   claims;

    nmcf = ngx_http_get_module_main_conf(ctx->request, ngx_http_nexus_module);

    ngx_memzero(&claims, sizeof(ngx_http_nexus_jwt_claims_t));
    claims.user_id = ngx_atoof(user_id->data, user_id->len);
    claims.session_id = ngx_atoof(session_id->data, session_id->len);

    rc = ngx_http_nexus_jwt_issue(ctx->request, &claims, &access);

    if (rc == NGX_DECLINED) {
        return ngx_http_nexus_send_unavailable(ctx->request,
                   "tokens_unavailable",
                   "This server signs no access tokens (no nexus_jwt_key); "
                   "sign in with \"session\": true.");
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    answer = ngx_http_nexus_json_track(ctx->request, json_pack(
                 "{s:s%, s:s, s:I, s:s%}",
                 "access_token", access.data, access.len,
                 "token_type", "Bearer",
                 "expires_in", (json_int_t) nmcf->access_ttl,
                 "refresh_token", refresh->data, refresh->len));

    if (answer == NULL
        || (user && json_object_set(answer, "user", user) != 0))
    {
        return NGX_ERROR;
    }

    ctx->no_store = 1;

    return ngx_http_nexus_send_json(ctx->request, NGX_HTTP_OK, answer);
}


/* POST /api/auth/refresh */

ngx_int_t
ngx_http_nexus_api_refresh(ngx_http_nexus_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_nexus_auth_req_t  *ar;

    ar = ngx_http_nexus_auth_req(ctx, ngx_http_nexus_refresh_fields, &rc);
    if (ar == NULL) {
        return rc;
    }

    if (ngx_http_nexus_random_token(ctx->request->pool, &ar->token)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_nexus_call_with(ctx, "refresh", "token", &ar->token,
                                    ngx_http_nexus_refresh_done);
}


static ngx_int_t
ngx_http_nexus_refresh_done(ngx_http_nexus_ctx_t *ctx, ngx_uint_t status,
    ngx_str_t *body)
{
    ngx_str_t                   uid, sid;
    ngx_http_nexus_auth_req_t  *ar = ctx->data;

    if (status != NGX_HTTP_OK) {
        return ngx_http_nexus_call_send(ctx, status, body);
    }

    if (ngx_http_nexus_call_member(ctx, body, "user_id", &uid) != NGX_OK
        || ngx_http_nexus_call_member(ctx, body, "session_id", &sid)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_nexus_send_tokens(ctx, &uid, &sid, &ar->token, NULL);
}


/* POST /api/auth/logout */

ngx_int_t
ngx_http_nexus_api_logout(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_call_body(ctx, "logout",
                                    ngx_http_nexus_logout_fields, NULL,
                                    ngx_http_nexus_signed_out);
}


/* the session is gone: a browser's cookie goes too */

static ngx_int_t
ngx_http_nexus_signed_out(ngx_http_nexus_ctx_t *ctx, ngx_uint_t status,
    ngx_str_t *body)
{
    if (status < 300 && ctx->principal.via == NGX_HTTP_NEXUS_AUTH_COOKIE) {
        if (ngx_http_nexus_auth_set_cookie(ctx, NULL, 0) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return ngx_http_nexus_call_send(ctx, status, body);
}


/* POST /api/auth/verify-email */

ngx_int_t
ngx_http_nexus_api_verify_email(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_call_checked(ctx, "verify_email",
                                       ngx_http_nexus_token_fields);
}


/* POST /api/auth/password-reset */

ngx_int_t
ngx_http_nexus_api_reset_request(ngx_http_nexus_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_nexus_auth_req_t  *ar;

    ar = ngx_http_nexus_auth_req(ctx, ngx_http_nexus_email_fields, &rc);
    if (ar == NULL) {
        return rc;
    }

    /* the account's limits; with none configured, straight on */
    return ngx_http_nexus_limit_account(ctx, &ar->email,
                                        ngx_http_nexus_reset_limited);
}


static ngx_int_t
ngx_http_nexus_reset_limited(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_call(ctx, "reset_request", NULL, NULL);
}


/* POST /api/auth/password-reset/confirm */

ngx_int_t
ngx_http_nexus_api_reset_confirm(ngx_http_nexus_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_nexus_auth_req_t  *ar;

    ar = ngx_http_nexus_auth_req(ctx, ngx_http_nexus_reset_fields, &rc);
    if (ar == NULL) {
        return rc;
    }

    ar->then = "reset_confirm";

    return ngx_http_nexus_password_hash(ctx, &ar->password,
                                        ngx_http_nexus_password_hashed);
}


/*
 * POST /api/me/password and DELETE /api/me: both first check the password
 * the caller typed against the stored hash.
 */

ngx_int_t
ngx_http_nexus_api_me_password(ngx_http_nexus_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_nexus_auth_req_t  *ar;

    ar = ngx_http_nexus_auth_req(ctx, ngx_http_nexus_password_fields, &rc);
    if (ar == NULL) {
        return rc;
    }

    ar->then = "password_change";

    return ngx_http_nexus_call(ctx, "password_lookup", NULL,
                               ngx_http_nexus_confirm_found);
}


ngx_int_t
ngx_http_nexus_api_me_delete(ngx_http_nexus_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_nexus_auth_req_t  *ar;

    ar = ngx_http_nexus_auth_req(ctx, ngx_http_nexus_delete_fields, &rc);
    if (ar == NULL) {
        return rc;
    }

    ar->then = "me_delete";

    return ngx_http_nexus_call(ctx, "password_lookup", NULL,
                               ngx_http_nexus_confirm_found);
}


static ngx_int_t
ngx_http_nexus_confirm_found(ngx_http_nexus_ctx_t *ctx, ngx_uint_t status,
    ngx_str_t *body)
{
    ngx_str_t                   phc;
    ngx_http_nexus_auth_req_t  *ar = ctx->data;

    if (status != NGX_HTTP_OK) {
        return ngx_http_nexus_call_send(ctx, status, body);
    }

    if (ngx_http_nexus_call_member(ctx, body, "phc", &phc) == NGX_ERROR) {
        return NGX_ERROR;
    }

    return ngx_http_nexus_password_verify(ctx, &ar->password, &phc,
                                          ngx_http_nexus_confirm_checked);
}


static void
ngx_http_nexus_confirm_checked(ngx_http_nexus_ctx_t *ctx, ngx_int_t rc,
    ngx_str_t *phc)
{
    ngx_http_nexus_auth_req_t  *ar = ctx->data;

    if (rc == NGX_ERROR) {
        ngx_http_nexus_auth_resume(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_nexus_auth_resume(ctx, ngx_http_nexus_send_problem(
            ctx->request, NGX_HTTP_FORBIDDEN, "wrong_password",
            "The current password is wrong.", NULL));
        return;
    }

    if (ar->new_password.len) {
        ar->then_done = ngx_http_nexus_signed_out;
        rc = ngx_http_nexus_password_hash(ctx, &ar->new_password,
                                          ngx_http_nexus_password_hashed);

    } else {
        rc = ngx_http_nexus_call(ctx, ar->then, NULL,
                                 ngx_http_nexus_signed_out);
    }

    ngx_http_nexus_auth_resume(ctx, rc);
}


/* a new password is hashed: the SQL endpoint that stores it runs next */

static void
ngx_http_nexus_password_hashed(ngx_http_nexus_ctx_t *ctx, ngx_int_t rc,
    ngx_str_t *phc)
{
    ngx_http_nexus_auth_req_t  *ar = ctx->data;

    if (rc != NGX_OK || phc == NULL) {
        ngx_http_nexus_auth_resume(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_nexus_call_with(ctx, ar->then, "password_hash", phc,
                                  ar->then_done);

    ngx_http_nexus_auth_resume(ctx, rc);
}


/* runs an SQL endpoint with one more string in its meta */

static ngx_int_t
ngx_http_nexus_call_with(ngx_http_nexus_ctx_t *ctx, const char *endpoint,
    const char *name, ngx_str_t *value, ngx_http_nexus_call_pt done)
{
    json_t  *meta;

    meta = ngx_http_nexus_json_track(ctx->request, json_object());

    if (meta == NULL
        || json_object_set_new(meta, name,
                               json_stringn((char *) value->data, value->len))
           != 0)
    {
        return NGX_ERROR;
    }

    return ngx_http_nexus_call(ctx, endpoint, meta, done);
}


/* after a step that ran off the request's own call chain */

static void
ngx_http_nexus_auth_resume(ngx_http_nexus_ctx_t *ctx, ngx_int_t rc)
{
    if (rc != NGX_DONE) {
        ngx_http_nexus_finalize(ctx, rc);
    }
}
