/*
 * A small asynchronous S3 client in the event loop: "HEAD /bucket/key",
 * signed in the Authorization header (ngx_http_nexus_s3_head_request), on
 * a connection of its own to the address resolved at load, over TLS for
 * https endpoints (peer verified, SNI), with one deadline for the whole
 * exchange (nexus_s3_timeout). It reads the status line and the headers
 * and closes: completing an upload is rare, so no keepalive.
 *
 * Each HEAD has its own pool, so the caller's request may end first: the
 * caller then cancels it from a pool cleanup, which closes the connection
 * at once, and no callback follows. The callback never runs from within
 * ngx_http_nexus_s3_head(): failures found there are posted.
 */

#include "ngx_http_nexus.h"
#include "ngx_http_nexus_s3.h"


#define NGX_HTTP_NEXUS_S3_HEADERS_MAX  8192


struct ngx_http_nexus_s3_head_s {
    ngx_pool_t                       *pool;
    ngx_log_t                        *log;
    ngx_http_nexus_s3_conf_t         *s3;
    ngx_peer_connection_t             peer;

    /* the deadline; also posted to report a failure found early */
    ngx_event_t                       timer;

    ngx_str_t                         request;
    size_t                            sent;
    ngx_buf_t                        *buf;

    /* nginx's response parsers keep their state in a request */
    ngx_http_request_t               *parser;
    ngx_http_status_t                 status;

    ngx_http_nexus_s3_head_result_t   result;
    ngx_http_nexus_s3_head_pt         handler;
    void                             *data;

    unsigned                          connecting:1;
    unsigned                          headers:1;    /* status line read */
};


static void ngx_http_nexus_s3_fail_later(ngx_http_nexus_s3_head_t *head,
    const char *error);
static void ngx_http_nexus_s3_timer(ngx_event_t *ev);
static void ngx_http_nexus_s3_event(ngx_event_t *ev);
static ngx_int_t ngx_http_nexus_s3_test_connect(ngx_connection_t *c);
static void ngx_http_nexus_s3_process(ngx_http_nexus_s3_head_t *head);
static ngx_int_t ngx_http_nexus_s3_parse(ngx_http_nexus_s3_head_t *head);
static void ngx_http_nexus_s3_finish(ngx_http_nexus_s3_head_t *head,
    const char *error);
static void ngx_http_nexus_s3_close(ngx_http_nexus_s3_head_t *head);
#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_nexus_s3_ssl_start(ngx_http_nexus_s3_head_t *head,
    ngx_connection_t *c);
static void ngx_http_nexus_s3_ssl_handshaked(ngx_connection_t *c);
#endif


ngx_http_nexus_s3_head_t *
ngx_http_nexus_s3_head(ngx_http_nexus_s3_conf_t *s3, ngx_str_t *key,
    ngx_log_t *log, ngx_http_nexus_s3_head_pt handler, void *data)
{
    ngx_int_t                  rc;
    ngx_pool_t                *pool;
    ngx_connection_t          *c;
    ngx_http_nexus_s3_head_t  *head;

    pool = ngx_create_pool(2048, log);
    if (pool == NULL) {
        return NULL;
    }

    head = ngx_pcalloc(pool, sizeof(ngx_http_nexus_s3_head_t));
    if (head == NULL) {
        goto failed;
    }

    head->pool = pool;
    head->log = log;
    head->s3 = s3;
    head->handler = handler;
    head->data = data;
    head->result.content_length = -1;

    head->timer.handler = ngx_http_nexus_s3_timer;
    head->timer.data = head;
    head->timer.log = log;

    if (ngx_http_nexus_s3_head_request(pool, s3, key, ngx_time(),
                                       &head->request)
        != NGX_OK)
    {
        goto failed;
    }

    head->buf = ngx_create_temp_buf(pool, NGX_HTTP_NEXUS_S3_HEADERS_MAX);
    head->parser = ngx_pcalloc(pool, sizeof(ngx_http_request_t));

    if (head->buf == NULL || head->parser == NULL) {
        goto failed;
    }

    if (s3->naddrs == 0) {
        ngx_http_nexus_s3_fail_later(head, "its host did not resolve when "
                                     "the configuration was loaded");
        return head;
    }

    ngx_add_timer(&head->timer, s3->timeout);

    head->peer.sockaddr = s3->addrs[0].sockaddr;
    head->peer.socklen = s3->addrs[0].socklen;
    head->peer.name = &s3->addrs[0].name;
    head->peer.get = ngx_event_get_peer;
    head->peer.log = log;
    head->peer.log_error = NGX_ERROR_ERR;
    head->peer.tries = 1;

    rc = ngx_event_connect_peer(&head->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        /* the connection, if any, is closed already (and the cause logged) */
        head->peer.connection = NULL;
        ngx_http_nexus_s3_fail_later(head, "cannot connect");
        return head;
    }

    c = head->peer.connection;
    c->data = head;
    c->pool = pool;
    c->read->handler = ngx_http_nexus_s3_event;
    c->write->handler = ngx_http_nexus_s3_event;
    head->connecting = 1;

    if (rc == NGX_OK) {
        /* connected at once: go on from the event loop, not from here */
        ngx_post_event(c->write, &ngx_posted_events);
    }

    return head;

failed:

    ngx_destroy_pool(pool);
    return NULL;
}


/* the caller goes away: close everything, no callback */

void
ngx_http_nexus_s3_head_cancel(ngx_http_nexus_s3_head_t *head)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, head->log, 0,
                   "nexus: S3 HEAD cancelled");

    ngx_http_nexus_s3_close(head);
    ngx_destroy_pool(head->pool);
}


static void
ngx_http_nexus_s3_fail_later(ngx_http_nexus_s3_head_t *head,
    const char *error)
{
    if (head->timer.timer_set) {
        ngx_del_timer(&head->timer);
    }

    head->result.error = error;
    ngx_post_event(&head->timer, &ngx_posted_events);
}


static void
ngx_http_nexus_s3_timer(ngx_event_t *ev)
{
    ngx_http_nexus_s3_head_t *head = ev->data;

    ngx_http_nexus_s3_finish(head, head->result.error ? head->result.error
                                                      : "timed out");
}


static void
ngx_http_nexus_s3_event(ngx_event_t *ev)
{
    ngx_connection_t          *c;
    ngx_http_nexus_s3_head_t  *head;

    c = ev->data;
    head = c->data;

    if (head->connecting) {
        if (ngx_http_nexus_s3_test_connect(c) != NGX_OK) {
            ngx_http_nexus_s3_finish(head, "cannot connect");
            return;
        }

        head->connecting = 0;

#if (NGX_HTTP_SSL)
        if (head->s3->ssl) {
            if (ngx_http_nexus_s3_ssl_start(head, c) != NGX_OK) {
                ngx_http_nexus_s3_finish(head, "cannot start TLS");
            }

            return;
        }
#endif
    }

    ngx_http_nexus_s3_process(head);
}


static ngx_int_t
ngx_http_nexus_s3_test_connect(ngx_connection_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        (void) ngx_connection_error(c, err,
                                    "nexus: connect() to object storage "
                                    "failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


#if (NGX_HTTP_SSL)

static ngx_int_t
ngx_http_nexus_s3_ssl_start(ngx_http_nexus_s3_head_t *head,
    ngx_connection_t *c)
{
    u_char             *name;
    ngx_int_t           rc;
    ngx_str_t          *host;
    X509_VERIFY_PARAM  *param;

    if (ngx_ssl_create_connection(head->s3->ssl, c, NGX_SSL_CLIENT)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    host = &head->s3->server_name;

    /* "[::1]" is an address too */
    if (host->len > 2 && host->data[0] == '[') {
        name = ngx_pnalloc(head->pool, host->len - 1);
        if (name == NULL) {
            return NGX_ERROR;
        }

        ngx_cpystrn(name, host->data + 1, host->len - 1);

    } else {
        name = ngx_pnalloc(head->pool, host->len + 1);
        if (name == NULL) {
            return NGX_ERROR;
        }

        ngx_cpystrn(name, host->data, host->len + 1);
    }

    /* the certificate must name the host (or address) connected to */
    param = SSL_get0_param(c->ssl->connection);

    if (host->data[0] == '['
        || ngx_inet_addr(host->data, host->len) != INADDR_NONE)
    {
        rc = X509_VERIFY_PARAM_set1_ip_asc(param, (char *) name);

    } else {
        rc = X509_VERIFY_PARAM_set1_host(param, (char *) name, 0);

        /* SNI names a host, never an address */
        if (rc == 1
            && SSL_set_tlsext_host_name(c->ssl->connection, (char *) name)
               != 1)
        {
            rc = 0;
        }
    }

    if (rc != 1) {
        ngx_ssl_error(NGX_LOG_ERR, c->log, 0,
                      "nexus: cannot set the S3 host \"%V\" for TLS", host);
        return NGX_ERROR;
    }

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = ngx_http_nexus_s3_ssl_handshaked;
        return NGX_OK;
    }

    ngx_http_nexus_s3_ssl_handshaked(c);

    return NGX_OK;
}


static void
ngx_http_nexus_s3_ssl_handshaked(ngx_connection_t *c)
{
    long                       rc;
    ngx_http_nexus_s3_head_t  *head;

    head = c->data;

    if (!c->ssl->handshaked) {
        ngx_http_nexus_s3_finish(head, "the TLS handshake failed");
        return;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "nexus: the certificate of the S3 host \"%V\" does "
                      "not verify: (%l:%s)", &head->s3->server_name, rc,
                      X509_verify_cert_error_string(rc));
        ngx_http_nexus_s3_finish(head, "its certificate does not verify");
        return;
    }

    c->read->handler = ngx_http_nexus_s3_event;
    c->write->handler = ngx_http_nexus_s3_event;

    ngx_http_nexus_s3_process(head);
}

#endif


/* sends what is left of the request, then reads the answer's headers */

static void
ngx_http_nexus_s3_process(ngx_http_nexus_s3_head_t *head)
{
    ssize_t            n;
    ngx_int_t          rc;
    ngx_buf_t         *b;
    ngx_connection_t  *c;

    c = head->peer.connection;
    b = head->buf;

    while (head->sent < head->request.len) {
        n = c->send(c, head->request.data + head->sent,
                    head->request.len - head->sent);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_nexus_s3_finish(head, "cannot send");
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_nexus_s3_finish(head, "cannot send");
            return;
        }

        head->sent += n;
    }

    for ( ;; ) {
        if (b->last == b->end) {
            ngx_http_nexus_s3_finish(head, "its headers are too long");
            return;
        }

        n = c->recv(c, b->last, b->end - b->last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_nexus_s3_finish(head, "cannot read");
            }

            return;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_nexus_s3_finish(head, "it closed the connection "
                                     "before the headers ended");
            return;
        }

        b->last += n;

        rc = ngx_http_nexus_s3_parse(head);

        if (rc == NGX_OK) {
            ngx_http_nexus_s3_finish(head, NULL);
            return;
        }

        if (rc == NGX_ERROR) {
            ngx_http_nexus_s3_finish(head, "it answered something that is "
                                     "not HTTP");
            return;
        }
    }
}


/* NGX_OK once the headers ended, NGX_AGAIN for more, NGX_ERROR */

static ngx_int_t
ngx_http_nexus_s3_parse(ngx_http_nexus_s3_head_t *head)
{
    size_t               len;
    ngx_int_t            rc;
    ngx_str_t            value;
    ngx_buf_t           *b;
    ngx_http_request_t  *r;

    b = head->buf;
    r = head->parser;

    if (!head->headers) {
        rc = ngx_http_parse_status_line(r, b, &head->status);

        if (rc != NGX_OK) {
            return rc;
        }

        head->result.status = head->status.code;
        head->headers = 1;
    }

    for ( ;; ) {
        rc = ngx_http_parse_header_line(r, b, 1);

        if (rc == NGX_HTTP_PARSE_HEADER_DONE) {
            return NGX_OK;
        }

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }

        len = r->header_name_end - r->header_name_start;
        value.data = r->header_start;
        value.len = r->header_end - r->header_start;

        if (len == sizeof("Content-Length") - 1
            && ngx_strncasecmp(r->header_name_start, (u_char *) "Content-Length",
                               len) == 0)
        {
            head->result.content_length = ngx_atoof(value.data, value.len);
            if (head->result.content_length == NGX_ERROR) {
                return NGX_ERROR;
            }

        } else if (len == sizeof("Content-Type") - 1
                   && ngx_strncasecmp(r->header_name_start,
                                      (u_char *) "Content-Type", len) == 0)
        {
            /* in the buffer, which lives until the callback returns */
            head->result.content_type = value;
        }
    }
}


static void
ngx_http_nexus_s3_finish(ngx_http_nexus_s3_head_t *head, const char *error)
{
    if (error) {
        head->result.status = 0;
        head->result.error = error;
    }

    ngx_http_nexus_s3_close(head);

    head->handler(head->data, &head->result);

    ngx_destroy_pool(head->pool);
}


static void
ngx_http_nexus_s3_close(ngx_http_nexus_s3_head_t *head)
{
    ngx_connection_t  *c;

    if (head->timer.timer_set) {
        ngx_del_timer(&head->timer);
    }

    if (head->timer.posted) {
        ngx_delete_posted_event(&head->timer);
    }

    c = head->peer.connection;

    if (c == NULL) {
        return;
    }

    head->peer.connection = NULL;

#if (NGX_HTTP_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    ngx_close_connection(c);
}
