/*
 * Request bodies: read into memory (bounded by nexus_body_max), parsed as
 * one JSON object, and checked against an endpoint's field list: types,
 * lengths, formats and no unknown fields. Every failure is a 4xx answer
 * that says where it failed.
 */

#include "ngx_http_nexus.h"


static void ngx_http_nexus_body_read(ngx_http_request_t *r);
static ngx_int_t ngx_http_nexus_body_parse(ngx_http_nexus_ctx_t *ctx,
    ngx_int_t *rc);
static const char *ngx_http_nexus_field_check(
    const ngx_http_nexus_field_t *f, json_t *v);
static ngx_int_t ngx_http_nexus_is_json(ngx_http_request_t *r);


/*
 * Starts reading the body; next runs once it is parsed. Returns what the
 * content handler returns (NGX_DONE, or a special response code).
 */

ngx_int_t
ngx_http_nexus_body_start(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_endpoint_pt next)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = ctx->request;
    ctx->body_next = next;

    if (r->headers_in.content_length_n > (off_t) ctx->lcf->body_max) {
        return ngx_http_nexus_send_problem(r,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                   "The request body is larger than this endpoint takes.",
                   NULL);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_nexus_body_read);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    /* ngx_http_read_client_request_body() holds the request for us */
    return NGX_DONE;
}


static void
ngx_http_nexus_body_read(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    ngx_http_nexus_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_nexus_module);

    /* a refused body has been answered: its rc is not "go on" */
    if (ngx_http_nexus_body_parse(ctx, &rc) == NGX_OK) {
        rc = ctx->body_next(ctx);
    }

    if (rc == NGX_DONE) {
        ngx_http_nexus_wait(ctx);
        return;
    }

    ngx_http_nexus_finalize(ctx, rc);
}


/* NGX_OK: parsed; NGX_DECLINED: answered or failed, *rc says how */

static ngx_int_t
ngx_http_nexus_body_parse(ngx_http_nexus_ctx_t *ctx, ngx_int_t *rc)
{
    u_char               *p;
    size_t                len;
    json_t               *json;
    ngx_buf_t            *b;
    ngx_chain_t          *cl;
    json_error_t          err;
    ngx_http_request_t   *r;
    u_char                detail[256];

    r = ctx->request;

    if (r->request_body == NULL || r->request_body->temp_file) {
        *rc = ngx_http_nexus_send_problem(r,
                  NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                  "The request body is larger than this endpoint takes.",
                  NULL);
        return NGX_DECLINED;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len > ctx->lcf->body_max) {
        *rc = ngx_http_nexus_send_problem(r,
                  NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                  "The request body is larger than this endpoint takes.",
                  NULL);
        return NGX_DECLINED;
    }

    if (len == 0) {
        /* an empty body is an empty object: "POST /logout" needs none */
        ctx->body = ngx_http_nexus_json_track(r, json_object());
        *rc = NGX_ERROR;
        return ctx->body ? NGX_OK : NGX_DECLINED;
    }

    if (!ngx_http_nexus_is_json(r)) {
        *rc = ngx_http_nexus_send_problem(r,
                  NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                  "Send the body as application/json.", NULL);
        return NGX_DECLINED;
    }

    b = r->request_body->bufs->buf;

    if (r->request_body->bufs->next == NULL) {
        p = b->pos;

    } else {
        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            *rc = NGX_ERROR;
            return NGX_DECLINED;
        }

        len = 0;
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            ngx_memcpy(p + len, cl->buf->pos, ngx_buf_size(cl->buf));
            len += ngx_buf_size(cl->buf);
        }
    }

    json = json_loadb((char *) p, len, JSON_REJECT_DUPLICATES, &err);

    if (json == NULL) {
        *ngx_snprintf(detail, sizeof(detail) - 1,
                      "The body is not valid JSON: %s at byte %d.",
                      err.text, err.position) = '\0';

        *rc = ngx_http_nexus_send_problem(r, NGX_HTTP_BAD_REQUEST,
                                          "malformed_json",
                                          (char *) detail, NULL);
        return NGX_DECLINED;
    }

    if (ngx_http_nexus_json_track(r, json) == NULL) {
        *rc = NGX_ERROR;
        return NGX_DECLINED;
    }

    if (!json_is_object(json)) {
        *rc = ngx_http_nexus_send_problem(r, NGX_HTTP_BAD_REQUEST,
                                          "malformed_json",
                                          "The body must be a JSON object.",
                                          NULL);
        return NGX_DECLINED;
    }

    ctx->body = json;

    return NGX_OK;
}


static ngx_int_t
ngx_http_nexus_is_json(ngx_http_request_t *r)
{
    ngx_str_t  *ct;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    ct = &r->headers_in.content_type->value;

    return ct->len >= 16
           && ngx_strncasecmp(ct->data, (u_char *) "application/json", 16)
              == 0
           && (ct->len == 16 || ct->data[16] == ';' || ct->data[16] == ' ');
}


/*
 * Checks ctx->body against fields. NGX_OK, or NGX_DECLINED with the
 * problems kept for ngx_http_nexus_send_invalid().
 */

ngx_int_t
ngx_http_nexus_body_check(ngx_http_nexus_ctx_t *ctx,
    const ngx_http_nexus_field_t *fields)
{
    json_t                        *v, *errors, *e;
    const char                    *key, *reason;
    ngx_http_request_t            *r;
    const ngx_http_nexus_field_t  *f;

    r = ctx->request;

    errors = ngx_http_nexus_json_track(r, json_array());
    if (errors == NULL) {
        return NGX_ERROR;
    }

    ctx->invalid = errors;

    json_object_foreach(ctx->body, key, v) {
        for (f = fields; f && f->name; f++) {
            if (ngx_strcmp(f->name, key) == 0) {
                break;
            }
        }

        if (f == NULL || f->name == NULL) {
            e = json_pack("{s:s, s:s}", "name", key, "reason",
                          "is not a known field");
            if (e == NULL || json_array_append_new(errors, e) != 0) {
                return NGX_ERROR;
            }
        }
    }

    for (f = fields; f && f->name; f++) {
        v = json_object_get(ctx->body, f->name);

        if (v == NULL || json_is_null(v)) {
            reason = (f->flags & NGX_HTTP_NEXUS_FIELD_REQUIRED)
                     ? "is required" : NULL;

        } else {
            reason = ngx_http_nexus_field_check(f, v);
        }

        if (reason) {
            e = json_pack("{s:s, s:s}", "name", f->name, "reason", reason);
            if (e == NULL || json_array_append_new(errors, e) != 0) {
                return NGX_ERROR;
            }
        }
    }

    return json_array_size(errors) ? NGX_DECLINED : NGX_OK;
}


ngx_int_t
ngx_http_nexus_send_invalid(ngx_http_nexus_ctx_t *ctx)
{
    json_t  *extra;

    extra = ngx_http_nexus_json_track(ctx->request, json_object());
    if (extra == NULL
        || json_object_set(extra, "invalid_params", ctx->invalid) != 0)
    {
        return NGX_ERROR;
    }

    return ngx_http_nexus_send_problem(ctx->request, 422, "invalid_body",
                                       "Some fields are missing or invalid; "
                                       "see invalid_params.", extra);
}


static const char *
ngx_http_nexus_field_check(const ngx_http_nexus_field_t *f, json_t *v)
{
    u_char       *s, *at;
    size_t        len, i, chars;
    json_int_t    n;

    switch (f->type) {

    case NGX_HTTP_NEXUS_FIELD_BOOL:
        return json_is_boolean(v) ? NULL : "must be true or false";

    case NGX_HTTP_NEXUS_FIELD_INT:
        if (!json_is_integer(v)) {
            return "must be an integer";
        }

        n = json_integer_value(v);
        if (n < (json_int_t) f->min || n > (json_int_t) f->max) {
            return "is out of range";
        }

        return NULL;

    case NGX_HTTP_NEXUS_FIELD_OBJECT:
        if (!json_is_object(v)) {
            return "must be an object";
        }

        return json_object_size(v) > f->max ? "has too many members" : NULL;

    case NGX_HTTP_NEXUS_FIELD_ARRAY:
        /* the elements are the endpoint's to check */
        if (!json_is_array(v)) {
            return "must be an array";
        }

        if (json_array_size(v) < f->min) {
            return "must not be empty";
        }

        return json_array_size(v) > f->max ? "has too many elements" : NULL;

    default:
        break;
    }

    if (!json_is_string(v)) {
        return "must be a string";
    }

    s = (u_char *) json_string_value(v);
    len = json_string_length(v);

    if (ngx_strlen(s) != len) {
        return "must not contain NUL characters";
    }

    /* lengths count characters; jansson has checked the UTF-8 */
    chars = 0;
    for (i = 0; i < len; i++) {
        chars += (s[i] & 0xc0) != 0x80;
    }

    if (chars < f->min) {
        return f->min == 1 ? "must not be empty" : "is too short";
    }

    if (chars > f->max) {
        return "is too long";
    }

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return "must not contain control characters";
        }
    }

    switch (f->type) {

    case NGX_HTTP_NEXUS_FIELD_EMAIL:
        at = (u_char *) ngx_strlchr(s, s + len, '@');

        if (at == NULL || at == s || at == s + len - 1
            || ngx_strlchr(at + 1, s + len, '@') != NULL
            || ngx_strlchr(at + 1, s + len, '.') == NULL
            || s[len - 1] == '.')
        {
            return "must be an e-mail address";
        }

        for (i = 0; i < len; i++) {
            if (s[i] == ' ' || s[i] == ',' || s[i] == '<' || s[i] == '>'
                || s[i] == '"' || s[i] == '\\' || s[i] >= 0x80)
            {
                return "must be an e-mail address";
            }
        }

        return NULL;

    case NGX_HTTP_NEXUS_FIELD_SLUG:
        for (i = 0; i < len; i++) {
            if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
                  || (s[i] == '-' && i > 0 && i < len - 1 && s[i - 1] != '-')))
            {
                return "must be lowercase letters, digits and single "
                       "hyphens";
            }
        }

        return NULL;

    case NGX_HTTP_NEXUS_FIELD_UPPER:
        for (i = 0; i < len; i++) {
            if (s[i] < 'A' || s[i] > 'Z') {
                return "must be an upper-case code";
            }
        }

        return NULL;

    case NGX_HTTP_NEXUS_FIELD_ENUM:
        for (at = (u_char *) f->choices; at && *at; at += ngx_strlen(at) + 1) {
            if (ngx_strlen(at) == len && ngx_strncmp(at, s, len) == 0) {
                return NULL;
            }
        }

        return "is not one of the allowed values";

    case NGX_HTTP_NEXUS_FIELD_URL:
        if (!(len > 8 && ngx_strncmp(s, "https://", 8) == 0)
            && !(len > 7 && ngx_strncmp(s, "http://", 7) == 0))
        {
            return "must be an http or https URL";
        }

        return NULL;

    default:
        return NULL;
    }
}


/* a string member of the checked body; NGX_DECLINED when absent or null */

ngx_int_t
ngx_http_nexus_body_str(ngx_http_nexus_ctx_t *ctx, const char *name,
    ngx_str_t *out)
{
    json_t  *v;

    v = json_object_get(ctx->body, name);

    if (v == NULL || !json_is_string(v)) {
        ngx_str_null(out);
        return NGX_DECLINED;
    }

    out->data = (u_char *) json_string_value(v);
    out->len = json_string_length(v);

    return NGX_OK;
}


/* the checked body as compact JSON text, for a statement parameter */

ngx_int_t
ngx_http_nexus_body_text(ngx_http_nexus_ctx_t *ctx, ngx_str_t *out)
{
    size_t  size;

    size = json_dumpb(ctx->body, NULL, 0, JSON_COMPACT);

    out->data = ngx_pnalloc(ctx->request->pool, size + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = json_dumpb(ctx->body, (char *) out->data, size, JSON_COMPACT);
    out->data[out->len] = '\0';

    return NGX_OK;
}
