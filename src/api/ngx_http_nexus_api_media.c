/*
 * Product media: a seller asks for an upload (POST
 * /api/seller/products/{id}/media), gets a presigned S3 PUT URL and a
 * pending media row, uploads the image straight to the bucket, then
 * confirms it (POST /api/seller/media/{id}/complete): the module asks the
 * bucket (HEAD, ngx_http_nexus_s3_client.c) whether the object is there,
 * within the size limit and of the type presigned, and only then does it
 * join the product's gallery, with the size S3 reports. The SQL functions
 * (0013_media.sql, 0017_media_verify.sql) check that the caller works for
 * the product's store; this file signs the URL and asks S3.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_s3.h"


#define STRING    NGX_HTTP_NEXUS_FIELD_STRING
#define ENUM      NGX_HTTP_NEXUS_FIELD_ENUM
#define BOOL      NGX_HTTP_NEXUS_FIELD_BOOL
#define INT       NGX_HTTP_NEXUS_FIELD_INT
#define REQUIRED  NGX_HTTP_NEXUS_FIELD_REQUIRED


static ngx_int_t ngx_http_nexus_media_signed(ngx_http_nexus_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *body);
static ngx_int_t ngx_http_nexus_media_unconfigured(ngx_http_nexus_ctx_t *ctx);
static u_char *ngx_http_nexus_media_time(u_char *p, time_t t);
static ngx_int_t ngx_http_nexus_media_pending(ngx_http_nexus_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *body);
static void ngx_http_nexus_media_headed(void *data,
    ngx_http_nexus_s3_head_result_t *res);
static ngx_int_t ngx_http_nexus_media_verified(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_s3_head_result_t *res);
static ngx_int_t ngx_http_nexus_media_invalid(ngx_http_nexus_ctx_t *ctx,
    const char *reason);
static void ngx_http_nexus_media_cleanup(void *data);


/* a completion in progress: the upload SQL knows, and the HEAD about it */
typedef struct {
    ngx_http_nexus_s3_head_t   *head;
    ngx_str_t                   key;
    ngx_str_t                   content_type;
} ngx_http_nexus_media_complete_t;


/* the size limit is nexus_s3_max_upload_size, checked in SQL (422) */
static const ngx_http_nexus_field_t  ngx_http_nexus_media_new_fields[] = {
    { "content_type", ENUM,   REQUIRED, 1, 20,
      "image/jpeg\0image/png\0image/webp\0image/gif\0" },
    { "filename",     STRING, 0, 1, 255, NULL },
    { "size",         INT,    REQUIRED, 1, (size_t) 1 << 40, NULL },
    { "alt",          STRING, 0, 0, 500, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_media_fields[] = {
    { "position",     INT,    0, 0, 10000, NULL },
    { "is_primary",   BOOL,   0, 0, 0, NULL },
    { "alt",          STRING, 0, 0, 500, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_media_no_fields[] = {
    { NULL, 0, 0, 0, 0, NULL }
};


ngx_int_t
ngx_http_nexus_api_media_create(ngx_http_nexus_ctx_t *ctx)
{
    json_t                      *extra;
    ngx_http_nexus_s3_conf_t    *s3;
    ngx_http_nexus_main_conf_t  *nmcf;

    nmcf = ngx_http_get_module_main_conf(ctx->request, ngx_http_nexus_module);
    s3 = nmcf->s3;

    if (s3 == NULL) {
        return ngx_http_nexus_media_unconfigured(ctx);
    }

    if (ctx->body == NULL) {
        return ngx_http_nexus_send_problem(ctx->request,
                                           NGX_HTTP_BAD_REQUEST,
                                           "body_required",
                                           "A JSON body is required.", NULL);
    }

    extra = ngx_http_nexus_json_track(ctx->request,
                json_pack("{s:{s:I,s:I,s:s%}}", "s3",
                          "max_upload_size",
                          (json_int_t) s3->max_upload_size,
                          "upload_ttl", (json_int_t) s3->upload_ttl,
                          "public_url", s3->public_url.data,
                          s3->public_url.len));
    if (extra == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_nexus_call_body(ctx, "media_create",
                                    ngx_http_nexus_media_new_fields, extra,
                                    ngx_http_nexus_media_signed);
}


/* the pending media row is there: add the upload URL to it */

static ngx_int_t
ngx_http_nexus_media_signed(ngx_http_nexus_ctx_t *ctx, ngx_uint_t status,
    ngx_str_t *body)
{
    u_char                      *p;
    time_t                       now;
    json_t                      *doc, *upload, *key, *type;
    ngx_str_t                    url, object_key;
    ngx_http_request_t          *r;
    ngx_http_nexus_s3_conf_t    *s3;
    ngx_http_nexus_main_conf_t  *nmcf;
    u_char                       expires_at[sizeof("2026-01-01T00:00:00Z")];

    r = ctx->request;

    if (status != NGX_HTTP_CREATED) {
        return ngx_http_nexus_call_send(ctx, status, body);
    }

    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);
    s3 = nmcf->s3;

    doc = ngx_http_nexus_json_track(r, json_loadb((char *) body->data,
                                                  body->len, 0, NULL));
    key = doc ? json_object_get(doc, "key") : NULL;
    type = doc ? json_object_get(doc, "content_type") : NULL;

    if (!json_is_string(key) || !json_is_string(type)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "nexus: media_create answered without a key");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    object_key.data = (u_char *) json_string_value(key);
    object_key.len = json_string_length(key);

    now = ngx_time();

    if (ngx_http_nexus_s3_presign(r->pool, s3, &object_key, now,
                                  s3->upload_ttl, &url)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_http_nexus_media_time(expires_at, now + s3->upload_ttl);

    /* the client sends this Content-Type; it is what the row records */
    upload = json_pack("{s:s,s:s%,s:{s:O},s:s%}",
                       "method", "PUT",
                       "url", url.data, url.len,
                       "headers", "Content-Type", type,
                       "expires_at", expires_at, (size_t) (p - expires_at));

    if (upload == NULL || json_object_set_new(doc, "upload", upload) != 0) {
        return NGX_ERROR;
    }

    ctx->no_store = 1;

    return ngx_http_nexus_send_json(r, NGX_HTTP_CREATED, doc);
}


static ngx_int_t
ngx_http_nexus_media_unconfigured(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_send_problem(ctx->request,
                                       NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "media_unconfigured",
                                       "No object storage is configured "
                                       "for media uploads.", NULL);
}


static u_char *
ngx_http_nexus_media_time(u_char *p, time_t t)
{
    ngx_tm_t  tm;

    ngx_gmtime(t, &tm);

    return ngx_sprintf(p, "%4d-%02d-%02dT%02d:%02d:%02dZ",
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                       tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
}


ngx_int_t
ngx_http_nexus_api_media_list(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_call_checked(ctx, "media_list", NULL);
}


/*
 * Completing an upload: SQL names the pending upload's object (or answers
 * the finished media: completing twice answers the same), S3 says what is
 * there, then one transaction records it with the size S3 reported.
 */

ngx_int_t
ngx_http_nexus_api_media_complete(ngx_http_nexus_ctx_t *ctx)
{
    ngx_http_nexus_main_conf_t  *nmcf;

    nmcf = ngx_http_get_module_main_conf(ctx->request, ngx_http_nexus_module);

    if (nmcf->s3 == NULL) {
        return ngx_http_nexus_media_unconfigured(ctx);
    }

    return ngx_http_nexus_call_body(ctx, "media_complete_check",
                                    ngx_http_nexus_media_no_fields, NULL,
                                    ngx_http_nexus_media_pending);
}


static ngx_int_t
ngx_http_nexus_media_pending(ngx_http_nexus_ctx_t *ctx, ngx_uint_t status,
    ngx_str_t *body)
{
    json_t                           *doc, *state;
    ngx_http_request_t               *r;
    ngx_pool_cleanup_t               *cln;
    ngx_http_nexus_main_conf_t       *nmcf;
    ngx_http_nexus_media_complete_t  *mc;

    r = ctx->request;

    if (status != NGX_HTTP_OK) {
        return ngx_http_nexus_call_send(ctx, status, body);
    }

    doc = ngx_http_nexus_json_track(r, json_loadb((char *) body->data,
                                                  body->len, 0, NULL));
    state = doc ? json_object_get(doc, "status") : NULL;

    if (json_is_string(state)
        && ngx_strcmp(json_string_value(state), "ready") == 0)
    {
        /* recorded already */
        return ngx_http_nexus_call_send(ctx, status, body);
    }

    mc = ngx_pcalloc(r->pool, sizeof(ngx_http_nexus_media_complete_t));
    if (mc == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_nexus_call_member(ctx, body, "key", &mc->key) != NGX_OK
        || ngx_http_nexus_call_member(ctx, body, "content_type",
                                      &mc->content_type) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "nexus: media_complete_check answered without a key");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);

    mc->head = ngx_http_nexus_s3_head(nmcf->s3, &mc->key, r->connection->log,
                                      ngx_http_nexus_media_headed, ctx);
    if (mc->head == NULL) {
        return NGX_ERROR;
    }

    ctx->data = mc;
    cln->handler = ngx_http_nexus_media_cleanup;
    cln->data = mc;

    return NGX_DONE;
}


/* the client hung up while S3 was asked: no callback may follow */

static void
ngx_http_nexus_media_cleanup(void *data)
{
    ngx_http_nexus_media_complete_t *mc = data;

    if (mc->head) {
        ngx_http_nexus_s3_head_cancel(mc->head);
        mc->head = NULL;
    }
}


static void
ngx_http_nexus_media_headed(void *data, ngx_http_nexus_s3_head_result_t *res)
{
    ngx_http_nexus_ctx_t *ctx = data;

    ngx_int_t                         rc;
    ngx_connection_t                 *c;
    ngx_http_nexus_media_complete_t  *mc;

    mc = ctx->data;
    mc->head = NULL;
    c = ctx->request->connection;

    rc = ngx_http_nexus_media_verified(ctx, res);

    if (rc != NGX_DONE) {
        ngx_http_nexus_finalize(ctx, rc);
    }

    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_nexus_media_verified(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_s3_head_result_t *res)
{
    u_char                           *p;
    json_t                           *extra;
    ngx_str_t                         type;
    ngx_http_request_t               *r;
    ngx_http_nexus_s3_conf_t         *s3;
    ngx_http_nexus_main_conf_t       *nmcf;
    ngx_http_nexus_media_complete_t  *mc;
    u_char                            reason[NGX_OFF_T_LEN * 2 + 128];

    r = ctx->request;
    mc = ctx->data;
    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);
    s3 = nmcf->s3;

    if (res->status == NGX_HTTP_NOT_FOUND) {
        /* the upload stays pending: the client may upload and retry */
        return ngx_http_nexus_send_problem(r, NGX_HTTP_CONFLICT,
                                           "upload_missing",
                                           "The object was not uploaded yet.",
                                           NULL);
    }

    if (res->status != NGX_HTTP_OK) {
        if (res->status == 0) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "nexus: object storage %V did not answer HEAD "
                          "for \"%V\": %s", &s3->host, &mc->key, res->error);

        } else {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "nexus: object storage %V answered %ui to HEAD "
                          "for \"%V\"", &s3->host, res->status, &mc->key);
        }

        return ngx_http_nexus_send_problem(r, NGX_HTTP_BAD_GATEWAY,
                                           "storage_unavailable",
                                           "The object storage could not "
                                           "be asked about the upload; "
                                           "try again later.", NULL);
    }

    if (res->content_length < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "nexus: object storage %V answered HEAD for \"%V\" "
                      "without a Content-Length", &s3->host, &mc->key);

        return ngx_http_nexus_send_problem(r, NGX_HTTP_BAD_GATEWAY,
                                           "storage_unavailable",
                                           "The object storage could not "
                                           "be asked about the upload; "
                                           "try again later.", NULL);
    }

    if (res->content_length == 0) {
        return ngx_http_nexus_media_invalid(ctx, "the object is empty");
    }

    if (res->content_length > s3->max_upload_size) {
        p = ngx_sprintf(reason, "the object is %O bytes; at most %O are "
                        "allowed", res->content_length, s3->max_upload_size);
        *p = '\0';
        return ngx_http_nexus_media_invalid(ctx, (char *) reason);
    }

    /* the media type without parameters, as presigned */
    type = res->content_type;

    for (p = type.data; p < type.data + type.len; p++) {
        if (*p == ';' || *p == ' ') {
            type.len = p - type.data;
            break;
        }
    }

    if (type.len != mc->content_type.len
        || ngx_strncasecmp(type.data, mc->content_type.data, type.len) != 0)
    {
        p = ngx_snprintf(reason, sizeof(reason) - 1,
                         "the object's Content-Type is \"%V\", not the "
                         "\"%V\" of the upload", &type, &mc->content_type);
        *p = '\0';
        return ngx_http_nexus_media_invalid(ctx, (char *) reason);
    }

    extra = ngx_http_nexus_json_track(r,
                json_pack("{s:{s:s%,s:I,s:s%}}", "object",
                          "key", mc->key.data, mc->key.len,
                          "size", (json_int_t) res->content_length,
                          "content_type", mc->content_type.data,
                          mc->content_type.len));
    if (extra == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_nexus_call(ctx, "media_complete", extra, NULL);
}


static ngx_int_t
ngx_http_nexus_media_invalid(ngx_http_nexus_ctx_t *ctx, const char *reason)
{
    json_t  *extra, *text;

    /* a Content-Type from S3 may not be UTF-8, or be cut in the middle */
    text = json_string(reason);
    if (text == NULL) {
        text = json_string("the object's Content-Type is not the one of "
                           "the upload");
    }

    extra = ngx_http_nexus_json_track(ctx->request,
                                      json_pack("{s:o}", "reason", text));
    if (extra == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_nexus_send_problem(ctx->request, 422,
                                       "upload_invalid",
                                       "The uploaded object cannot be used; "
                                       "see reason. Upload it again.",
                                       extra);
}


ngx_int_t
ngx_http_nexus_api_media_update(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_call_checked(ctx, "media_update",
                                       ngx_http_nexus_media_fields);
}


ngx_int_t
ngx_http_nexus_api_media_delete(ngx_http_nexus_ctx_t *ctx)
{
    return ngx_http_nexus_call_checked(ctx, "media_delete",
                                       ngx_http_nexus_media_no_fields);
}


/*
 * GET /api/_debug/s3/presign?key=K&date=20261126T000000Z&expires=900: the
 * URL the module signs for key at that time, so a test can compare it with
 * the AWS SDK's for the same inputs (t/062-media.t, t/js/s3.mjs).
 */

ngx_int_t
ngx_http_nexus_api_debug_s3_presign(ngx_http_nexus_ctx_t *ctx)
{
    json_t                      *doc;
    time_t                       date, expires;
    ngx_str_t                   *key, *d, *e, url;
    struct tm                    tm;
    ngx_uint_t                   i;
    ngx_http_nexus_s3_conf_t    *s3;
    ngx_http_nexus_main_conf_t  *nmcf;

    nmcf = ngx_http_get_module_main_conf(ctx->request, ngx_http_nexus_module);
    s3 = nmcf->s3;

    if (s3 == NULL) {
        return ngx_http_nexus_media_unconfigured(ctx);
    }

    key = ngx_http_nexus_arg(ctx, "key");
    if (key == NULL || key->len == 0 || key->len > 1024) {
        return ngx_http_nexus_send_param_problem(ctx->request, "key",
                                                 "must be an object key");
    }

    d = ngx_http_nexus_arg(ctx, "date");
    date = ngx_time();

    if (d) {
        ngx_memzero(&tm, sizeof(struct tm));

        for (i = 0; i < d->len; i++) {
            if (i != 8 && i != 15 && (d->data[i] < '0' || d->data[i] > '9')) {
                break;
            }
        }

        if (d->len != 16 || i != 16 || d->data[8] != 'T'
            || d->data[15] != 'Z')
        {
            return ngx_http_nexus_send_param_problem(ctx->request, "date",
                       "must look like 20261126T000000Z");
        }

        tm.tm_year = ngx_atoi(d->data, 4) - 1900;
        tm.tm_mon = ngx_atoi(d->data + 4, 2) - 1;
        tm.tm_mday = ngx_atoi(d->data + 6, 2);
        tm.tm_hour = ngx_atoi(d->data + 9, 2);
        tm.tm_min = ngx_atoi(d->data + 11, 2);
        tm.tm_sec = ngx_atoi(d->data + 13, 2);

        date = timegm(&tm);
    }

    expires = s3->upload_ttl;
    e = ngx_http_nexus_arg(ctx, "expires");

    if (e) {
        expires = ngx_atotm(e->data, e->len);
        if (expires < 1 || expires > 7 * 86400) {
            return ngx_http_nexus_send_param_problem(ctx->request, "expires",
                       "must be between 1 and 604800 seconds");
        }
    }

    if (ngx_http_nexus_s3_presign(ctx->request->pool, s3, key, date, expires,
                                  &url)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    doc = ngx_http_nexus_json_track(ctx->request,
                                    json_pack("{s:s%}", "url", url.data,
                                              url.len));
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_nexus_send_json(ctx->request, NGX_HTTP_OK, doc);
}
