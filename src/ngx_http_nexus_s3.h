/*
 * Object storage for product media: presigned S3 upload URLs
 * (ngx_http_nexus_s3.c).
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
} ngx_http_nexus_s3_conf_t;


/* which directive, in the offset member of its ngx_command_t */
#define NGX_HTTP_NEXUS_S3_BUCKET       0
#define NGX_HTTP_NEXUS_S3_REGION       1
#define NGX_HTTP_NEXUS_S3_ENDPOINT     2
#define NGX_HTTP_NEXUS_S3_ACCESS_KEY   3
#define NGX_HTTP_NEXUS_S3_SECRET_KEY   4
#define NGX_HTTP_NEXUS_S3_UPLOAD_TTL   5
#define NGX_HTTP_NEXUS_S3_MAX_SIZE     6
#define NGX_HTTP_NEXUS_S3_PUBLIC_URL   7


char *ngx_http_nexus_s3_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_nexus_s3_init_conf(ngx_conf_t *cf,
    ngx_http_nexus_main_conf_t *nmcf);
ngx_int_t ngx_http_nexus_s3_presign(ngx_pool_t *pool,
    ngx_http_nexus_s3_conf_t *s3, ngx_str_t *key, time_t date,
    time_t expires, ngx_str_t *url);


#endif /* _NGX_HTTP_NEXUS_S3_H_INCLUDED_ */
