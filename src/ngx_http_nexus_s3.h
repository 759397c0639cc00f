/*
 * Object storage for product media: presigned S3 upload URLs and SigV4
 * signed requests (ngx_http_nexus_s3.c), and a small asynchronous client
 * that asks S3 whether an object is there (ngx_http_nexus_s3_client.c).
 */

#ifndef _NGX_HTTP_NEXUS_S3_H_INCLUDED_
#define _NGX_HTTP_NEXUS_S3_H_INCLUDED_


#include "ngx_http_nexus.h"


typedef struct {
    ngx_str_t                   bucket;
    ngx_str_t                   region;
    ngx_str_t                   endpoint;       /* as configured */
    ngx_str_t                   access_key;
    ngx_str_t                   secret_key;
    ngx_str_t                   public_url;     /* no trailing "/" */
    time_t                      upload_ttl;
    off_t                       max_upload_size;

    /* from the endpoint (or AWS's), at load */
    ngx_str_t                   scheme;         /* "http" or "https" */
    ngx_str_t                   host;           /* the Host header */
    ngx_str_t                   prefix;         /* "/bucket" or "" */

    /* where the module connects, resolved at load (naddrs 0: it failed) */
    ngx_str_t                   server_name;    /* the host, for SNI */
    ngx_addr_t                 *addrs;
    ngx_uint_t                  naddrs;
    ngx_msec_t                  timeout;        /* a whole HEAD exchange */
    ngx_str_t                   trusted_certificate;
#if (NGX_HTTP_SSL)
    ngx_ssl_t                  *ssl;            /* https endpoints */
#endif
} ngx_http_nexus_s3_conf_t;


/* what a HEAD request learnt; status 0: no answer (the log says why) */
typedef struct {
    ngx_uint_t                  status;
    off_t                       content_length; /* -1: none */
    ngx_str_t                   content_type;
    const char                 *error;
} ngx_http_nexus_s3_head_result_t;

typedef struct ngx_http_nexus_s3_head_s  ngx_http_nexus_s3_head_t;

/* called once, never from within ngx_http_nexus_s3_head() itself */
typedef void (*ngx_http_nexus_s3_head_pt)(void *data,
    ngx_http_nexus_s3_head_result_t *result);


/* which directive, in the offset member of its ngx_command_t */
#define NGX_HTTP_NEXUS_S3_BUCKET       0
#define NGX_HTTP_NEXUS_S3_REGION       1
#define NGX_HTTP_NEXUS_S3_ENDPOINT     2
#define NGX_HTTP_NEXUS_S3_ACCESS_KEY   3
#define NGX_HTTP_NEXUS_S3_SECRET_KEY   4
#define NGX_HTTP_NEXUS_S3_UPLOAD_TTL   5
#define NGX_HTTP_NEXUS_S3_MAX_SIZE     6
#define NGX_HTTP_NEXUS_S3_PUBLIC_URL   7
#define NGX_HTTP_NEXUS_S3_TIMEOUT      8
#define NGX_HTTP_NEXUS_S3_TRUSTED      9


char *ngx_http_nexus_s3_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_nexus_s3_init_conf(ngx_conf_t *cf,
    ngx_http_nexus_main_conf_t *nmcf);
ngx_int_t ngx_http_nexus_s3_presign(ngx_pool_t *pool,
    ngx_http_nexus_s3_conf_t *s3, ngx_str_t *key, time_t date,
    time_t expires, ngx_str_t *url);
ngx_int_t ngx_http_nexus_s3_head_request(ngx_pool_t *pool,
    ngx_http_nexus_s3_conf_t *s3, ngx_str_t *key, time_t date,
    ngx_str_t *request);

/* ngx_http_nexus_s3_client.c */
ngx_http_nexus_s3_head_t *ngx_http_nexus_s3_head(
    ngx_http_nexus_s3_conf_t *s3, ngx_str_t *key, ngx_log_t *log,
    ngx_http_nexus_s3_head_pt handler, void *data);
void ngx_http_nexus_s3_head_cancel(ngx_http_nexus_s3_head_t *head);


#endif /* _NGX_HTTP_NEXUS_S3_H_INCLUDED_ */
