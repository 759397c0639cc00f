/*
 * Object storage: AWS Signature Version 4 computed with OpenSSL, for
 * presigned S3 upload URLs (query-string authentication) and for the
 * requests the module sends itself (header authentication, see
 * ngx_http_nexus_s3_client.c), and the nexus_s3_* directives. A client PUTs
 * the image straight to the bucket through the URL, within
 * nexus_s3_upload_ttl; the module only asks S3 afterwards (HEAD) whether
 * the object is there and what it is.
 *
 * The URL is the one the AWS SDK for JavaScript v3 (getSignedUrl with a
 * PutObjectCommand) makes for the same inputs, byte for byte, including its
 * X-Amz-Content-Sha256=UNSIGNED-PAYLOAD and x-id=PutObject parameters
 * (t/062-media.t checks this): only the host header is signed, the payload
 * is not.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_auth.h"
#include "ngx_http_nexus_s3.h"

#include <openssl/evp.h>


static ngx_int_t ngx_http_nexus_s3_endpoint(ngx_conf_t *cf,
    ngx_http_nexus_s3_conf_t *s3);
static ngx_int_t ngx_http_nexus_s3_bucket_valid(ngx_str_t *bucket);
static ngx_int_t ngx_http_nexus_s3_resolve(ngx_conf_t *cf,
    ngx_http_nexus_s3_conf_t *s3, ngx_url_t *u);
static ngx_int_t ngx_http_nexus_s3_ssl(ngx_conf_t *cf,
    ngx_http_nexus_s3_conf_t *s3);
static u_char *ngx_http_nexus_s3_escape(u_char *dst, u_char *src,
    size_t len, ngx_uint_t keep_slash);
static ngx_int_t ngx_http_nexus_s3_scope(ngx_pool_t *pool,
    ngx_http_nexus_s3_conf_t *s3, time_t date, u_char *amz_date,
    ngx_str_t *scope);
static ngx_int_t ngx_http_nexus_s3_signature(ngx_pool_t *pool,
    ngx_http_nexus_s3_conf_t *s3, u_char *amz_date, ngx_str_t *scope,
    u_char *canonical, size_t len, u_char *sig_hex);
static u_char *ngx_http_nexus_s3_path(ngx_pool_t *pool,
    ngx_http_nexus_s3_conf_t *s3, ngx_str_t *key, size_t *len);


/* SHA-256 of an empty payload, as SigV4 writes it */
#define NGX_HTTP_NEXUS_S3_DATE_LEN  (sizeof("20260101T000000Z") - 1)

#define NGX_HTTP_NEXUS_S3_EMPTY_SHA256                                        \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


/* the nexus_s3_* directives, all in the http block */

char *
ngx_http_nexus_s3_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_nexus_main_conf_t *nmcf = conf;

    ngx_str_t                 *value, *field;
    ngx_http_nexus_s3_conf_t  *s3;

    s3 = nmcf->s3;

    if (s3 == NULL) {
        s3 = ngx_pcalloc(cf->pool, sizeof(ngx_http_nexus_s3_conf_t));
        if (s3 == NULL) {
            return NGX_CONF_ERROR;
        }

        s3->upload_ttl = NGX_CONF_UNSET;
        s3->max_upload_size = NGX_CONF_UNSET;
        s3->timeout = NGX_CONF_UNSET_MSEC;
        nmcf->s3 = s3;
    }

    value = cf->args->elts;

    switch (cmd->offset) {

    case NGX_HTTP_NEXUS_S3_UPLOAD_TTL:
        if (s3->upload_ttl != NGX_CONF_UNSET) {
            return "is duplicate";
        }

        s3->upload_ttl = ngx_parse_time(&value[1], 1);
        if (s3->upload_ttl == (time_t) NGX_ERROR
            || s3->upload_ttl < 60 || s3->upload_ttl > 7 * 86400)
        {
            return "must be a time between 1m and 7d (the longest S3 takes)";
        }

        return NGX_CONF_OK;

    case NGX_HTTP_NEXUS_S3_MAX_SIZE:
        if (s3->max_upload_size != NGX_CONF_UNSET) {
            return "is duplicate";
        }

        s3->max_upload_size = ngx_parse_offset(&value[1]);
        if (s3->max_upload_size <= 0
            || s3->max_upload_size > (off_t) 5 * 1024 * 1024 * 1024)
        {
            return "must be a size between 1 and 5g (a single PUT to S3)";
        }

        return NGX_CONF_OK;

    case NGX_HTTP_NEXUS_S3_TIMEOUT:
        if (s3->timeout != NGX_CONF_UNSET_MSEC) {
            return "is duplicate";
        }

        s3->timeout = ngx_parse_time(&value[1], 0);
        if (s3->timeout == (ngx_msec_t) NGX_ERROR
            || s3->timeout < 1 || s3->timeout > 300000)
        {
            return "must be a time between 1ms and 5m";
        }

        return NGX_CONF_OK;

    case NGX_HTTP_NEXUS_S3_ACCESS_KEY:
    case NGX_HTTP_NEXUS_S3_SECRET_KEY:
        field = (cmd->offset == NGX_HTTP_NEXUS_S3_ACCESS_KEY)
                ? &s3->access_key : &s3->secret_key;

        if (field->data) {
            return "is duplicate";
        }

        /* "file:PATH" or "env:NAME" only: keys never sit in nginx.conf */
        if (ngx_http_nexus_conf_secret(cf, &cmd->name, &value[1], field)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;

    default:
        break;
    }

    switch (cmd->offset) {
    case NGX_HTTP_NEXUS_S3_BUCKET:
        field = &s3->bucket;
        break;
    case NGX_HTTP_NEXUS_S3_REGION:
        field = &s3->region;
        break;
    case NGX_HTTP_NEXUS_S3_ENDPOINT:
        field = &s3->endpoint;
        break;
    case NGX_HTTP_NEXUS_S3_TRUSTED:
        field = &s3->trusted_certificate;
        break;
    default: /* NGX_HTTP_NEXUS_S3_PUBLIC_URL */
        field = &s3->public_url;
        break;
    }

    if (field->data) {
        return "is duplicate";
    }

    if (value[1].len == 0) {
        return "must not be empty";
    }

    *field = value[1];

    return NGX_CONF_OK;
}


/* checks the directives together once the http block is read */

char *
ngx_http_nexus_s3_init_conf(ngx_conf_t *cf, ngx_http_nexus_main_conf_t *nmcf)
{
    u_char                    *p;
    ngx_uint_t                 i;
    ngx_http_nexus_s3_conf_t  *s3;

    s3 = nmcf->s3;

    if (s3 == NULL) {
        return NGX_CONF_OK;             /* no media storage: 503 on use */
    }

    if (s3->bucket.len == 0 || s3->region.len == 0
        || s3->access_key.len == 0 || s3->secret_key.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: media storage needs \"nexus_s3_bucket\", "
                           "\"nexus_s3_region\", \"nexus_s3_access_key\" and "
                           "\"nexus_s3_secret_key\"");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_nexus_s3_bucket_valid(&s3->bucket) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: invalid S3 bucket name \"%V\"",
                           &s3->bucket);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < s3->region.len; i++) {
        if (!((s3->region.data[i] >= 'a' && s3->region.data[i] <= 'z')
              || (s3->region.data[i] >= '0' && s3->region.data[i] <= '9')
              || s3->region.data[i] == '-'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: invalid S3 region \"%V\"",
                               &s3->region);
            return NGX_CONF_ERROR;
        }
    }

    /* access key ids are printable ASCII without "/" (it ends the scope) */
    for (i = 0; i < s3->access_key.len; i++) {
        if (s3->access_key.data[i] <= ' ' || s3->access_key.data[i] >= 0x7f
            || s3->access_key.data[i] == '/')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: the S3 access key holds a character "
                               "an access key id cannot have");
            return NGX_CONF_ERROR;
        }
    }

    ngx_conf_init_value(s3->upload_ttl, 900);
    ngx_conf_init_value(s3->max_upload_size, 10 * 1024 * 1024);
    ngx_conf_init_msec_value(s3->timeout, 5000);

    if (ngx_http_nexus_s3_endpoint(cf, s3) != NGX_OK
        || ngx_http_nexus_s3_ssl(cf, s3) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (s3->public_url.len == 0) {
        /* where the objects are read from: the bucket's own URL */
        s3->public_url.len = s3->scheme.len + 3 + s3->host.len
                             + s3->prefix.len;
        s3->public_url.data = ngx_pnalloc(cf->pool, s3->public_url.len);
        if (s3->public_url.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_cpymem(s3->public_url.data, s3->scheme.data, s3->scheme.len);
        p = ngx_cpymem(p, "://", 3);
        p = ngx_cpymem(p, s3->host.data, s3->host.len);
        ngx_memcpy(p, s3->prefix.data, s3->prefix.len);

    } else {
        if (!((s3->public_url.len > 8
               && ngx_strncmp(s3->public_url.data, "https://", 8) == 0)
              || (s3->public_url.len > 7
                  && ngx_strncmp(s3->public_url.data, "http://", 7) == 0)))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: \"nexus_s3_public_url\" must be an "
                               "http:// or https:// URL");
            return NGX_CONF_ERROR;
        }

        while (s3->public_url.data[s3->public_url.len - 1] == '/') {
            s3->public_url.len--;
        }
    }

    return NGX_CONF_OK;
}


/*
 * Where the bucket is: a custom endpoint (MinIO, s3rver, ...) is addressed
 * path-style, http(s)://host[:port]/bucket/key; AWS itself virtual-host
 * style, https://bucket.s3.region.amazonaws.com/key.
 */

static ngx_int_t
ngx_http_nexus_s3_endpoint(ngx_conf_t *cf, ngx_http_nexus_s3_conf_t *s3)
{
    u_char     *p, *last, *host;
    size_t      len;
    ngx_url_t   u;

    if (s3->endpoint.len == 0) {
        ngx_str_set(&s3->scheme, "https");

        len = s3->bucket.len + sizeof(".s3.") - 1 + s3->region.len
              + sizeof(".amazonaws.com") - 1;
        s3->host.data = ngx_pnalloc(cf->pool, len);
        if (s3->host.data == NULL) {
            return NGX_ERROR;
        }

        s3->host.len = ngx_sprintf(s3->host.data, "%V.s3.%V.amazonaws.com",
                                   &s3->bucket, &s3->region)
                       - s3->host.data;
        ngx_str_set(&s3->prefix, "");

        ngx_memzero(&u, sizeof(ngx_url_t));
        u.url = s3->host;
        u.default_port = 443;
        u.no_resolve = 1;

        if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_http_nexus_s3_resolve(cf, s3, &u);
    }

    p = s3->endpoint.data;
    last = p + s3->endpoint.len;

    if (s3->endpoint.len > 8 && ngx_strncmp(p, "https://", 8) == 0) {
        ngx_str_set(&s3->scheme, "https");
        p += 8;

    } else if (s3->endpoint.len > 7 && ngx_strncmp(p, "http://", 7) == 0) {
        ngx_str_set(&s3->scheme, "http");
        p += 7;

    } else {
        goto invalid;
    }

    if (last[-1] == '/') {
        last--;
    }

    host = p;

    for ( /* void */ ; p < last; p++) {
        if (*p == '/' || *p == '?' || *p == '#' || *p == '@') {
            goto invalid;       /* no path, query or user part */
        }
    }

    if (host == last) {
        goto invalid;
    }

    /* checks the host and port; resolved below */
    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url.data = host;
    u.url.len = last - host;
    u.default_port = (s3->scheme.len == 5) ? 443 : 80;
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.uri.len) {
        goto invalid;
    }

    /* the Host header a client sends: without a default port */
    if (u.port == u.default_port || u.no_port) {
        s3->host = u.host;

    } else {
        s3->host.data = ngx_pnalloc(cf->pool, u.host.len + 1 + NGX_INT_T_LEN);
        if (s3->host.data == NULL) {
            return NGX_ERROR;
        }

        s3->host.len = ngx_sprintf(s3->host.data, "%V:%d", &u.host,
                                   (int) u.port)
                       - s3->host.data;
    }

    s3->prefix.len = 1 + s3->bucket.len;
    s3->prefix.data = ngx_pnalloc(cf->pool, s3->prefix.len);
    if (s3->prefix.data == NULL) {
        return NGX_ERROR;
    }

    s3->prefix.data[0] = '/';
    ngx_memcpy(s3->prefix.data + 1, s3->bucket.data, s3->bucket.len);

    return ngx_http_nexus_s3_resolve(cf, s3, &u);

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "nexus: \"nexus_s3_endpoint\" must be "
                       "http(s)://host[:port] without a path, not \"%V\"",
                       &s3->endpoint);
    return NGX_ERROR;
}


/*
 * The address the module connects to, resolved now: nothing resolves
 * names while requests run. A name that does not resolve (DNS down at
 * boot, an offline build machine) is only a warning, as presigned URLs do
 * not need it: completing an upload then answers 502 until a reload.
 */

static ngx_int_t
ngx_http_nexus_s3_resolve(ngx_conf_t *cf, ngx_http_nexus_s3_conf_t *s3,
    ngx_url_t *u)
{
    s3->server_name = u->host;

    if (u->naddrs == 0 && ngx_inet_resolve_host(cf->pool, u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "nexus: the S3 host \"%V\" did not resolve (%s); "
                           "completing uploads fails until a reload",
                           &u->host, u->err ? u->err : "no address");
        s3->naddrs = 0;
        return NGX_OK;
    }

    s3->addrs = u->addrs;
    s3->naddrs = u->naddrs;

    return NGX_OK;
}


/*
 * TLS to an https endpoint: peer verification always on, against
 * nexus_s3_trusted_certificate or the system's CA store.
 */

static ngx_int_t
ngx_http_nexus_s3_ssl(ngx_conf_t *cf, ngx_http_nexus_s3_conf_t *s3)
{
#if (NGX_HTTP_SSL)
    ngx_pool_cleanup_t  *cln;

    if (s3->scheme.len != 5) {
        if (s3->trusted_certificate.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: \"nexus_s3_trusted_certificate\" "
                               "needs an https:// S3 endpoint");
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    s3->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (s3->ssl == NULL) {
        return NGX_ERROR;
    }

    s3->ssl->log = cf->log;

    if (ngx_ssl_create(s3->ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(s3->ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = s3->ssl;

    if (ngx_ssl_trusted_certificate(cf, s3->ssl, &s3->trusted_certificate,
                                    9)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (s3->trusted_certificate.len == 0
        && SSL_CTX_set_default_verify_paths(s3->ssl->ctx) != 1)
    {
        ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                      "nexus: cannot load the system's CA certificates "
                      "for S3; set \"nexus_s3_trusted_certificate\"");
        return NGX_ERROR;
    }

    return NGX_OK;

#else

    if (s3->scheme.len == 5 || s3->trusted_certificate.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: an https S3 endpoint (AWS itself too) "
                           "needs nginx built with SSL");
        return NGX_ERROR;
    }

    return NGX_OK;

#endif
}


/* S3 bucket naming rules; a name with dots would break the TLS wildcard */

static ngx_int_t
ngx_http_nexus_s3_bucket_valid(ngx_str_t *bucket)
{
    u_char      c;
    ngx_uint_t  i;

    if (bucket->len < 3 || bucket->len > 63) {
        return NGX_ERROR;
    }

    for (i = 0; i < bucket->len; i++) {
        c = bucket->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            continue;
        }

        if (c == '-' && i != 0 && i != bucket->len - 1) {
            continue;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * URI-encodes as SigV4 specifies: every byte but A-Z a-z 0-9 - . _ ~ as
 * %XY with upper-case hex; "/" kept in an S3 object key's path. S3 paths
 * are encoded once (not twice as for other AWS services).
 */

static u_char *
ngx_http_nexus_s3_escape(u_char *dst, u_char *src, size_t len,
    ngx_uint_t keep_slash)
{
    u_char  c;

    static u_char  hex[] = "0123456789ABCDEF";

    while (len--) {
        c = *src++;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~' || (c == '/' && keep_slash))
        {
            *dst++ = c;
            continue;
        }

        *dst++ = '%';
        *dst++ = hex[c >> 4];
        *dst++ = hex[c & 0xf];
    }

    return dst;
}


/* the time of a signature as SigV4 writes it, and its credential scope */

static ngx_int_t
ngx_http_nexus_s3_scope(ngx_pool_t *pool, ngx_http_nexus_s3_conf_t *s3,
    time_t date, u_char *amz_date, ngx_str_t *scope)
{
    ngx_tm_t  tm;

    ngx_gmtime(date, &tm);
    ngx_sprintf(amz_date, "%4d%02d%02dT%02d%02d%02dZ",
                tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
    amz_date[NGX_HTTP_NEXUS_S3_DATE_LEN] = '\0';

    /* 20261126/region/s3/aws4_request */
    scope->len = 8 + 1 + s3->region.len + sizeof("/s3/aws4_request") - 1;
    scope->data = ngx_pnalloc(pool, scope->len);
    if (scope->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(scope->data, "%*s/%V/s3/aws4_request", (size_t) 8, amz_date,
                &s3->region);

    return NGX_OK;
}


/*
 * The signature of a canonical request, in hex (64 characters): the string
 * to sign holds its hash; the key is the HMAC chain over date, region,
 * service and "aws4_request".
 */

static ngx_int_t
ngx_http_nexus_s3_signature(ngx_pool_t *pool, ngx_http_nexus_s3_conf_t *s3,
    u_char *amz_date, ngx_str_t *scope, u_char *canonical, size_t len,
    u_char *sig_hex)
{
    u_char     *p, *sts, *kdate;
    u_char      hash[32], sig_key[32], signature[32];
    ngx_int_t   rc;

    ngx_http_nexus_sha256(canonical, len, hash);

    len = sizeof("AWS4-HMAC-SHA256\n\n\n") + NGX_HTTP_NEXUS_S3_DATE_LEN
          + scope->len + 64;

    sts = ngx_pnalloc(pool, len);
    if (sts == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(sts, "AWS4-HMAC-SHA256\n%s\n%V\n", amz_date, scope);
    p = ngx_hex_dump(p, hash, 32);
    len = p - sts;

    kdate = ngx_pnalloc(pool, 4 + s3->secret_key.len);
    if (kdate == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(kdate, "AWS4", 4);
    ngx_memcpy(kdate + 4, s3->secret_key.data, s3->secret_key.len);

    rc = NGX_OK;

    if (ngx_http_nexus_hmac_sha256(kdate, 4 + s3->secret_key.len, amz_date, 8,
                                   sig_key) != NGX_OK
        || ngx_http_nexus_hmac_sha256(sig_key, 32, s3->region.data,
                                      s3->region.len, sig_key) != NGX_OK
        || ngx_http_nexus_hmac_sha256(sig_key, 32, (u_char *) "s3", 2,
                                      sig_key) != NGX_OK
        || ngx_http_nexus_hmac_sha256(sig_key, 32, (u_char *) "aws4_request",
                                      sizeof("aws4_request") - 1, sig_key)
           != NGX_OK
        || ngx_http_nexus_hmac_sha256(sig_key, 32, sts, len, signature)
           != NGX_OK)
    {
        rc = NGX_ERROR;
    }

    OPENSSL_cleanse(kdate, 4 + s3->secret_key.len);
    OPENSSL_cleanse(sig_key, sizeof(sig_key));

    if (rc == NGX_OK) {
        ngx_hex_dump(sig_hex, signature, 32);
    }

    return rc;
}


/* the canonical URI of an object: /bucket/key (path style) or /key */

static u_char *
ngx_http_nexus_s3_path(ngx_pool_t *pool, ngx_http_nexus_s3_conf_t *s3,
    ngx_str_t *key, size_t *len)
{
    u_char  *path, *p;

    path = ngx_pnalloc(pool, s3->prefix.len + 1 + 3 * key->len);
    if (path == NULL) {
        return NULL;
    }

    p = ngx_cpymem(path, s3->prefix.data, s3->prefix.len);
    *p++ = '/';
    p = ngx_http_nexus_s3_escape(p, key->data, key->len, 1);
    *len = p - path;

    return path;
}


/*
 * A presigned PUT URL for key, valid for expires seconds from date (the
 * time the signature is made; the debug endpoint passes a fixed one).
 */

ngx_int_t
ngx_http_nexus_s3_presign(ngx_pool_t *pool, ngx_http_nexus_s3_conf_t *s3,
    ngx_str_t *key, time_t date, time_t expires, ngx_str_t *url)
{
    u_char     *p, *path, *query, *canonical;
    u_char      amz_date[NGX_HTTP_NEXUS_S3_DATE_LEN + 1], sig_hex[64];
    size_t      path_len, query_len, len;
    ngx_str_t   scope;

    if (ngx_http_nexus_s3_scope(pool, s3, date, amz_date, &scope) != NGX_OK)
    {
        return NGX_ERROR;
    }

    path = ngx_http_nexus_s3_path(pool, s3, key, &path_len);
    if (path == NULL) {
        return NGX_ERROR;
    }

    /* the canonical query string: parameters sorted by name, byte order */
    len = sizeof("X-Amz-Algorithm=AWS4-HMAC-SHA256"
                 "&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD"
                 "&X-Amz-Credential=" "&X-Amz-Date="
                 "&X-Amz-Expires=" "&X-Amz-SignedHeaders=host"
                 "&x-id=PutObject")
          + 3 * (s3->access_key.len + 1 + scope.len)
          + sizeof(amz_date) + NGX_TIME_T_LEN;

    query = ngx_pnalloc(pool, len);
    if (query == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(query, "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                   "&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD"
                   "&X-Amz-Credential=",
                   sizeof("X-Amz-Algorithm=AWS4-HMAC-SHA256"
                          "&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD"
                          "&X-Amz-Credential=") - 1);
    p = ngx_http_nexus_s3_escape(p, s3->access_key.data, s3->access_key.len,
                                 0);
    p = ngx_cpymem(p, "%2F", 3);
    p = ngx_http_nexus_s3_escape(p, scope.data, scope.len, 0);
    p = ngx_sprintf(p, "&X-Amz-Date=%s&X-Amz-Expires=%T", amz_date, expires);

    /* the signature goes here in the URL, in the same (sorted) order */
    query_len = p - query;

    /* the canonical request */
    len = sizeof("PUT\n\n\nhost:\n\nhost\nUNSIGNED-PAYLOAD") + path_len
          + query_len + sizeof("&X-Amz-SignedHeaders=host&x-id=PutObject")
          + s3->host.len;

    canonical = ngx_pnalloc(pool, len);
    if (canonical == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(canonical, "PUT\n%*s\n%*s"
                    "&X-Amz-SignedHeaders=host&x-id=PutObject\n"
                    "host:%V\n\nhost\nUNSIGNED-PAYLOAD",
                    path_len, path, query_len, query, &s3->host);

    if (ngx_http_nexus_s3_signature(pool, s3, amz_date, &scope, canonical,
                                    p - canonical, sig_hex)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the URL */
    len = s3->scheme.len + 3 + s3->host.len + path_len + 1 + query_len
          + sizeof("&X-Amz-Signature=") - 1 + 64
          + sizeof("&X-Amz-SignedHeaders=host&x-id=PutObject") - 1;

    url->data = ngx_pnalloc(pool, len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(url->data, "%V://%V%*s?%*s&X-Amz-Signature=%*s"
                    "&X-Amz-SignedHeaders=host&x-id=PutObject",
                    &s3->scheme, &s3->host, path_len, path, query_len, query,
                    (size_t) 64, sig_hex);
    url->len = p - url->data;

    return NGX_OK;
}


/*
 * The whole HTTP/1.1 request "HEAD /bucket/key", signed in the
 * Authorization header (SigV4 header authentication) as the SDK signs a
 * HeadObjectCommand: host, x-amz-content-sha256 (of the empty payload) and
 * x-amz-date signed.
 */

ngx_int_t
ngx_http_nexus_s3_head_request(ngx_pool_t *pool, ngx_http_nexus_s3_conf_t *s3,
    ngx_str_t *key, time_t date, ngx_str_t *request)
{
    u_char     *p, *path, *canonical;
    u_char      amz_date[NGX_HTTP_NEXUS_S3_DATE_LEN + 1], sig_hex[64];
    size_t      path_len, len;
    ngx_str_t   scope;

    if (ngx_http_nexus_s3_scope(pool, s3, date, amz_date, &scope) != NGX_OK)
    {
        return NGX_ERROR;
    }

    path = ngx_http_nexus_s3_path(pool, s3, key, &path_len);
    if (path == NULL) {
        return NGX_ERROR;
    }

    len = sizeof("HEAD\n\n\nhost:\nx-amz-content-sha256:\nx-amz-date:\n\n"
                 "host;x-amz-content-sha256;x-amz-date\n")
          + path_len + s3->host.len + 2 * 64 + NGX_HTTP_NEXUS_S3_DATE_LEN;

    canonical = ngx_pnalloc(pool, len);
    if (canonical == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(canonical, "HEAD\n%*s\n\n"
                    "host:%V\n"
                    "x-amz-content-sha256:" NGX_HTTP_NEXUS_S3_EMPTY_SHA256 "\n"
                    "x-amz-date:%s\n\n"
                    "host;x-amz-content-sha256;x-amz-date\n"
                    NGX_HTTP_NEXUS_S3_EMPTY_SHA256,
                    path_len, path, &s3->host, amz_date);

    if (ngx_http_nexus_s3_signature(pool, s3, amz_date, &scope, canonical,
                                    p - canonical, sig_hex)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = sizeof("HEAD  HTTP/1.1\r\nHost: \r\n"
                 "x-amz-content-sha256: \r\nx-amz-date: \r\n"
                 "Authorization: AWS4-HMAC-SHA256 Credential=/, "
                 "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                 "Signature=\r\nConnection: close\r\n\r\n")
          + path_len + s3->host.len + 64 + NGX_HTTP_NEXUS_S3_DATE_LEN
          + s3->access_key.len + scope.len + 64;

    request->data = ngx_pnalloc(pool, len);
    if (request->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(request->data, "HEAD %*s HTTP/1.1\r\n"
                    "Host: %V\r\n"
                    "x-amz-content-sha256: " NGX_HTTP_NEXUS_S3_EMPTY_SHA256
                    "\r\n"
                    "x-amz-date: %s\r\n"
                    "Authorization: AWS4-HMAC-SHA256 Credential=%V/%V, "
                    "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                    "Signature=%*s\r\n"
                    "Connection: close\r\n\r\n",
                    path_len, path, &s3->host, amz_date, &s3->access_key,
                    &scope, (size_t) 64, sig_hex);
    request->len = p - request->data;

    return NGX_OK;
}
