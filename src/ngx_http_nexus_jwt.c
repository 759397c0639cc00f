/*
 * Access tokens: compact JWS (RFC 7515) JWTs signed with HS256 or EdDSA
 * (Ed25519). Keys are named by "kid" and several may be configured at once,
 * so a key can be rotated: new tokens are signed with the signing key while
 * tokens signed with an older key verify as long as that key is configured.
 *
 * A token's "alg" must equal the algorithm of the key its "kid" names:
 * the token never chooses how it is checked, which closes "alg":"none" and
 * the HS256-with-a-public-key confusion.
 */

#include "ngx_http_nexus_auth.h"
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>


#define NGX_HTTP_NEXUS_JWT_HS256      1
#define NGX_HTTP_NEXUS_JWT_EDDSA      2

#define NGX_HTTP_NEXUS_JWT_MAX_LEN    4096
#define NGX_HTTP_NEXUS_JWT_KID_LEN    64
#define NGX_HTTP_NEXUS_JWT_HS_MIN     32
#define NGX_HTTP_NEXUS_JWT_IAT_SKEW   60
#define NGX_HTTP_NEXUS_JWT_JTI_BYTES  16

/* the latest NumericDate accepted: 9999-12-31T23:59:59Z */
#define NGX_HTTP_NEXUS_JWT_TIME_MAX   253402300799LL


typedef struct {
    ngx_str_t                   kid;
    ngx_uint_t                  alg;
    ngx_str_t                   secret;         /* HS256 */
    EVP_PKEY                   *pkey;           /* EdDSA */
    unsigned                    can_sign:1;
    unsigned                    sign:1;         /* the "sign" flag */
} ngx_http_nexus_jwt_key_t;


typedef struct {
    ngx_array_t                 keys;           /* ngx_http_nexus_jwt_key_t */
    ngx_http_nexus_jwt_key_t   *signer;         /* NULL: verify only */

    /* prepared once: the signer's header, base64url; iss and aud as JSON */
    ngx_str_t                   header;
    ngx_str_t                   iss_json;
    ngx_str_t                   aud_json;
} ngx_http_nexus_jwt_conf_t;


static ngx_int_t ngx_http_nexus_jwt_verify_token(ngx_http_request_t *r,
    ngx_str_t *token, ngx_http_nexus_jwt_claims_t *claims,
    const char **reason);
static ngx_int_t ngx_http_nexus_jwt_load_pem(ngx_conf_t *cf,
    ngx_http_nexus_jwt_key_t *key, ngx_str_t *pem);
static int ngx_http_nexus_jwt_no_passphrase(char *buf, int size, int rwflag,
    void *u);
static void ngx_http_nexus_jwt_free_pkey(void *data);
static void ngx_http_nexus_jwt_cleanse(void *data);
static ngx_int_t ngx_http_nexus_jwt_json_string(ngx_conf_t *cf,
    ngx_str_t *value, ngx_str_t *out);
static ngx_int_t ngx_http_nexus_jwt_sign(ngx_http_nexus_jwt_key_t *key,
    u_char *data, size_t len, u_char *sig, size_t *siglen);
static ngx_int_t ngx_http_nexus_jwt_check(ngx_http_nexus_jwt_key_t *key,
    u_char *data, size_t len, ngx_str_t *sig);
static ngx_int_t ngx_http_nexus_jwt_decode(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
static json_t *ngx_http_nexus_jwt_parse(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_int_t *rc);
static const char *ngx_http_nexus_jwt_claims(ngx_http_request_t *r,
    json_t *payload, ngx_http_nexus_jwt_claims_t *claims);
static ngx_int_t ngx_http_nexus_jwt_time(json_t *payload, const char *name,
    time_t *t);
static ngx_uint_t ngx_http_nexus_jwt_equal(json_t *s, ngx_str_t *value);
static EVP_MD_CTX *ngx_http_nexus_jwt_md_ctx(void);
static ngx_int_t ngx_http_nexus_jwt_b64url(u_char c);


/* one digest context per worker, reset after every use */
static EVP_MD_CTX  *ngx_http_nexus_jwt_md;


/* nexus_jwt_key KID HS256|EdDSA file:PATH|env:NAME [sign] */

char *
ngx_http_nexus_jwt_key_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_nexus_main_conf_t *nmcf = conf;

    u_char                     *p;
    ngx_str_t                  *value, secret;
    ngx_uint_t                  i;
    ngx_pool_cleanup_t         *cln;
    ngx_http_nexus_jwt_key_t   *key, *k;
    ngx_http_nexus_jwt_conf_t  *jc;

    value = cf->args->elts;

    jc = nmcf->jwt;

    if (jc == NULL) {
        jc = ngx_pcalloc(cf->pool, sizeof(ngx_http_nexus_jwt_conf_t));
        if (jc == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_array_init(&jc->keys, cf->pool, 2,
                           sizeof(ngx_http_nexus_jwt_key_t))
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        nmcf->jwt = jc;
    }

    /* the kid goes into every header as is: keep it plain */
    if (value[1].len == 0 || value[1].len > NGX_HTTP_NEXUS_JWT_KID_LEN) {
        return "has a key id that is empty or longer than 64 characters";
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9')
              || *p == '-' || *p == '_' || *p == '.' || *p == ':'))
        {
            return "has a key id with characters other than letters, "
                   "digits, \"-\", \"_\", \".\" and \":\"";
        }
    }

    k = jc->keys.elts;
    for (i = 0; i < jc->keys.nelts; i++) {
        if (k[i].kid.len == value[1].len
            && ngx_strncmp(k[i].kid.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: duplicate JWT key id \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    key = ngx_array_push(&jc->keys);
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(key, sizeof(ngx_http_nexus_jwt_key_t));
    key->kid = value[1];

    if (value[2].len == 5 && ngx_strncmp(value[2].data, "HS256", 5) == 0) {
        key->alg = NGX_HTTP_NEXUS_JWT_HS256;

    } else if (value[2].len == 5
               && ngx_strncmp(value[2].data, "EdDSA", 5) == 0)
    {
        key->alg = NGX_HTTP_NEXUS_JWT_EDDSA;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: unknown JWT algorithm \"%V\" for key "
                           "\"%V\"; use \"HS256\" or \"EdDSA\"",
                           &value[2], &value[1]);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 5) {
        if (value[4].len != 4 || ngx_strncmp(value[4].data, "sign", 4) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: invalid parameter \"%V\"; the only "
                               "flag of \"nexus_jwt_key\" is \"sign\"",
                               &value[4]);
            return NGX_CONF_ERROR;
        }

        key->sign = 1;
    }

    if (ngx_http_nexus_conf_secret(cf, &cmd->name, &value[3], &secret)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (key->alg == NGX_HTTP_NEXUS_JWT_HS256) {
        /* RFC 7518 3.2: a key at least as long as the hash output */
        if (secret.len < NGX_HTTP_NEXUS_JWT_HS_MIN) {
            OPENSSL_cleanse(secret.data, secret.len);
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: the HS256 secret of JWT key \"%V\" "
                               "has %uz bytes; it needs at least %d",
                               &value[1], secret.len,
                               NGX_HTTP_NEXUS_JWT_HS_MIN);
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, sizeof(ngx_str_t));
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        /* a configuration that goes away takes no secret with it */
        cln->handler = ngx_http_nexus_jwt_cleanse;
        *(ngx_str_t *) cln->data = secret;

        key->secret = secret;
        key->can_sign = 1;

    } else {
        if (ngx_http_nexus_jwt_load_pem(cf, key, &secret) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (key->sign && !key->can_sign) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: JWT key \"%V\" is a public key: it can "
                           "verify, not \"sign\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a PEM private key (signs and verifies) or public key (verifies) */

static ngx_int_t
ngx_http_nexus_jwt_load_pem(ngx_conf_t *cf, ngx_http_nexus_jwt_key_t *key,
    ngx_str_t *pem)
{
    BIO                 *bio;
    EVP_PKEY            *pkey;
    ngx_uint_t           priv;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        OPENSSL_cleanse(pem->data, pem->len);
        return NGX_ERROR;
    }

    priv = (ngx_strstr(pem->data, "-----BEGIN PUBLIC KEY-----") == NULL);

    pkey = NULL;
    bio = BIO_new_mem_buf(pem->data, pem->len);

    if (bio) {
        if (priv) {
            pkey = PEM_read_bio_PrivateKey(bio, NULL,
                                         ngx_http_nexus_jwt_no_passphrase,
                                         NULL);
        } else {
            pkey = PEM_read_bio_PUBKEY(bio, NULL,
                                       ngx_http_nexus_jwt_no_passphrase, NULL);
        }

        BIO_free(bio);
    }

    /* the PEM text is not needed any more: the key lives in pkey */
    OPENSSL_cleanse(pem->data, pem->len);
    ERR_clear_error();

    if (pkey == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: JWT key \"%V\" is not a PEM %s key "
                           "(an encrypted key is not supported)",
                           &key->kid, priv ? "private" : "public");
        return NGX_ERROR;
    }

    cln->handler = ngx_http_nexus_jwt_free_pkey;
    cln->data = pkey;

    if (EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: JWT key \"%V\" is not an Ed25519 key, "
                           "which \"EdDSA\" needs", &key->kid);
        return NGX_ERROR;
    }

    key->pkey = pkey;
    key->can_sign = priv;

    return NGX_OK;
}


/* never ask a terminal for a passphrase while nginx loads */

static int
ngx_http_nexus_jwt_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}


static void
ngx_http_nexus_jwt_free_pkey(void *data)
{
    EVP_PKEY_free(data);
}


static void
ngx_http_nexus_jwt_cleanse(void *data)
{
    ngx_str_t  *secret = data;

    OPENSSL_cleanse(secret->data, secret->len);
}


char *
ngx_http_nexus_jwt_init_conf(ngx_conf_t *cf, ngx_http_nexus_main_conf_t *nmcf)
{
    u_char                     *p, *s, *last;
    size_t                      len;
    ngx_str_t                   src;
    ngx_uint_t                  i, flagged;
    ngx_http_nexus_jwt_key_t   *k;
    ngx_http_nexus_jwt_conf_t  *jc;

    jc = nmcf->jwt;

    if (jc == NULL) {
        return NGX_CONF_OK;
    }

    flagged = 0;
    k = jc->keys.elts;

    for (i = 0; i < jc->keys.nelts; i++) {
        if (k[i].sign) {
            flagged++;
            jc->signer = &k[i];
        }
    }

    if (flagged > 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: only one \"nexus_jwt_key\" may have the "
                           "\"sign\" flag");
        return NGX_CONF_ERROR;
    }

    for (i = 0; jc->signer == NULL && i < jc->keys.nelts; i++) {
        if (k[i].can_sign) {
            jc->signer = &k[i];
        }
    }

    if (ngx_http_nexus_jwt_json_string(cf, &nmcf->jwt_issuer, &jc->iss_json)
        != NGX_OK
        || ngx_http_nexus_jwt_json_string(cf, &nmcf->jwt_audience,
                                          &jc->aud_json)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (jc->signer == NULL) {
        ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                           "nexus: no JWT key can sign: access tokens are "
                           "verified, never issued");
        return NGX_CONF_OK;
    }

    len = sizeof("{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"\"}") - 1
          + jc->signer->kid.len;

    s = ngx_pnalloc(cf->pool, len);
    if (s == NULL) {
        return NGX_CONF_ERROR;
    }

    last = ngx_sprintf(s, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%V\"}",
                       jc->signer->alg == NGX_HTTP_NEXUS_JWT_HS256
                       ? "HS256" : "EdDSA",
                       &jc->signer->kid);

    src.data = s;
    src.len = last - s;

    p = ngx_pnalloc(cf->pool, ngx_base64_encoded_length(src.len));
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    jc->header.data = p;
    ngx_encode_base64url(&jc->header, &src);

    return NGX_CONF_OK;
}


/* value as a JSON string literal (quoted, escaped) in cf->pool */

static ngx_int_t
ngx_http_nexus_jwt_json_string(ngx_conf_t *cf, ngx_str_t *value,
    ngx_str_t *out)
{
    char    *text;
    json_t  *s;

    s = json_stringn((char *) value->data, value->len);
    if (s == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: JWT issuer and audience must be UTF-8 "
                           "text: \"%V\"", value);
        return NGX_ERROR;
    }

    text = json_dumps(s, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(s);

    if (text == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_strlen(text);
    out->data = ngx_pnalloc(cf->pool, out->len);

    if (out->data) {
        ngx_memcpy(out->data, text, out->len);
    }

    free(text);

    return out->data ? NGX_OK : NGX_ERROR;
}


void
ngx_http_nexus_jwt_exit(void)
{
    if (ngx_http_nexus_jwt_md) {
        EVP_MD_CTX_free(ngx_http_nexus_jwt_md);
        ngx_http_nexus_jwt_md = NULL;
    }
}


ngx_int_t
ngx_http_nexus_jwt_issue(ngx_http_request_t *r,
    ngx_http_nexus_jwt_claims_t *claims, ngx_str_t *token)
{
    u_char                      *p, *payload, *last;
    u_char                       jti_raw[NGX_HTTP_NEXUS_JWT_JTI_BYTES];
    u_char                       jti[ngx_base64_encoded_length(
                                         NGX_HTTP_NEXUS_JWT_JTI_BYTES)];
    u_char                       sig[64];
    size_t                       len, siglen;
    ngx_str_t                    src, dst;
    ngx_http_nexus_jwt_conf_t   *jc;
    ngx_http_nexus_main_conf_t  *nmcf;

    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);
    jc = nmcf->jwt;

    if (jc == NULL || jc->signer == NULL) {
        return NGX_DECLINED;
    }

    if (claims->user_id <= 0 || claims->session_id <= 0) {
        /* such a token would never verify */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "nexus: no JWT for user %L, session %L",
                      claims->user_id, claims->session_id);
        return NGX_ERROR;
    }

    if (RAND_bytes(jti_raw, sizeof(jti_raw)) != 1) {
        return NGX_ERROR;
    }

    src.data = jti_raw;
    src.len = sizeof(jti_raw);
    dst.data = jti;
    ngx_encode_base64url(&dst, &src);

    claims->iat = ngx_time();
    claims->exp = claims->iat + nmcf->access_ttl;

    /* the claims; sub is a string, as RFC 7519 wants of a StringOrURI */
    len = sizeof("{\"iss\":,\"aud\":,\"sub\":\"\",\"sid\":,\"iat\":,"
                 "\"exp\":,\"jti\":\"\"}") - 1
          + jc->iss_json.len + jc->aud_json.len + 4 * NGX_INT64_LEN + dst.len;

    payload = ngx_pnalloc(r->pool, len);
    if (payload == NULL) {
        return NGX_ERROR;
    }

    last = ngx_sprintf(payload,
                       "{\"iss\":%V,\"aud\":%V,\"sub\":\"%L\",\"sid\":%L,"
                       "\"iat\":%T,\"exp\":%T,\"jti\":\"%V\"}",
                       &jc->iss_json, &jc->aud_json,
                       claims->user_id, claims->session_id,
                       claims->iat, claims->exp, &dst);

    src.data = payload;
    src.len = last - payload;

    len = jc->header.len + 1 + ngx_base64_encoded_length(src.len) + 1
          + ngx_base64_encoded_length(sizeof(sig));

    token->data = ngx_pnalloc(r->pool, len);
    if (token->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(token->data, jc->header.data, jc->header.len);
    *p++ = '.';

    dst.data = p;
    ngx_encode_base64url(&dst, &src);
    p += dst.len;

    siglen = sizeof(sig);

    if (ngx_http_nexus_jwt_sign(jc->signer, token->data, p - token->data,
                                sig, &siglen)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "nexus: signing a JWT with key \"%V\" failed",
                      &jc->signer->kid);
        return NGX_ERROR;
    }

    *p++ = '.';

    src.data = sig;
    src.len = siglen;
    dst.data = p;
    ngx_encode_base64url(&dst, &src);
    p += dst.len;

    token->len = p - token->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_nexus_jwt_sign(ngx_http_nexus_jwt_key_t *key, u_char *data,
    size_t len, u_char *sig, size_t *siglen)
{
    int           ok;
    EVP_MD_CTX   *md;

    if (key->alg == NGX_HTTP_NEXUS_JWT_HS256) {
        if (ngx_http_nexus_hmac_sha256(key->secret.data, key->secret.len,
                                       data, len, sig)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        *siglen = 32;
        return NGX_OK;
    }

    md = ngx_http_nexus_jwt_md_ctx();
    if (md == NULL) {
        return NGX_ERROR;
    }

    /* Ed25519 hashes internally: no digest, one-shot only */
    ok = EVP_DigestSignInit(md, NULL, NULL, NULL, key->pkey) == 1
         && EVP_DigestSign(md, sig, siglen, data, len) == 1;

    EVP_MD_CTX_reset(md);

    if (!ok) {
        ERR_clear_error();
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* NGX_OK: the signature is good; NGX_DECLINED: it is not */

static ngx_int_t
ngx_http_nexus_jwt_check(ngx_http_nexus_jwt_key_t *key, u_char *data,
    size_t len, ngx_str_t *sig)
{
    int           rc;
    u_char        mac[EVP_MAX_MD_SIZE];
    EVP_MD_CTX   *md;

    if (key->alg == NGX_HTTP_NEXUS_JWT_HS256) {
        if (ngx_http_nexus_hmac_sha256(key->secret.data, key->secret.len,
                                       data, len, mac)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (sig->len != 32 || CRYPTO_memcmp(mac, sig->data, 32) != 0) {
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    if (sig->len != 64) {
        return NGX_DECLINED;
    }

    md = ngx_http_nexus_jwt_md_ctx();
    if (md == NULL) {
        return NGX_ERROR;
    }

    if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, key->pkey) != 1) {
        EVP_MD_CTX_reset(md);
        ERR_clear_error();
        return NGX_ERROR;
    }

    rc = EVP_DigestVerify(md, sig->data, sig->len, data, len);

    EVP_MD_CTX_reset(md);
    ERR_clear_error();

    return (rc == 1) ? NGX_OK : NGX_DECLINED;
}


static EVP_MD_CTX *
ngx_http_nexus_jwt_md_ctx(void)
{
    if (ngx_http_nexus_jwt_md == NULL) {
        ngx_http_nexus_jwt_md = EVP_MD_CTX_new();
    }

    return ngx_http_nexus_jwt_md;
}


/*
 * Verified tokens, per worker: a client sends the same access token with
 * every request for its whole life, and an Ed25519 verification costs
 * about 180 us here, as much as the rest of a request. An entry is the
 * SHA-256 of the whole token, so only that exact token hits; it expires
 * with the token. A reload (new keys) starts workers with an empty cache.
 */

#define NGX_HTTP_NEXUS_JWT_CACHE  1024     /* entries, a power of two */

typedef struct {
    u_char                       digest[32];
    ngx_http_nexus_jwt_claims_t  claims;
} ngx_http_nexus_jwt_cached_t;

static ngx_http_nexus_jwt_cached_t
    ngx_http_nexus_jwt_cache[NGX_HTTP_NEXUS_JWT_CACHE];


ngx_int_t
ngx_http_nexus_jwt_verify(ngx_http_request_t *r, ngx_str_t *token,
    ngx_http_nexus_jwt_claims_t *claims, const char **reason)
{
    u_char                        digest[32];
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    ngx_http_nexus_jwt_cached_t  *e;

    if (token->len == 0 || token->len > NGX_HTTP_NEXUS_JWT_MAX_LEN) {
        *reason = "malformed";
        return NGX_DECLINED;
    }

    ngx_http_nexus_sha256(token->data, token->len, digest);

    i = ((ngx_uint_t) digest[0] | (ngx_uint_t) digest[1] << 8)
        & (NGX_HTTP_NEXUS_JWT_CACHE - 1);
    e = &ngx_http_nexus_jwt_cache[i];

    if (e->claims.exp > ngx_time()
        && CRYPTO_memcmp(e->digest, digest, sizeof(digest)) == 0)
    {
        *claims = e->claims;
        return NGX_OK;
    }

    rc = ngx_http_nexus_jwt_verify_token(r, token, claims, reason);

    if (rc == NGX_OK) {
        ngx_memcpy(e->digest, digest, sizeof(digest));
        e->claims = *claims;
    }

    return rc;
}


static ngx_int_t
ngx_http_nexus_jwt_verify_token(ngx_http_request_t *r, ngx_str_t *token,
    ngx_http_nexus_jwt_claims_t *claims, const char **reason)
{
    u_char                      *p, *dot1, *dot2, *last;
    json_t                      *header, *payload, *v;
    ngx_int_t                    rc;
    ngx_str_t                    sig, alg;
    ngx_uint_t                   i;
    ngx_http_nexus_jwt_key_t    *key, *k;
    ngx_http_nexus_jwt_conf_t   *jc;
    ngx_http_nexus_main_conf_t  *nmcf;

    *reason = "malformed";

    if (token->len == 0 || token->len > NGX_HTTP_NEXUS_JWT_MAX_LEN) {
        return NGX_DECLINED;
    }

    p = token->data;
    last = p + token->len;

    dot1 = ngx_strlchr(p, last, '.');
    dot2 = dot1 ? ngx_strlchr(dot1 + 1, last, '.') : NULL;

    /* an empty signature ("alg":"none") is refused by the key's check */
    if (dot2 == NULL || dot1 == p || dot2 == dot1 + 1
        || ngx_strlchr(dot2 + 1, last, '.') != NULL)
    {
        return NGX_DECLINED;
    }

    /* the header names the key */

    header = ngx_http_nexus_jwt_parse(r->pool, p, dot1 - p, &rc);
    if (header == NULL) {
        return rc;
    }

    if (json_object_get(header, "crit") != NULL) {
        /* no extension is understood, so none can be critical */
        json_decref(header);
        return NGX_DECLINED;
    }

    v = json_object_get(header, "alg");
    alg.data = (u_char *) json_string_value(v);
    alg.len = alg.data ? json_string_length(v) : 0;

    v = json_object_get(header, "kid");

    if (alg.data == NULL || !json_is_string(v)) {
        json_decref(header);
        return NGX_DECLINED;
    }

    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);
    jc = nmcf->jwt;

    key = NULL;
    k = jc ? jc->keys.elts : NULL;

    for (i = 0; jc && i < jc->keys.nelts; i++) {
        if (ngx_http_nexus_jwt_equal(v, &k[i].kid)) {
            key = &k[i];
            break;
        }
    }

    /* the key decides the algorithm; the token's "alg" must agree */
    if (key && !(alg.len == 5
                 && ngx_strncmp(alg.data,
                                (key->alg == NGX_HTTP_NEXUS_JWT_HS256
                                 ? "HS256" : "EdDSA"), 5) == 0))
    {
        *reason = "algorithm mismatch";
        key = NULL;

    } else if (key == NULL) {
        *reason = "unknown key";
    }

    json_decref(header);

    if (key == NULL) {
        return NGX_DECLINED;
    }

    rc = ngx_http_nexus_jwt_decode(r->pool, dot2 + 1, last - dot2 - 1, &sig);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_nexus_jwt_check(key, p, dot2 - p, &sig);

    if (rc == NGX_DECLINED) {
        *reason = "bad signature";
    }

    if (rc != NGX_OK) {
        return rc;
    }

    /* only a signed payload is parsed */

    payload = ngx_http_nexus_jwt_parse(r->pool, dot1 + 1, dot2 - dot1 - 1,
                                       &rc);
    if (payload == NULL) {
        return rc;
    }

    *reason = ngx_http_nexus_jwt_claims(r, payload, claims);

    json_decref(payload);

    return (*reason == NULL) ? NGX_OK : NGX_DECLINED;
}


/* NULL when the claims are good, else why not */

static const char *
ngx_http_nexus_jwt_claims(ngx_http_request_t *r, json_t *payload,
    ngx_http_nexus_jwt_claims_t *claims)
{
    u_char                      *p, *last;
    json_t                      *v, *a;
    size_t                       i;
    time_t                       now, exp, iat, nbf;
    int64_t                      id;
    ngx_int_t                    rc;
    ngx_http_nexus_main_conf_t  *nmcf;

    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);

    if (!ngx_http_nexus_jwt_equal(json_object_get(payload, "iss"),
                                  &nmcf->jwt_issuer))
    {
        return "wrong issuer";
    }

    v = json_object_get(payload, "aud");

    if (json_is_array(v)) {
        json_array_foreach(v, i, a) {
            if (ngx_http_nexus_jwt_equal(a, &nmcf->jwt_audience)) {
                break;
            }
        }

        if (i == json_array_size(v)) {
            return "wrong audience";
        }

    } else if (!ngx_http_nexus_jwt_equal(v, &nmcf->jwt_audience)) {
        return "wrong audience";
    }

    if (ngx_http_nexus_jwt_time(payload, "exp", &exp) != NGX_OK
        || ngx_http_nexus_jwt_time(payload, "iat", &iat) != NGX_OK)
    {
        return "bad claims";
    }

    rc = ngx_http_nexus_jwt_time(payload, "nbf", &nbf);
    if (rc == NGX_ERROR) {
        return "bad claims";
    }

    /* sub: the decimal text of a positive int64, no sign, no leading 0 */

    v = json_object_get(payload, "sub");
    p = (u_char *) json_string_value(v);

    if (p == NULL || json_string_length(v) == 0
        || json_string_length(v) > NGX_INT64_LEN || *p == '0')
    {
        return "bad claims";
    }

    last = p + json_string_length(v);

    for (id = 0; p < last; p++) {
        if (*p < '0' || *p > '9'
            || id > (INT64_MAX - (*p - '0')) / 10)
        {
            return "bad claims";
        }

        id = id * 10 + (*p - '0');
    }

    claims->user_id = id;

    v = json_object_get(payload, "sid");

    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        return "bad claims";
    }

    claims->session_id = json_integer_value(v);

    now = ngx_time();

    if (exp <= now) {
        return "expired";
    }

    if (iat > now + NGX_HTTP_NEXUS_JWT_IAT_SKEW
        || (rc == NGX_OK && nbf > now))
    {
        return "not yet valid";
    }

    claims->iat = iat;
    claims->exp = exp;

    return NULL;
}


/* NGX_OK, NGX_DECLINED (absent) or NGX_ERROR (not a NumericDate) */

static ngx_int_t
ngx_http_nexus_jwt_time(json_t *payload, const char *name, time_t *t)
{
    double   d;
    json_t  *v;

    v = json_object_get(payload, name);

    if (v == NULL) {
        return NGX_DECLINED;
    }

    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0
            || json_integer_value(v) > NGX_HTTP_NEXUS_JWT_TIME_MAX)
        {
            return NGX_ERROR;
        }

        *t = (time_t) json_integer_value(v);
        return NGX_OK;
    }

    /* RFC 7519 allows fractions of a second */
    if (json_is_real(v)) {
        d = json_real_value(v);

        if (!(d >= 0 && d <= (double) NGX_HTTP_NEXUS_JWT_TIME_MAX)) {
            return NGX_ERROR;
        }

        *t = (time_t) d;
        return NGX_OK;
    }

    return NGX_ERROR;
}


static ngx_uint_t
ngx_http_nexus_jwt_equal(json_t *s, ngx_str_t *value)
{
    return json_is_string(s)
           && json_string_length(s) == value->len
           && ngx_memcmp(json_string_value(s), value->data, value->len) == 0;
}


/*
 * Strict base64url: only the 64 characters of the alphabet, no padding, and
 * the unused bits of the last character zero, so a token has one spelling.
 * NGX_DECLINED when the text is not that.
 */

static ngx_int_t
ngx_http_nexus_jwt_decode(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    size_t     i;
    ngx_str_t  src;

    if (len % 4 == 1) {
        return NGX_DECLINED;
    }

    for (i = 0; i < len; i++) {
        if (ngx_http_nexus_jwt_b64url(p[i]) == NGX_ERROR) {
            return NGX_DECLINED;
        }
    }

    if ((len % 4 == 2 && (ngx_http_nexus_jwt_b64url(p[len - 1]) & 0x0f))
        || (len % 4 == 3 && (ngx_http_nexus_jwt_b64url(p[len - 1]) & 0x03)))
    {
        return NGX_DECLINED;
    }

    out->data = ngx_pnalloc(pool, ngx_base64_decoded_length(len) + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    src.data = p;
    src.len = len;

    if (ngx_decode_base64url(out, &src) != NGX_OK) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the value of a base64url character, or NGX_ERROR */

static ngx_int_t
ngx_http_nexus_jwt_b64url(u_char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '-') {
        return 62;
    }

    if (c == '_') {
        return 63;
    }

    return NGX_ERROR;
}


/* a base64url JSON object, or NULL with *rc NGX_DECLINED or NGX_ERROR */

static json_t *
ngx_http_nexus_jwt_parse(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_int_t *rc)
{
    json_t        *json;
    ngx_str_t      text;
    json_error_t   err;

    *rc = ngx_http_nexus_jwt_decode(pool, p, len, &text);
    if (*rc != NGX_OK) {
        return NULL;
    }

    /* a claim given twice could mean one thing here and another elsewhere */
    json = json_loadb((char *) text.data, text.len, JSON_REJECT_DUPLICATES,
                      &err);

    if (json == NULL || !json_is_object(json)) {
        json_decref(json);
        *rc = NGX_DECLINED;
        return NULL;
    }

    return json;
}
