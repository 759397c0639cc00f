/*
 * Password hashing: scrypt (OpenSSL 3) on nginx's thread pool, so that a
 * burst of log-ins never stalls the event loop. Hashes are PHC strings:
 *
 *   $scrypt$ln=15,r=8,p=1$<salt>$<key>
 *
 * with N = 2^ln, a 16-byte random salt and a 32-byte key, both in standard
 * base64 without padding. A job (its task, a copy of the password, the
 * salts and keys) is allocated outside the request pool: the request may
 * end while a thread still works on it, and the job then frees itself when
 * the thread is done.
 */

#include "ngx_http_nexus_auth.h"

#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>


#define NGX_HTTP_NEXUS_SCRYPT_SALT_LEN   16
#define NGX_HTTP_NEXUS_SCRYPT_KEY_LEN    32

/* bounds of what a stored hash may ask for; anything else never matches */
#define NGX_HTTP_NEXUS_SCRYPT_LN_MIN     10
#define NGX_HTTP_NEXUS_SCRYPT_LN_MAX     20
#define NGX_HTTP_NEXUS_SCRYPT_R_MAX      32
#define NGX_HTTP_NEXUS_SCRYPT_P_MAX      16
#define NGX_HTTP_NEXUS_SCRYPT_BYTES_MIN  8      /* salt, key of a stored hash */
#define NGX_HTTP_NEXUS_SCRYPT_BYTES_MAX  64

/* 128 * N * r bytes of memory; N * r * p blocks of work (64x the default) */
#define NGX_HTTP_NEXUS_SCRYPT_MEM_MAX    ((uint64_t) 1 << 30)
#define NGX_HTTP_NEXUS_SCRYPT_WORK_MAX   ((uint64_t) 1 << 24)


typedef struct {
    ngx_uint_t                      ln;         /* N = 2^ln */
    ngx_uint_t                      r;
    ngx_uint_t                      p;
} ngx_http_nexus_scrypt_params_t;


typedef struct {
    ngx_http_nexus_scrypt_params_t  params;
#if (NGX_THREADS)
    ngx_thread_pool_t              *thread_pool;
#endif
} ngx_http_nexus_password_conf_t;


typedef struct {
#if (NGX_THREADS)
    ngx_thread_task_t               task;       /* first: the job's address */
#endif

    /* the event loop's side; ctx is NULL once the request has ended */
    ngx_http_nexus_ctx_t           *ctx;
    ngx_pool_cleanup_t             *cln;
    ngx_http_nexus_password_pt      handler;

    /* the thread's input */
    unsigned                        verify:1;
    unsigned                        dummy:1;    /* never a match */
    unsigned                        rehash:1;   /* after a match */
    ngx_http_nexus_scrypt_params_t  params;     /* of the stored hash */
    ngx_http_nexus_scrypt_params_t  conf;       /* of a new hash */
    u_char                          salt[NGX_HTTP_NEXUS_SCRYPT_BYTES_MAX];
    size_t                          salt_len;
    u_char                          expect[NGX_HTTP_NEXUS_SCRYPT_BYTES_MAX];
    size_t                          expect_len;
    u_char                          new_salt[NGX_HTTP_NEXUS_SCRYPT_SALT_LEN];

    /* the thread's output */
    ngx_int_t                       rc;
    u_char                          key[NGX_HTTP_NEXUS_SCRYPT_KEY_LEN];

    size_t                          password_len;
    u_char                          password[1];
} ngx_http_nexus_password_job_t;


static ngx_int_t ngx_http_nexus_password_parse(ngx_str_t *phc,
    ngx_http_nexus_password_job_t *job);
static ngx_int_t ngx_http_nexus_password_number(u_char **pos, u_char *last,
    const char *name, ngx_uint_t *value);
static ngx_int_t ngx_http_nexus_password_base64(u_char *p, u_char *last,
    u_char *out, size_t *len);
static const char *ngx_http_nexus_password_check(
    ngx_http_nexus_scrypt_params_t *sp);
static ngx_http_nexus_password_job_t *ngx_http_nexus_password_job(
    ngx_http_nexus_ctx_t *ctx, ngx_str_t *password,
    ngx_http_nexus_password_pt handler);
static void ngx_http_nexus_password_job_free(
    ngx_http_nexus_password_job_t *job);
static ngx_int_t ngx_http_nexus_password_post(
    ngx_http_nexus_password_job_t *job);

#if (NGX_THREADS)
static void ngx_http_nexus_password_thread(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_nexus_scrypt(ngx_http_nexus_password_job_t *job,
    const u_char *salt, size_t salt_len,
    ngx_http_nexus_scrypt_params_t *sp, u_char *out, size_t out_len);
static void ngx_http_nexus_password_done(ngx_event_t *ev);
static void ngx_http_nexus_password_detach(void *data);
static ngx_str_t *ngx_http_nexus_password_phc(ngx_pool_t *pool,
    ngx_http_nexus_password_job_t *job);
#endif


/* verify hashes an unknown account with these, so it costs the same */
static u_char  ngx_http_nexus_password_dummy_salt[] = "nexus-dummy-salt";


char *
ngx_http_nexus_password_scrypt_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_nexus_main_conf_t *nmcf = conf;

    ngx_int_t                        n, r, p;
    ngx_str_t                       *value;
    const char                      *err;
    ngx_http_nexus_scrypt_params_t   sp;
    ngx_http_nexus_password_conf_t  *pcf;

    if (nmcf->password) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    r = ngx_atoi(value[2].data, value[2].len);
    p = ngx_atoi(value[3].data, value[3].len);

    if (n < (1 << NGX_HTTP_NEXUS_SCRYPT_LN_MIN)
        || n > (1 << NGX_HTTP_NEXUS_SCRYPT_LN_MAX)
        || (n & (n - 1)) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: \"nexus_password_scrypt\" N must be a "
                           "power of two from 1024 to 1048576, not \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (r < 1 || r > NGX_HTTP_NEXUS_SCRYPT_R_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: \"nexus_password_scrypt\" r must be "
                           "from 1 to 32, not \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (p < 1 || p > NGX_HTTP_NEXUS_SCRYPT_P_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: \"nexus_password_scrypt\" p must be "
                           "from 1 to 16, not \"%V\"", &value[3]);
        return NGX_CONF_ERROR;
    }

    for (sp.ln = 0; ((ngx_int_t) 1 << sp.ln) < n; sp.ln++) { /* void */ }
    sp.r = r;
    sp.p = p;

    err = ngx_http_nexus_password_check(&sp);
    if (err) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "nexus: \"nexus_password_scrypt\" %s", err);
        return NGX_CONF_ERROR;
    }

    pcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_nexus_password_conf_t));
    if (pcf == NULL) {
        return NGX_CONF_ERROR;
    }

    pcf->params = sp;
    nmcf->password = pcf;

    return NGX_CONF_OK;
}


char *
ngx_http_nexus_password_init_conf(ngx_conf_t *cf,
    ngx_http_nexus_main_conf_t *nmcf)
{
    ngx_http_nexus_password_conf_t  *pcf;

    pcf = nmcf->password;

    if (pcf == NULL) {
        pcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_nexus_password_conf_t));
        if (pcf == NULL) {
            return NGX_CONF_ERROR;
        }

        /*
         * N=2^14, r=8: 16 MiB a hash, Percival's interactive log-in cost;
         * about 80 ms on a 2-core development machine
         */
        pcf->params.ln = 14;
        pcf->params.r = 8;
        pcf->params.p = 1;
        nmcf->password = pcf;
    }

    if (!nmcf->used) {
        /* no thread pool for an nginx that loads the module but no API */
        return NGX_CONF_OK;
    }

#if (NGX_THREADS)

    /* NULL is nginx's "default" pool (32 threads unless declared) */
    pcf->thread_pool = ngx_thread_pool_add(cf,
                                           nmcf->password_thread_pool.len
                                           ? &nmcf->password_thread_pool
                                           : NULL);
    if (pcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "nexus: \"nexus_api\" hashes passwords on a thread "
                       "pool, and this nginx was built without thread "
                       "support (--with-threads)");
    return NGX_CONF_ERROR;

#endif
}


ngx_int_t
ngx_http_nexus_password_hash(ngx_http_nexus_ctx_t *ctx, ngx_str_t *password,
    ngx_http_nexus_password_pt handler)
{
    ngx_http_nexus_password_job_t  *job;

    job = ngx_http_nexus_password_job(ctx, password, handler);
    if (job == NULL) {
        return NGX_ERROR;
    }

    if (RAND_bytes(job->new_salt, NGX_HTTP_NEXUS_SCRYPT_SALT_LEN) != 1) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "nexus: RAND_bytes() failed for a password salt");
        ngx_http_nexus_password_job_free(job);
        return NGX_ERROR;
    }

    return ngx_http_nexus_password_post(job);
}


ngx_int_t
ngx_http_nexus_password_verify(ngx_http_nexus_ctx_t *ctx, ngx_str_t *password,
    ngx_str_t *phc, ngx_http_nexus_password_pt handler)
{
    ngx_http_nexus_password_job_t  *job;

    job = ngx_http_nexus_password_job(ctx, password, handler);
    if (job == NULL) {
        return NGX_ERROR;
    }

    job->verify = 1;

    if (phc != NULL && phc->len != 0) {

        if (ngx_http_nexus_password_parse(phc, job) == NGX_OK) {
            job->rehash = (job->params.ln < job->conf.ln
                           || job->params.r < job->conf.r
                           || job->params.p < job->conf.p);

            if (job->rehash
                && RAND_bytes(job->new_salt, NGX_HTTP_NEXUS_SCRYPT_SALT_LEN)
                   != 1)
            {
                /* still verify; the caller only misses the upgrade */
                job->rehash = 0;
            }

            return ngx_http_nexus_password_post(job);
        }

        ngx_log_error(NGX_LOG_WARN, ctx->request->connection->log, 0,
                      "nexus: a stored password hash is malformed or out "
                      "of bounds; it matches no password");
    }

    /* no usable hash: the same work, against a fixed salt, never a match */
    job->dummy = 1;
    job->params = job->conf;
    job->salt_len = sizeof(ngx_http_nexus_password_dummy_salt) - 1;
    ngx_memcpy(job->salt, ngx_http_nexus_password_dummy_salt, job->salt_len);
    job->expect_len = NGX_HTTP_NEXUS_SCRYPT_KEY_LEN;

    return ngx_http_nexus_password_post(job);
}


/*
 * "$scrypt$ln=15,r=8,p=1$<salt>$<key>" into job->params, job->salt and
 * job->expect; parameters out of bounds are an error, never a huge job.
 */

static ngx_int_t
ngx_http_nexus_password_parse(ngx_str_t *phc,
    ngx_http_nexus_password_job_t *job)
{
    u_char  *p, *last, *dollar;

    static u_char  prefix[] = "$scrypt$";

    p = phc->data;
    last = p + phc->len;

    if ((size_t) (last - p) < sizeof(prefix) - 1
        || ngx_strncmp(p, prefix, sizeof(prefix) - 1) != 0)
    {
        return NGX_ERROR;
    }

    p += sizeof(prefix) - 1;

    if (ngx_http_nexus_password_number(&p, last, "ln=", &job->params.ln)
        != NGX_OK
        || p == last || *p++ != ','
        || ngx_http_nexus_password_number(&p, last, "r=", &job->params.r)
           != NGX_OK
        || p == last || *p++ != ','
        || ngx_http_nexus_password_number(&p, last, "p=", &job->params.p)
           != NGX_OK
        || p == last || *p++ != '$')
    {
        return NGX_ERROR;
    }

    if (job->params.ln < NGX_HTTP_NEXUS_SCRYPT_LN_MIN
        || ngx_http_nexus_password_check(&job->params) != NULL)
    {
        return NGX_ERROR;
    }

    dollar = ngx_strlchr(p, last, '$');
    if (dollar == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_nexus_password_base64(p, dollar, job->salt, &job->salt_len)
        != NGX_OK
        || ngx_http_nexus_password_base64(dollar + 1, last, job->expect,
                                          &job->expect_len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "name=" and one or two digits */

static ngx_int_t
ngx_http_nexus_password_number(u_char **pos, u_char *last, const char *name,
    ngx_uint_t *value)
{
    u_char  *p;
    size_t   len;

    p = *pos;
    len = ngx_strlen(name);

    if ((size_t) (last - p) < len || ngx_strncmp(p, name, len) != 0) {
        return NGX_ERROR;
    }

    p += len;
    *value = 0;

    for (len = 0; p < last && *p >= '0' && *p <= '9'; p++, len++) {
        if (len == 2) {
            return NGX_ERROR;
        }

        *value = *value * 10 + (*p - '0');
    }

    if (len == 0) {
        return NGX_ERROR;
    }

    *pos = p;

    return NGX_OK;
}


/* standard base64 without padding, 8 to 64 bytes once decoded */

static ngx_int_t
ngx_http_nexus_password_base64(u_char *p, u_char *last, u_char *out,
    size_t *len)
{
    u_char     *c;
    ngx_str_t   src, dst;

    src.data = p;
    src.len = last - p;

    if (src.len % 4 == 1
        || src.len < ngx_base64_encoded_length(NGX_HTTP_NEXUS_SCRYPT_BYTES_MIN)
                     - 1
        || src.len > ngx_base64_encoded_length(NGX_HTTP_NEXUS_SCRYPT_BYTES_MAX)
                     - 2)
    {
        return NGX_ERROR;
    }

    for (c = p; c < last; c++) {
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')
              || (*c >= '0' && *c <= '9') || *c == '+' || *c == '/'))
        {
            return NGX_ERROR;
        }
    }

    dst.data = out;

    if (ngx_decode_base64(&dst, &src) != NGX_OK
        || dst.len < NGX_HTTP_NEXUS_SCRYPT_BYTES_MIN
        || dst.len > NGX_HTTP_NEXUS_SCRYPT_BYTES_MAX)
    {
        return NGX_ERROR;
    }

    *len = dst.len;

    return NGX_OK;
}


/* NULL when a hash with these parameters is affordable */

static const char *
ngx_http_nexus_password_check(ngx_http_nexus_scrypt_params_t *sp)
{
    uint64_t  n;

    if (sp->ln > NGX_HTTP_NEXUS_SCRYPT_LN_MAX
        || sp->r < 1 || sp->r > NGX_HTTP_NEXUS_SCRYPT_R_MAX
        || sp->p < 1 || sp->p > NGX_HTTP_NEXUS_SCRYPT_P_MAX)
    {
        return "has parameters out of bounds";
    }

    n = (uint64_t) 1 << sp->ln;

    if (128 * n * sp->r > NGX_HTTP_NEXUS_SCRYPT_MEM_MAX) {
        return "needs more than 1 GiB a hash (128 * N * r bytes)";
    }

    if (n * sp->r * sp->p > NGX_HTTP_NEXUS_SCRYPT_WORK_MAX) {
        return "costs too much (N * r * p must be at most 16777216)";
    }

    return NULL;
}


static ngx_http_nexus_password_job_t *
ngx_http_nexus_password_job(ngx_http_nexus_ctx_t *ctx, ngx_str_t *password,
    ngx_http_nexus_password_pt handler)
{
    ngx_http_request_t              *r;
    ngx_http_nexus_main_conf_t      *nmcf;
    ngx_http_nexus_password_job_t   *job;
    ngx_http_nexus_password_conf_t  *pcf;

    r = ctx->request;
    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);
    pcf = nmcf->password;

#if (NGX_THREADS)
    if (pcf->thread_pool == NULL) {
        return NULL;
    }
#endif

    /* not from r->pool: the job may outlive the request */
    job = ngx_calloc(sizeof(ngx_http_nexus_password_job_t) + password->len,
                     r->connection->log);
    if (job == NULL) {
        return NULL;
    }

    job->ctx = ctx;
    job->handler = handler;
    job->conf = pcf->params;
    job->password_len = password->len;
    ngx_memcpy(job->password, password->data, password->len);

    return job;
}


static void
ngx_http_nexus_password_job_free(ngx_http_nexus_password_job_t *job)
{
    /* the password copy, salts and derived keys */
    OPENSSL_cleanse(job, sizeof(ngx_http_nexus_password_job_t)
                         + job->password_len);
    ngx_free(job);
}


#if !(NGX_THREADS)

static ngx_int_t
ngx_http_nexus_password_post(ngx_http_nexus_password_job_t *job)
{
    /* unreachable: init_conf refuses "nexus_api" without threads */
    ngx_http_nexus_password_job_free(job);
    return NGX_ERROR;
}

#else

static ngx_int_t
ngx_http_nexus_password_post(ngx_http_nexus_password_job_t *job)
{
    ngx_http_request_t              *r;
    ngx_pool_cleanup_t              *cln;
    ngx_http_nexus_main_conf_t      *nmcf;
    ngx_http_nexus_password_conf_t  *pcf;

    r = job->ctx->request;
    nmcf = ngx_http_get_module_main_conf(r, ngx_http_nexus_module);
    pcf = nmcf->password;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_nexus_password_job_free(job);
        return NGX_ERROR;
    }

    job->task.ctx = job;
    job->task.handler = ngx_http_nexus_password_thread;
    job->task.event.data = job;
    job->task.event.handler = ngx_http_nexus_password_done;
    job->task.event.log = ngx_cycle->log;

    /* fails when the pool's queue is full; it logs why */
    if (ngx_thread_task_post(pcf->thread_pool, &job->task) != NGX_OK) {
        ngx_http_nexus_password_job_free(job);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_nexus_password_detach;
    cln->data = job;
    job->cln = cln;
    job->ctx->password = job;

    return NGX_DONE;
}


/*
 * On a pool thread: touches only the job's input and output, never the
 * request, its pool or its log.
 */

static void
ngx_http_nexus_password_thread(void *data, ngx_log_t *log)
{
    ngx_http_nexus_password_job_t *job = data;

    u_char  out[NGX_HTTP_NEXUS_SCRYPT_BYTES_MAX];

    if (!job->verify) {
        job->rc = ngx_http_nexus_scrypt(job, job->new_salt,
                                        NGX_HTTP_NEXUS_SCRYPT_SALT_LEN,
                                        &job->conf, job->key,
                                        NGX_HTTP_NEXUS_SCRYPT_KEY_LEN);
        goto done;
    }

    if (ngx_http_nexus_scrypt(job, job->salt, job->salt_len, &job->params,
                              out, job->expect_len)
        != NGX_OK)
    {
        job->rc = NGX_ERROR;
        goto done;
    }

    if (CRYPTO_memcmp(out, job->expect, job->expect_len) != 0 || job->dummy) {
        job->rc = NGX_DECLINED;

        /*
         * a hash weaker than configured must not answer sooner than a
         * strong one: that would tell which accounts exist (and are old)
         */
        if (job->rehash) {
            (void) ngx_http_nexus_scrypt(job, job->new_salt,
                                         NGX_HTTP_NEXUS_SCRYPT_SALT_LEN,
                                         &job->conf, out,
                                         NGX_HTTP_NEXUS_SCRYPT_KEY_LEN);
        }

        goto done;
    }

    job->rc = NGX_OK;

    if (job->rehash
        && ngx_http_nexus_scrypt(job, job->new_salt,
                                 NGX_HTTP_NEXUS_SCRYPT_SALT_LEN, &job->conf,
                                 job->key, NGX_HTTP_NEXUS_SCRYPT_KEY_LEN)
           != NGX_OK)
    {
        job->rehash = 0;
    }

done:

    OPENSSL_cleanse(out, sizeof(out));
    OPENSSL_cleanse(job->password, job->password_len);
}


static ngx_int_t
ngx_http_nexus_scrypt(ngx_http_nexus_password_job_t *job, const u_char *salt,
    size_t salt_len, ngx_http_nexus_scrypt_params_t *sp, u_char *out,
    size_t out_len)
{
    uint64_t  n, maxmem;

    n = (uint64_t) 1 << sp->ln;

    /* what OpenSSL allocates: V (N + 2 blocks) and B (p blocks) */
    maxmem = 128 * (uint64_t) sp->r * (n + 2 + sp->p);

    if (EVP_PBE_scrypt((const char *) job->password, job->password_len,
                       salt, salt_len, n, sp->r, sp->p, maxmem,
                       out, out_len)
        != 1)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* back in the event loop */

static void
ngx_http_nexus_password_done(ngx_event_t *ev)
{
    ngx_http_nexus_password_job_t *job = ev->data;

    ngx_int_t                    rc;
    ngx_str_t                   *phc;
    ngx_connection_t            *c;
    ngx_http_request_t          *r;
    ngx_http_nexus_ctx_t        *ctx;
    ngx_http_nexus_password_pt   handler;

    ctx = job->ctx;

    if (ctx == NULL) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "nexus: password job done after its request ended");
        ngx_http_nexus_password_job_free(job);
        return;
    }

    r = ctx->request;
    c = r->connection;

    job->cln->handler = NULL;
    ctx->password = NULL;

    rc = job->rc;
    phc = NULL;

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "nexus: scrypt failed (N=2^%ui r=%ui p=%ui)",
                      job->verify ? job->params.ln : job->conf.ln,
                      job->verify ? job->params.r : job->conf.r,
                      job->verify ? job->params.p : job->conf.p);

    } else if (rc == NGX_OK && (!job->verify || job->rehash)) {
        phc = ngx_http_nexus_password_phc(r->pool, job);
        if (phc == NULL) {
            rc = NGX_ERROR;
        }
    }

    handler = job->handler;
    ngx_http_nexus_password_job_free(job);

    handler(ctx, rc, phc);

    ngx_http_run_posted_requests(c);
}


/* the request ends while a thread still works: the job frees itself */

static void
ngx_http_nexus_password_detach(void *data)
{
    ngx_http_nexus_password_job_t *job = data;

    job->ctx = NULL;
    job->cln = NULL;
}


static ngx_str_t *
ngx_http_nexus_password_phc(ngx_pool_t *pool,
    ngx_http_nexus_password_job_t *job)
{
    u_char     *p;
    size_t      len;
    ngx_str_t  *phc, src, dst;

    phc = ngx_palloc(pool, sizeof(ngx_str_t));
    if (phc == NULL) {
        return NULL;
    }

    len = sizeof("$scrypt$ln=NN,r=NN,p=NN$$") - 1
          + ngx_base64_encoded_length(NGX_HTTP_NEXUS_SCRYPT_SALT_LEN)
          + ngx_base64_encoded_length(NGX_HTTP_NEXUS_SCRYPT_KEY_LEN);

    phc->data = ngx_pnalloc(pool, len);
    if (phc->data == NULL) {
        return NULL;
    }

    p = ngx_sprintf(phc->data, "$scrypt$ln=%ui,r=%ui,p=%ui$",
                    job->conf.ln, job->conf.r, job->conf.p);

    /* PHC strings carry no base64 padding */

    src.data = job->new_salt;
    src.len = NGX_HTTP_NEXUS_SCRYPT_SALT_LEN;
    dst.data = p;
    ngx_encode_base64(&dst, &src);

    while (dst.len && dst.data[dst.len - 1] == '=') {
        dst.len--;
    }

    p += dst.len;
    *p++ = '$';

    src.data = job->key;
    src.len = NGX_HTTP_NEXUS_SCRYPT_KEY_LEN;
    dst.data = p;
    ngx_encode_base64(&dst, &src);

    while (dst.len && dst.data[dst.len - 1] == '=') {
        dst.len--;
    }

    p += dst.len;
    phc->len = p - phc->data;

    return phc;
}

#endif
