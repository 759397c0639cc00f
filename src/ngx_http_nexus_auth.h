/*
 * Accounts and security: who the caller is (JWT bearer token or session
 * cookie), what they may do (the route table's roles), tokens and password
 * hashing, and rate limits. Each concern lives in its own file:
 *
 *   ngx_http_nexus_crypto.c    random tokens, SHA-256, constant-time compare
 *   ngx_http_nexus_jwt.c       access tokens: HS256 / EdDSA, key rotation
 *   ngx_http_nexus_password.c  scrypt on nginx's thread pool
 *   ngx_http_nexus_limit.c     Redis rate limits (GCRA), named zones
 *   ngx_http_nexus_auth.c      the principal of a request, CSRF, cookies
 */

#ifndef _NGX_HTTP_NEXUS_AUTH_H_INCLUDED_
#define _NGX_HTTP_NEXUS_AUTH_H_INCLUDED_


#include "ngx_http_nexus.h"


/* ngx_http_nexus_auth.c */

/* authenticates the caller and applies the route's access level */
ngx_int_t ngx_http_nexus_auth_start(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_endpoint_pt next);
/* sets the session cookie, or clears it when token is NULL */
ngx_int_t ngx_http_nexus_auth_set_cookie(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *token, time_t max_age);


/* ngx_http_nexus_crypto.c */

#define NGX_HTTP_NEXUS_TOKEN_LEN  43    /* 32 random bytes, base64url */

/* a fresh random token (32 bytes from RAND_bytes, base64url, no padding) */
ngx_int_t ngx_http_nexus_random_token(ngx_pool_t *pool, ngx_str_t *token);

/* the bytea text form "\x<hex>" of SHA-256(token), for a statement param */
ngx_int_t ngx_http_nexus_token_hash(ngx_pool_t *pool, ngx_str_t *token,
    ngx_str_t *param);

void ngx_http_nexus_sha256(const u_char *data, size_t len, u_char *out);
ngx_int_t ngx_http_nexus_hmac_sha256(const u_char *key, size_t key_len,
    const u_char *data, size_t len, u_char *out);

/* 1 when equal; the time taken does not depend on where they differ */
ngx_uint_t ngx_http_nexus_equal_ct(const u_char *a, size_t alen,
    const u_char *b, size_t blen);


/* ngx_http_nexus_jwt.c */

typedef struct {
    int64_t                     user_id;        /* "sub" */
    int64_t                     session_id;     /* "sid" */
    time_t                      iat;
    time_t                      exp;
} ngx_http_nexus_jwt_claims_t;

/* nexus_jwt_key KID HS256|EdDSA file:PATH|env:NAME [sign] */
char *ngx_http_nexus_jwt_key_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_nexus_jwt_init_conf(ngx_conf_t *cf,
    ngx_http_nexus_main_conf_t *nmcf);
void ngx_http_nexus_jwt_exit(void);

/*
 * Signs an access token for claims->user_id and claims->session_id; sets
 * claims->iat and claims->exp. NGX_DECLINED: no signing key configured.
 */
ngx_int_t ngx_http_nexus_jwt_issue(ngx_http_request_t *r,
    ngx_http_nexus_jwt_claims_t *claims, ngx_str_t *token);

/* NGX_OK, NGX_DECLINED with *reason (the token is bad), or NGX_ERROR */
ngx_int_t ngx_http_nexus_jwt_verify(ngx_http_request_t *r, ngx_str_t *token,
    ngx_http_nexus_jwt_claims_t *claims, const char **reason);


/* ngx_http_nexus_password.c */

/*
 * rc: NGX_OK (hashed, or the password matches), NGX_DECLINED (no match),
 * NGX_ERROR. phc: the new hash after hashing, or after a match when the
 * stored hash used weaker parameters than configured (rehash); else NULL.
 */
typedef void (*ngx_http_nexus_password_pt)(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t rc, ngx_str_t *phc);

/* nexus_password_scrypt N r p */
char *ngx_http_nexus_password_scrypt_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_nexus_password_init_conf(ngx_conf_t *cf,
    ngx_http_nexus_main_conf_t *nmcf);

/*
 * Both run on the thread pool and return NGX_DONE (the handler runs later,
 * in the event loop) or NGX_ERROR (the handler never runs). verify with an
 * empty phc hashes anyway, so that an unknown account costs the same time.
 */
ngx_int_t ngx_http_nexus_password_hash(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *password, ngx_http_nexus_password_pt handler);
ngx_int_t ngx_http_nexus_password_verify(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *password, ngx_str_t *phc, ngx_http_nexus_password_pt handler);


/* ngx_http_nexus_limit.c */

/* nexus_limit_zone NAME key=$variable|key=account rate=Nr/s|Nr/m [burst=N] */
char *ngx_http_nexus_limit_zone_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* nexus_limit NAME [fail=open|closed] */
char *ngx_http_nexus_limit_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_nexus_limit_merge(ngx_conf_t *cf,
    ngx_http_nexus_loc_conf_t *prev, ngx_http_nexus_loc_conf_t *conf);

/*
 * Checks the location's zones keyed by variables (limit_request) or by
 * account (limit_account: account is the user id or the e-mail address a
 * log-in names). Returns next(ctx)'s rc when no Redis round trip was needed,
 * NGX_DONE while waiting (then calls next or answers 429/503 itself and
 * finalizes), or the rc of a 429/503 answer already sent.
 */
ngx_int_t ngx_http_nexus_limit_request(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_endpoint_pt next);
ngx_int_t ngx_http_nexus_limit_account(ngx_http_nexus_ctx_t *ctx,
    ngx_str_t *account, ngx_http_nexus_endpoint_pt next);


#endif /* _NGX_HTTP_NEXUS_AUTH_H_INCLUDED_ */
