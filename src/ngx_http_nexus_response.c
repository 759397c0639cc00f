/*
 * Answers: JSON bodies with ETag and 304, RFC 9457 problem documents, the
 * request id on every response, and jansson objects freed with the request.
 */

#include "ngx_http_nexus.h"
#include <openssl/evp.h>


static void ngx_http_nexus_json_decref(void *data);


static EVP_MD      *ngx_http_nexus_sha1;
static EVP_MD_CTX  *ngx_http_nexus_sha1_ctx;
static ngx_int_t ngx_http_nexus_not_modified(ngx_http_request_t *r,
    ngx_str_t *etag);


json_t *
ngx_http_nexus_json_track(ngx_http_request_t *r, json_t *json)
{
    ngx_pool_cleanup_t  *cln;

    if (json == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        json_decref(json);
        return NULL;
    }

    cln->handler = ngx_http_nexus_json_decref;
    cln->data = json;

    return json;
}


static void
ngx_http_nexus_json_decref(void *data)
{
    json_decref(data);
}


ngx_int_t
ngx_http_nexus_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


/*
 * A strong validator: the first 128 bits of the body's SHA-1, quoted. It is
 * computed by OpenSSL, which runs it on the CPU's SHA extensions; nginx's
 * own MD5 and SHA-1 are portable C and cost a quarter of a worker's time on
 * a 10 KB list page.
 */

void
ngx_http_nexus_response_exit(void)
{
    EVP_MD_CTX_free(ngx_http_nexus_sha1_ctx);
    EVP_MD_free(ngx_http_nexus_sha1);

    ngx_http_nexus_sha1_ctx = NULL;
    ngx_http_nexus_sha1 = NULL;
}


void
ngx_http_nexus_etag(ngx_str_t *body, u_char *out)
{
    u_char        digest[EVP_MAX_MD_SIZE];
    unsigned int  len;

    EVP_MD      *sha1;
    EVP_MD_CTX  *mdctx;

    sha1 = ngx_http_nexus_sha1;
    mdctx = ngx_http_nexus_sha1_ctx;

    if (sha1 == NULL) {
        /* fetched once per worker: an implicit fetch per call costs more */
        sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
        mdctx = EVP_MD_CTX_new();
        ngx_http_nexus_sha1 = sha1;
        ngx_http_nexus_sha1_ctx = mdctx;
    }

    if (sha1 == NULL || mdctx == NULL
        || EVP_DigestInit_ex2(mdctx, sha1, NULL) != 1
        || EVP_DigestUpdate(mdctx, body->data, body->len) != 1
        || EVP_DigestFinal_ex(mdctx, digest, &len) != 1)
    {
        /* cannot happen with the default provider; never an empty tag */
        ngx_memzero(digest, sizeof(digest));
    }

    out[0] = '"';
    ngx_hex_dump(out + 1, digest, 16);
    out[NGX_HTTP_NEXUS_ETAG_LEN - 1] = '"';
}


static ngx_int_t
ngx_http_nexus_common_headers(ngx_http_request_t *r)
{
    ngx_http_variable_value_t   *vv;
    ngx_http_nexus_main_conf_t  *nmcf;
    ngx_str_t                    v;

    ngx_http_nexus_ctx_t        *ctx;

    static ngx_str_t  nosniff = ngx_string("nosniff");
    static ngx_str_t  deny = ngx_string("DENY");
    static ngx_str_t  no_referrer = ngx_string("no-referrer");
    static ngx_str_t  csp = ngx_string("default-src 'none'; "
                                       "frame-ancestors 'none'");
    static ngx_str_t  no_store = ngx_string("no-store");
#if (NGX_HTTP_SSL)
    static ngx_str_t  hsts = ngx_string("max-age=31536000");
#endif

    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);

    vv = ngx_http_get_indexed_variable(r, nmcf->request_id_index);

    if (vv && !vv->not_found) {
        v.data = vv->data;
        v.len = vv->len;

        if (ngx_http_nexus_add_header(r, "X-Request-Id", &v) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_nexus_add_header(r, "X-Content-Type-Options", &nosniff)
        != NGX_OK
        || ngx_http_nexus_add_header(r, "X-Frame-Options", &deny) != NGX_OK
        || ngx_http_nexus_add_header(r, "Referrer-Policy", &no_referrer)
           != NGX_OK
        || ngx_http_nexus_add_header(r, "Content-Security-Policy", &csp)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* answers about an account are never kept by a shared or browser cache */
    ctx = ngx_http_get_module_ctx(r, ngx_http_nexus_module);

    if (ctx && (ctx->principal.via != NGX_HTTP_NEXUS_AUTH_NONE
                || ctx->no_store))
    {
        if (ngx_http_nexus_add_header(r, "Cache-Control", &no_store)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        if (ngx_http_nexus_add_header(r, "Strict-Transport-Security", &hsts)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }
#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_nexus_not_modified(ngx_http_request_t *r, ngx_str_t *etag)
{
    u_char           *p, *last;
    ngx_table_elt_t  *inm;

    inm = r->headers_in.if_none_match;

    if (inm == NULL || etag == NULL) {
        return 0;
    }

    if (inm->value.len == 1 && inm->value.data[0] == '*') {
        return 1;
    }

    /* a list of tags, possibly weak: W/ is ignored for GET (RFC 9110) */
    p = inm->value.data;
    last = p + inm->value.len;

    while (p < last) {
        while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
            p++;
        }

        if (last - p > 2 && p[0] == 'W' && p[1] == '/') {
            p += 2;
        }

        if ((size_t) (last - p) >= etag->len
            && ngx_strncmp(p, etag->data, etag->len) == 0)
        {
            return 1;
        }

        while (p < last && *p != ',') {
            p++;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_nexus_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body, ngx_str_t *etag)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    static ngx_str_t  json = ngx_string("application/json");

    if (ngx_http_nexus_common_headers(r) != NGX_OK) {
        return NGX_ERROR;
    }

    if (etag && etag->len) {
        r->headers_out.etag = ngx_list_push(&r->headers_out.headers);
        if (r->headers_out.etag == NULL) {
            return NGX_ERROR;
        }

        r->headers_out.etag->hash = 1;
#if (nginx_version >= 1023000)
        r->headers_out.etag->next = NULL;
#endif
        ngx_str_set(&r->headers_out.etag->key, "ETag");
        r->headers_out.etag->value = *etag;

        if (status == NGX_HTTP_OK && ngx_http_nexus_not_modified(r, etag)) {
            r->headers_out.status = NGX_HTTP_NOT_MODIFIED;
            r->headers_out.content_length_n = -1;
            r->header_only = 1;
            return ngx_http_send_header(r);
        }
    }

    if (r->headers_out.content_type.len == 0) {
        r->headers_out.content_type = json;
        r->headers_out.content_type_len = json.len;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = body->len;

    if (r->method == NGX_HTTP_HEAD || body->len == 0) {
        r->header_only = 1;
        return ngx_http_send_header(r);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_nexus_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    size_t     size;
    u_char     tag[NGX_HTTP_NEXUS_ETAG_LEN];
    ngx_str_t  body, etag;

    size = json_dumpb(json, NULL, 0, JSON_COMPACT);
    if (size == 0) {
        return NGX_ERROR;
    }

    body.data = ngx_pnalloc(r->pool, size);
    if (body.data == NULL) {
        return NGX_ERROR;
    }

    body.len = json_dumpb(json, (char *) body.data, size, JSON_COMPACT);

    if (status != NGX_HTTP_OK) {
        return ngx_http_nexus_send_body(r, status, &body, NULL);
    }

    ngx_http_nexus_etag(&body, tag);
    etag.data = ngx_pnalloc(r->pool, NGX_HTTP_NEXUS_ETAG_LEN);
    if (etag.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(etag.data, tag, NGX_HTTP_NEXUS_ETAG_LEN);
    etag.len = NGX_HTTP_NEXUS_ETAG_LEN;

    return ngx_http_nexus_send_body(r, status, &body, &etag);
}


/* RFC 9457: type, title, status, detail, plus a stable machine code */

ngx_int_t
ngx_http_nexus_send_problem(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *detail, json_t *extra)
{
    json_t     *p;
    ngx_str_t   title;
    u_char      type[128];

    static ngx_str_t  problem = ngx_string("application/problem+json");

    p = ngx_http_nexus_json_track(r, json_object());
    if (p == NULL) {
        return NGX_ERROR;
    }

    switch (status) {
    case NGX_HTTP_BAD_REQUEST:
        ngx_str_set(&title, "Bad Request");
        break;
    case NGX_HTTP_UNAUTHORIZED:
        ngx_str_set(&title, "Unauthorized");
        break;
    case NGX_HTTP_FORBIDDEN:
        ngx_str_set(&title, "Forbidden");
        break;
    case NGX_HTTP_NOT_FOUND:
        ngx_str_set(&title, "Not Found");
        break;
    case NGX_HTTP_CONFLICT:
        ngx_str_set(&title, "Conflict");
        break;
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        ngx_str_set(&title, "Content Too Large");
        break;
    case NGX_HTTP_UNSUPPORTED_MEDIA_TYPE:
        ngx_str_set(&title, "Unsupported Media Type");
        break;
    case 422:
        ngx_str_set(&title, "Unprocessable Content");
        break;
    case 429:
        ngx_str_set(&title, "Too Many Requests");
        break;
    case NGX_HTTP_NOT_ALLOWED:
        ngx_str_set(&title, "Method Not Allowed");
        break;
    case NGX_HTTP_SERVICE_UNAVAILABLE:
        ngx_str_set(&title, "Service Unavailable");
        break;
    default:
        ngx_str_set(&title, "Internal Server Error");
        break;
    }

    *ngx_snprintf(type, sizeof(type) - 1, "https://nexus.dev/problems/%s",
                  code) = '\0';

    if (json_object_set_new(p, "type", json_string((char *) type)) != 0
        || json_object_set_new(p, "title",
                               json_stringn((char *) title.data, title.len))
           != 0
        || json_object_set_new(p, "status", json_integer(status)) != 0
        || json_object_set_new(p, "code", json_string(code)) != 0
        || json_object_set_new(p, "detail", json_string(detail)) != 0)
    {
        return NGX_ERROR;
    }

    if (extra && json_object_update(p, extra) != 0) {
        return NGX_ERROR;
    }

    r->headers_out.content_type = problem;
    r->headers_out.content_type_len = problem.len;

    return ngx_http_nexus_send_json(r, status, p);
}


ngx_int_t
ngx_http_nexus_send_param_problem(ngx_http_request_t *r, const char *param,
    const char *reason)
{
    json_t  *extra, *errors, *e;
    u_char   detail[256];

    extra = ngx_http_nexus_json_track(r, json_object());
    errors = json_array();
    e = json_object();

    if (extra == NULL || errors == NULL || e == NULL) {
        json_decref(errors);
        json_decref(e);
        return NGX_ERROR;
    }

    json_object_set_new(e, "name", json_string(param));
    json_object_set_new(e, "reason", json_string(reason));
    json_array_append_new(errors, e);
    json_object_set_new(extra, "invalid_params", errors);

    *ngx_snprintf(detail, sizeof(detail) - 1, "Parameter \"%s\" %s.",
                  param, reason) = '\0';

    return ngx_http_nexus_send_problem(r, NGX_HTTP_BAD_REQUEST,
                                       "invalid_parameter", (char *) detail,
                                       extra);
}


ngx_int_t
ngx_http_nexus_send_unavailable(ngx_http_request_t *r, const char *code,
    const char *detail)
{
    static ngx_str_t  retry = ngx_string("1");

    if (ngx_http_nexus_add_header(r, "Retry-After", &retry) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_nexus_send_problem(r, NGX_HTTP_SERVICE_UNAVAILABLE, code,
                                       detail, NULL);
}
