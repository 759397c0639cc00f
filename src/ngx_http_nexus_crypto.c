/*
 * Small crypto helpers: random tokens, SHA-256 digests of tokens (the
 * database keeps only those), and constant-time comparison.
 */

#include "ngx_http_nexus_auth.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>


ngx_int_t
ngx_http_nexus_random_token(ngx_pool_t *pool, ngx_str_t *token)
{
    u_char     raw[32];
    ngx_str_t  src;

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        return NGX_ERROR;
    }

    token->data = ngx_pnalloc(pool, ngx_base64_encoded_length(sizeof(raw)));
    if (token->data == NULL) {
        return NGX_ERROR;
    }

    src.data = raw;
    src.len = sizeof(raw);
    ngx_encode_base64url(token, &src);

    OPENSSL_cleanse(raw, sizeof(raw));

    return NGX_OK;
}


void
ngx_http_nexus_sha256(const u_char *data, size_t len, u_char *out)
{
    unsigned int  n;

    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1) {
        /* cannot happen with the default provider; never match anything */
        (void) RAND_bytes(out, 32);
    }
}


/* HMAC-SHA-256 into out (32 bytes): JWT HS256 and S3 signatures */

ngx_int_t
ngx_http_nexus_hmac_sha256(const u_char *key, size_t key_len,
    const u_char *data, size_t len, u_char *out)
{
    unsigned int  n;

    n = 32;

    if (HMAC(EVP_sha256(), key, (int) key_len, data, len, out, &n) == NULL
        || n != 32)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_nexus_token_hash(ngx_pool_t *pool, ngx_str_t *token,
    ngx_str_t *param)
{
    u_char  digest[32], *p;

    ngx_http_nexus_sha256(token->data, token->len, digest);

    p = ngx_pnalloc(pool, 2 + 64 + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    param->data = p;
    *p++ = '\\';
    *p++ = 'x';
    p = ngx_hex_dump(p, digest, sizeof(digest));
    *p = '\0';
    param->len = p - param->data;

    return NGX_OK;
}


ngx_uint_t
ngx_http_nexus_equal_ct(const u_char *a, size_t alen, const u_char *b,
    size_t blen)
{
    u_char  da[32], db[32];

    /*
     * compare digests, so that neither the length nor the content of the
     * secret side leaks through timing
     */
    ngx_http_nexus_sha256(a, alen, da);
    ngx_http_nexus_sha256(b, blen, db);

    return CRYPTO_memcmp(da, db, sizeof(da)) == 0;
}
