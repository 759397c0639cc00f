/*
 * Rate limits: named zones kept in Redis, so that every nginx worker and
 * every nginx node shares one count per client.
 *
 * The algorithm is GCRA (a leaky bucket that stores one timestamp, the
 * "theoretical arrival time", per key): a zone allows burst + 1 requests at
 * once and refills at its rate. All zones of one check go to Redis in a
 * single EVAL; the script reads Redis's own clock, so nodes whose clocks
 * disagree still agree on the limits, and it consumes nothing unless every
 * zone allows the request.
 *
 * When Redis is not configured, down or slow, a limit fails open (the
 * request goes on) or closed (503); by default it fails closed on the
 * routes the route table marks sensitive (log-in, register, password
 * reset) and open elsewhere.
 */

#include "ngx_http_nexus_auth.h"
#include "ngx_http_nexus_redis.h"


#define NGX_HTTP_NEXUS_LIMIT_PREFIX    "nexus:rl:"
#define NGX_HTTP_NEXUS_LIMIT_KEY_MAX   256
#define NGX_HTTP_NEXUS_LIMIT_NAME_MAX  64

#define NGX_HTTP_NEXUS_LIMIT_FAIL_UNSET   0
#define NGX_HTTP_NEXUS_LIMIT_FAIL_OPEN    1
#define NGX_HTTP_NEXUS_LIMIT_FAIL_CLOSED  2


typedef struct {
    ngx_str_t                   name;
    ngx_http_complex_value_t   *key;        /* NULL: keyed by account */
    uint64_t                    interval;   /* microseconds per request */
    ngx_uint_t                  burst;
    ngx_str_t                   interval_text;
    ngx_str_t                   burst_text;
    ngx_str_t                   policy;     /* RateLimit-Policy value */
} ngx_http_nexus_limit_zone_t;


/* one "nexus_limit" line of a location */
typedef struct {
    ngx_str_t                       name;
    ngx_http_nexus_limit_zone_t    *zone;   /* resolved at merge time */
    ngx_uint_t                      fail;
    u_char                         *file;
    ngx_uint_t                      line;
} ngx_http_nexus_limit_t;


/* what Redis answered for one zone */
typedef struct {
    ngx_http_nexus_limit_zone_t    *zone;
    ngx_uint_t                      allowed;
    int64_t                         remaining;
    int64_t                         retry_after;   /* ms */
    int64_t                         reset;         /* ms */
} ngx_http_nexus_limit_result_t;


/* per request, in ctx->limit; reused by each check of the request */
typedef struct {
    ngx_http_nexus_ctx_t           *ctx;
    ngx_http_nexus_redis_cmd_t     *cmd;
    ngx_http_nexus_endpoint_pt      next;
    ngx_http_nexus_limit_result_t  *results;
    ngx_uint_t                      n;
    ngx_uint_t                      closed;
    ngx_table_elt_t                *policy;
    ngx_table_elt_t                *limit;
    int64_t                         reported;
} ngx_http_nexus_limit_state_t;


static char *ngx_http_nexus_limit_resolve(ngx_conf_t *cf, ngx_array_t *limits);
static ngx_int_t ngx_http_nexus_limit_check(ngx_http_nexus_ctx_t *ctx,
    ngx_uint_t by_account, ngx_str_t *account,
    ngx_http_nexus_endpoint_pt next);
static ngx_int_t ngx_http_nexus_limit_key(ngx_http_request_t *r,
    ngx_http_nexus_limit_zone_t *zone, ngx_str_t *value, ngx_str_t *key);
static void ngx_http_nexus_limit_on_reply(void *data, redisReply *reply);
static ngx_int_t ngx_http_nexus_limit_decide(
    ngx_http_nexus_limit_state_t *st);
static ngx_int_t ngx_http_nexus_limit_unavailable(
    ngx_http_nexus_limit_state_t *st, const char *why);
static ngx_int_t ngx_http_nexus_limit_headers(ngx_http_nexus_limit_state_t *st,
    ngx_http_nexus_limit_result_t *res);
static ngx_table_elt_t *ngx_http_nexus_limit_header(ngx_http_request_t *r,
    ngx_table_elt_t *h, const char *name, ngx_str_t *value);
static void ngx_http_nexus_limit_cleanup(void *data);


/*
 * KEYS[i]: the bucket of zone i; ARGV[2i-1]: its emission interval in
 * microseconds, ARGV[2i]: its burst. Answers four integers per zone:
 * allowed, remaining, retry after (ms), reset (ms: until the bucket is full
 * again). TATs are microseconds: exact in a Lua double until 2255.
 */
static ngx_str_t  ngx_http_nexus_limit_script = ngx_string(
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local out, old, new, ok = {}, {}, {}, true\n"
    "for i = 1, #KEYS do\n"
    "  local T = tonumber(ARGV[2 * i - 1])\n"
    "  local span = (tonumber(ARGV[2 * i]) + 1) * T\n"
    "  local tat = tonumber(redis.call('GET', KEYS[i])) or now\n"
    "  if tat < now then tat = now end\n"
    "  old[i] = tat\n"
    "  new[i] = tat + T\n"
    "  local b = 4 * i - 3\n"
    "  if new[i] - span > now then\n"
    "    ok = false\n"
    "    out[b], out[b + 1] = 0, 0\n"
    "    out[b + 2] = math.ceil((new[i] - span - now) / 1000)\n"
    "    out[b + 3] = math.ceil((tat - now) / 1000)\n"
    "  else\n"
    "    out[b], out[b + 2] = 1, 0\n"
    "    out[b + 1] = math.floor((now + span - new[i]) / T)\n"
    "    out[b + 3] = math.ceil((new[i] - now) / 1000)\n"
    "  end\n"
    "end\n"
    "for i = 1, #KEYS do\n"
    "  local b = 4 * i - 3\n"
    "  if ok then\n"
    "    redis.call('SET', KEYS[i], string.format('%d', new[i]), 'PX',\n"
    "                math.max(1, out[b + 3]))\n"
    "  elseif out[b] == 1 then\n"
    "    out[b + 1] = out[b + 1] + 1\n"
    "    out[b + 3] = math.ceil((old[i] - now) / 1000)\n"
    "  end\n"
    "end\n"
    "return out\n");


static ngx_uint_t  ngx_http_nexus_limit_outage;


/* nexus_limit_zone NAME key=$variable|key=account rate=Nr/s|Nr/m [burst=N] */

char *
ngx_http_nexus_limit_zone_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_nexus_main_conf_t *nmcf = conf;

    u_char                             c, *p, *last;
    uint64_t                           span, window;
    ngx_int_t                          n, per;
    ngx_str_t                         *value, s, key;
    ngx_uint_t                         i, have_rate;
    ngx_http_nexus_limit_zone_t       *zone;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > NGX_HTTP_NEXUS_LIMIT_NAME_MAX) {
        return "has an invalid zone name";
    }

    /* the name goes into Redis keys and a structured-field string */
    for (i = 0; i < value[1].len; i++) {
        c = value[1].data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: limit zone name \"%V\" may only hold "
                               "letters, digits, \"_\", \"-\" and \".\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (nmcf->limit_zones == NULL) {
        nmcf->limit_zones = ngx_array_create(cf->pool, 4,
                                          sizeof(ngx_http_nexus_limit_zone_t));
        if (nmcf->limit_zones == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    zone = nmcf->limit_zones->elts;

    for (i = 0; i < nmcf->limit_zones->nelts; i++) {
        if (zone[i].name.len == value[1].len
            && ngx_strncmp(zone[i].name.data, value[1].data, value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: duplicate limit zone \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    zone = ngx_array_push(nmcf->limit_zones);
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(zone, sizeof(ngx_http_nexus_limit_zone_t));
    zone->name = value[1];

    ngx_str_null(&key);
    have_rate = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {
            key.data = value[i].data + 4;
            key.len = value[i].len - 4;
            continue;
        }

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {
            p = value[i].data + 5;
            last = value[i].data + value[i].len;
            per = 0;

            if (last - p > 3 && ngx_strncmp(last - 3, "r/s", 3) == 0) {
                per = 1000000;

            } else if (last - p > 3 && ngx_strncmp(last - 3, "r/m", 3) == 0) {
                per = 60000000;
            }

            n = per ? ngx_atoi(p, last - p - 3) : NGX_ERROR;

            if (n <= 0 || n > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "nexus: invalid rate \"%V\" in limit zone "
                                   "\"%V\": use Nr/s or Nr/m, N from 1 to "
                                   "1000000", &value[i], &zone->name);
                return NGX_CONF_ERROR;
            }

            zone->interval = per / n;
            have_rate = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n == NGX_ERROR || n > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "nexus: invalid burst \"%V\" in limit "
                                   "zone \"%V\"", &value[i], &zone->name);
                return NGX_CONF_ERROR;
            }

            zone->burst = n;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: invalid parameter \"%V\" in limit zone "
                           "\"%V\"", &value[i], &zone->name);
        return NGX_CONF_ERROR;
    }

    if (key.len == 0 || !have_rate) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: limit zone \"%V\" needs key= and rate=",
                           &zone->name);
        return NGX_CONF_ERROR;
    }

    if (key.len == 7 && ngx_strncmp(key.data, "account", 7) == 0) {
        zone->key = NULL;

    } else {
        zone->key = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (zone->key == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &key;
        ccv.complex_value = zone->key;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    /* the texts the script gets, and the policy: q requests per w seconds */
    s.data = ngx_pnalloc(cf->pool, 2 * NGX_INT64_LEN);
    if (s.data == NULL) {
        return NGX_CONF_ERROR;
    }

    zone->interval_text.data = s.data;
    zone->interval_text.len = ngx_sprintf(s.data, "%uL", zone->interval)
                              - s.data;
    zone->burst_text.data = s.data + NGX_INT64_LEN;
    zone->burst_text.len = ngx_sprintf(zone->burst_text.data, "%ui",
                                       zone->burst)
                           - zone->burst_text.data;

    span = (uint64_t) (zone->burst + 1) * zone->interval;
    window = (span + 999999) / 1000000;

    zone->policy.data = ngx_pnalloc(cf->pool, zone->name.len
                                              + sizeof("\"\";q=;w=") - 1
                                              + 2 * NGX_INT64_LEN);
    if (zone->policy.data == NULL) {
        return NGX_CONF_ERROR;
    }

    zone->policy.len = ngx_sprintf(zone->policy.data, "\"%V\";q=%ui;w=%uL",
                                   &zone->name, zone->burst + 1,
                                   window ? window : 1)
                       - zone->policy.data;

    return NGX_CONF_OK;
}


/* nexus_limit NAME [fail=open|closed] */

char *
ngx_http_nexus_limit_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_nexus_loc_conf_t *nlcf = conf;

    ngx_str_t               *value;
    ngx_uint_t               i;
    ngx_http_nexus_limit_t  *lim;

    value = cf->args->elts;

    if (nlcf->limits == NGX_CONF_UNSET_PTR) {
        nlcf->limits = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_nexus_limit_t));
        if (nlcf->limits == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    lim = nlcf->limits->elts;

    for (i = 0; i < nlcf->limits->nelts; i++) {
        if (lim[i].name.len == value[1].len
            && ngx_strncmp(lim[i].name.data, value[1].data, value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: limit zone \"%V\" is used twice here",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    lim = ngx_array_push(nlcf->limits);
    if (lim == NULL) {
        return NGX_CONF_ERROR;
    }

    lim->name = value[1];
    lim->zone = NULL;
    lim->fail = NGX_HTTP_NEXUS_LIMIT_FAIL_UNSET;

    /* zones may be declared after this line: resolved when merging */
    lim->file = cf->conf_file->file.name.data;
    lim->line = cf->conf_file->line;

    if (cf->args->nelts == 3) {
        if (value[2].len == sizeof("fail=open") - 1
            && ngx_strncmp(value[2].data, "fail=open", value[2].len) == 0)
        {
            lim->fail = NGX_HTTP_NEXUS_LIMIT_FAIL_OPEN;

        } else if (value[2].len == sizeof("fail=closed") - 1
                   && ngx_strncmp(value[2].data, "fail=closed",
                                  value[2].len)
                      == 0)
        {
            lim->fail = NGX_HTTP_NEXUS_LIMIT_FAIL_CLOSED;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "nexus: invalid parameter \"%V\" of "
                               "\"nexus_limit\": use fail=open or "
                               "fail=closed", &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


char *
ngx_http_nexus_limit_merge(ngx_conf_t *cf, ngx_http_nexus_loc_conf_t *prev,
    ngx_http_nexus_loc_conf_t *conf)
{
    /* a level that names no zone inherits all of its parent's */
    ngx_conf_merge_ptr_value(conf->limits, prev->limits, NULL);

    if (prev->limits != NGX_CONF_UNSET_PTR
        && ngx_http_nexus_limit_resolve(cf, prev->limits) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_nexus_limit_resolve(cf, conf->limits);
}


static char *
ngx_http_nexus_limit_resolve(ngx_conf_t *cf, ngx_array_t *limits)
{
    ngx_uint_t                    i, j;
    ngx_http_nexus_limit_t       *lim;
    ngx_http_nexus_limit_zone_t  *zone;
    ngx_http_nexus_main_conf_t   *nmcf;

    if (limits == NULL) {
        return NGX_CONF_OK;
    }

    nmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_nexus_module);

    lim = limits->elts;

    for (i = 0; i < limits->nelts; i++) {
        if (lim[i].zone) {
            continue;
        }

        zone = nmcf->limit_zones ? nmcf->limit_zones->elts : NULL;

        for (j = 0; zone && j < nmcf->limit_zones->nelts; j++) {
            if (zone[j].name.len == lim[i].name.len
                && ngx_strncmp(zone[j].name.data, lim[i].name.data,
                               lim[i].name.len)
                   == 0)
            {
                lim[i].zone = &zone[j];
                break;
            }
        }

        if (lim[i].zone == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "nexus: unknown limit zone \"%V\" in %s:%ui; "
                          "declare it with \"nexus_limit_zone\" in the "
                          "http block", &lim[i].name, lim[i].file,
                          lim[i].line);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_nexus_limit_request(ngx_http_nexus_ctx_t *ctx,
    ngx_http_nexus_endpoint_pt next)
{
    return ngx_http_nexus_limit_check(ctx, 0, NULL, next);
}


ngx_int_t
ngx_http_nexus_limit_account(ngx_http_nexus_ctx_t *ctx, ngx_str_t *account,
    ngx_http_nexus_endpoint_pt next)
{
    return ngx_http_nexus_limit_check(ctx, 1, account, next);
}


static ngx_int_t
ngx_http_nexus_limit_check(ngx_http_nexus_ctx_t *ctx, ngx_uint_t by_account,
    ngx_str_t *account, ngx_http_nexus_endpoint_pt next)
{
    size_t                         *argvlen;
    ngx_int_t                       rc;
    ngx_str_t                       value, key, *keys;
    ngx_uint_t                      i, n, closed, fail;
    const char                    **argv;
    ngx_array_t                    *limits;
    ngx_pool_cleanup_t             *cln;
    ngx_http_request_t             *r;
    ngx_http_nexus_limit_t         *lim;
    ngx_http_nexus_redis_cmd_t     *cmd;
    ngx_http_nexus_limit_zone_t    *zone;
    ngx_http_nexus_limit_state_t   *st;

    u_char                          numkeys[NGX_INT_T_LEN];

    r = ctx->request;
    limits = ctx->lcf->limits;

    if (limits == NULL || limits->nelts == 0) {
        return next(ctx);
    }

    if (by_account && (account == NULL || account->len == 0)) {
        return next(ctx);
    }

    st = ctx->limit;

    if (st == NULL) {
        st = ngx_pcalloc(r->pool, sizeof(ngx_http_nexus_limit_state_t));
        if (st == NULL) {
            return NGX_ERROR;
        }

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_nexus_limit_cleanup;
        cln->data = st;

        st->ctx = ctx;
        st->reported = -1;
        ctx->limit = st;
    }

    st->results = ngx_pcalloc(r->pool, limits->nelts
                                       * sizeof(ngx_http_nexus_limit_result_t));
    keys = ngx_palloc(r->pool, limits->nelts * sizeof(ngx_str_t));
    argv = ngx_palloc(r->pool, (3 + 3 * limits->nelts) * sizeof(char *));
    argvlen = ngx_palloc(r->pool, (3 + 3 * limits->nelts) * sizeof(size_t));

    if (st->results == NULL || keys == NULL || argv == NULL
        || argvlen == NULL)
    {
        return NGX_ERROR;
    }

    lim = limits->elts;
    n = 0;
    closed = 0;

    for (i = 0; i < limits->nelts; i++) {
        zone = lim[i].zone;

        if ((zone->key == NULL) != by_account) {
            continue;
        }

        if (by_account) {
            value = *account;

        } else if (ngx_http_complex_value(r, zone->key, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        /* as limit_req: a request without a key is not limited */
        if (value.len == 0) {
            continue;
        }

        if (ngx_http_nexus_limit_key(r, zone, &value, &key) != NGX_OK) {
            return NGX_ERROR;
        }

        fail = lim[i].fail;

        if (fail == NGX_HTTP_NEXUS_LIMIT_FAIL_UNSET) {
            fail = ctx->sensitive ? NGX_HTTP_NEXUS_LIMIT_FAIL_CLOSED
                                  : NGX_HTTP_NEXUS_LIMIT_FAIL_OPEN;
        }

        if (fail == NGX_HTTP_NEXUS_LIMIT_FAIL_CLOSED) {
            closed = 1;
        }

        keys[n] = key;
        st->results[n].zone = zone;
        n++;
    }

    if (n == 0) {
        return next(ctx);
    }

    st->n = n;
    st->next = next;
    st->closed = closed;

    /* EVAL script numkeys key... (interval burst)... */
    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = (const char *) ngx_http_nexus_limit_script.data;
    argvlen[1] = ngx_http_nexus_limit_script.len;
    argv[2] = (const char *) numkeys;
    argvlen[2] = ngx_sprintf(numkeys, "%ui", n) - numkeys;

    for (i = 0; i < n; i++) {
        zone = st->results[i].zone;

        argv[3 + i] = (const char *) keys[i].data;
        argvlen[3 + i] = keys[i].len;
        argv[3 + n + 2 * i] = (const char *) zone->interval_text.data;
        argvlen[3 + n + 2 * i] = zone->interval_text.len;
        argv[4 + n + 2 * i] = (const char *) zone->burst_text.data;
        argvlen[4 + n + 2 * i] = zone->burst_text.len;
    }

    /* hiredis copies the arguments before returning */
    cmd = ngx_http_nexus_redis_command(ngx_http_nexus_limit_on_reply, st,
                                       (int) (3 + 3 * n), argv, argvlen);

    if (cmd == NULL) {
        rc = ngx_http_nexus_limit_unavailable(st, "Redis is not reachable");

        if (rc == NGX_DECLINED) {
            return next(ctx);
        }

        return rc;
    }

    st->cmd = cmd;

    return NGX_DONE;
}


/*
 * nexus:rl:<zone>:<key>; a long key (an API key, a token) is replaced by
 * its SHA-256, which bounds Redis memory without letting keys that share a
 * prefix share a bucket. Accounts are compared without case: "Bob@x.org"
 * and "bob@x.org" are one bucket.
 */

static ngx_int_t
ngx_http_nexus_limit_key(ngx_http_request_t *r,
    ngx_http_nexus_limit_zone_t *zone, ngx_str_t *value, ngx_str_t *key)
{
    u_char  *p, digest[32];
    size_t   len;

    len = sizeof(NGX_HTTP_NEXUS_LIMIT_PREFIX) - 1 + zone->name.len + 1
          + ngx_max(value->len, sizeof("sha256:") - 1 + 64);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    p = ngx_cpymem(p, NGX_HTTP_NEXUS_LIMIT_PREFIX,
                   sizeof(NGX_HTTP_NEXUS_LIMIT_PREFIX) - 1);
    p = ngx_cpymem(p, zone->name.data, zone->name.len);
    *p++ = ':';

    if (zone->key == NULL) {
        /* lowercase a copy: value belongs to the caller */
        ngx_strlow(p, value->data, value->len);

        if (value->len > NGX_HTTP_NEXUS_LIMIT_KEY_MAX) {
            ngx_http_nexus_sha256(p, value->len, digest);
            p = ngx_cpymem(p, "sha256:", sizeof("sha256:") - 1);
            p = ngx_hex_dump(p, digest, sizeof(digest));

        } else {
            p += value->len;
        }

    } else if (value->len > NGX_HTTP_NEXUS_LIMIT_KEY_MAX) {
        ngx_http_nexus_sha256(value->data, value->len, digest);
        p = ngx_cpymem(p, "sha256:", sizeof("sha256:") - 1);
        p = ngx_hex_dump(p, digest, sizeof(digest));

    } else {
        p = ngx_cpymem(p, value->data, value->len);
    }

    key->len = p - key->data;

    return NGX_OK;
}


static void
ngx_http_nexus_limit_on_reply(void *data, redisReply *reply)
{
    ngx_http_nexus_limit_state_t *st = data;

    ngx_int_t                       rc;
    ngx_uint_t                      i;
    redisReply                     *e;
    ngx_connection_t               *c;
    ngx_http_nexus_ctx_t           *ctx;
    ngx_http_nexus_limit_result_t  *res;

    ctx = st->ctx;
    c = ctx->request->connection;
    st->cmd = NULL;

    if (reply == NULL) {
        rc = ngx_http_nexus_limit_unavailable(st, "Redis did not answer");
        goto next;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        rc = ngx_http_nexus_limit_unavailable(st, reply->str);
        goto next;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 4 * st->n) {
        rc = ngx_http_nexus_limit_unavailable(st, "unexpected reply");
        goto next;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_INTEGER) {
            rc = ngx_http_nexus_limit_unavailable(st, "unexpected reply");
            goto next;
        }
    }

    if (ngx_http_nexus_limit_outage) {
        ngx_http_nexus_limit_outage = 0;
        ngx_log_error(NGX_LOG_NOTICE, c->log, 0,
                      "nexus: rate limits are enforced again");
    }

    for (i = 0; i < st->n; i++) {
        res = &st->results[i];
        e = reply->element[4 * i];

        res->allowed = (e->integer != 0);
        res->remaining = reply->element[4 * i + 1]->integer;
        res->retry_after = reply->element[4 * i + 2]->integer;
        res->reset = reply->element[4 * i + 3]->integer;
    }

    rc = ngx_http_nexus_limit_decide(st);

next:

    /* NGX_DECLINED: allowed, or failing open */
    if (rc == NGX_DECLINED) {
        rc = st->next(ctx);
    }

    if (rc != NGX_DONE) {
        ngx_http_nexus_finalize(ctx, rc);
    }

    ngx_http_run_posted_requests(c);
}


/* NGX_DECLINED when the request may go on, else the rc of the 429 sent */

static ngx_int_t
ngx_http_nexus_limit_decide(ngx_http_nexus_limit_state_t *st)
{
    u_char                         *p;
    json_t                         *extra;
    int64_t                         secs;
    ngx_str_t                       v;
    ngx_uint_t                      i;
    ngx_http_request_t             *r;
    ngx_http_nexus_limit_result_t  *res, *worst;

    r = st->ctx->request;
    worst = NULL;

    /* the zone that refuses for longest, or else the one nearest to it */
    for (i = 0; i < st->n; i++) {
        res = &st->results[i];

        if (worst == NULL) {
            worst = res;
            continue;
        }

        if (!res->allowed) {
            if (worst->allowed || res->retry_after > worst->retry_after) {
                worst = res;
            }

            continue;
        }

        if (worst->allowed
            && (res->remaining < worst->remaining
                || (res->remaining == worst->remaining
                    && res->reset > worst->reset)))
        {
            worst = res;
        }
    }

    if (worst->allowed) {
        /* a later check of this request reports only a tighter zone */
        if (st->reported == -1 || worst->remaining <= st->reported) {
            if (ngx_http_nexus_limit_headers(st, worst) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        return NGX_DECLINED;
    }

    if (ngx_http_nexus_limit_headers(st, worst) != NGX_OK) {
        return NGX_ERROR;
    }

    secs = (worst->retry_after + 999) / 1000;
    if (secs < 1) {
        secs = 1;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v.data = p;
    v.len = ngx_sprintf(p, "%L", secs) - p;

    if (ngx_http_nexus_add_header(r, "Retry-After", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    extra = ngx_http_nexus_json_track(r,
                json_pack("{s:I,s:s%}", "retry_after", (json_int_t) secs,
                          "limit", worst->zone->name.data,
                          worst->zone->name.len));
    if (extra == NULL) {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "nexus: rate limited by zone \"%V\"", &worst->zone->name);

    return ngx_http_nexus_send_problem(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                       "rate_limited",
                                       "Too many requests; retry after the "
                                       "number of seconds in Retry-After.",
                                       extra);
}


/* NGX_DECLINED when failing open, else the rc of the 503 sent */

static ngx_int_t
ngx_http_nexus_limit_unavailable(ngx_http_nexus_limit_state_t *st,
    const char *why)
{
    ngx_http_request_t  *r;

    r = st->ctx->request;

    if (!ngx_http_nexus_limit_outage) {
        ngx_http_nexus_limit_outage = 1;
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "nexus: rate limits cannot be checked (%s): limits "
                      "with fail=open let requests through, fail=closed "
                      "answer 503, until Redis answers again", why);
    }

    if (!st->closed) {
        return NGX_DECLINED;
    }

    return ngx_http_nexus_send_unavailable(r, "rate_limit_unavailable",
                                           "Rate limits cannot be checked "
                                           "right now; retry shortly.");
}


/*
 * RateLimit-Policy: "<zone>";q=<burst+1>;w=<seconds>
 * RateLimit: "<zone>";r=<remaining>;t=<seconds until the bucket is full>
 * (draft-ietf-httpapi-ratelimit-headers, structured fields)
 */

static ngx_int_t
ngx_http_nexus_limit_headers(ngx_http_nexus_limit_state_t *st,
    ngx_http_nexus_limit_result_t *res)
{
    u_char              *p;
    int64_t              t, remaining;
    ngx_str_t            v;
    ngx_http_request_t  *r;

    r = st->ctx->request;

    remaining = res->allowed ? res->remaining : 0;
    if (remaining < 0) {
        remaining = 0;
    }

    t = (res->reset + 999) / 1000;
    if (t < 0) {
        t = 0;
    }

    p = ngx_pnalloc(r->pool, res->zone->name.len + sizeof("\"\";r=;t=") - 1
                             + 2 * NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v.data = p;
    v.len = ngx_sprintf(p, "\"%V\";r=%L;t=%L", &res->zone->name, remaining, t)
            - p;

    st->policy = ngx_http_nexus_limit_header(r, st->policy,
                                             "RateLimit-Policy",
                                             &res->zone->policy);
    st->limit = ngx_http_nexus_limit_header(r, st->limit, "RateLimit", &v);

    if (st->policy == NULL || st->limit == NULL) {
        return NGX_ERROR;
    }

    st->reported = remaining;

    return NGX_OK;
}


/* sets h's value, or adds the header when this request has none yet */

static ngx_table_elt_t *
ngx_http_nexus_limit_header(ngx_http_request_t *r, ngx_table_elt_t *h,
    const char *name, ngx_str_t *value)
{
    if (h == NULL) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NULL;
        }

        h->key.data = (u_char *) name;
        h->key.len = ngx_strlen(name);
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
    }

    h->hash = 1;
    h->value = *value;

    return h;
}


static void
ngx_http_nexus_limit_cleanup(void *data)
{
    ngx_http_nexus_limit_state_t *st = data;

    if (st->cmd) {
        ngx_http_nexus_redis_cancel(st->cmd);
        st->cmd = NULL;
    }
}
